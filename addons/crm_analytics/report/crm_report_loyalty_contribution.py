from odoo import fields
from odoo import models
from odoo.tools import SQL


class CrmReportLoyaltyContribution(models.Model):
    """Sales with and without a loyalty program, side by side, by month.

    The figures of orders in a program are those of the program's contribution margin
    (``crm.loyalty.contribution``, from the points ledger and the liability's revenue lines):
    goods revenue and margin, rewards given (discounts and the cost of gifts), the change of
    the points' liability, and the points earned (pending included, net of reversals). The
    other confirmed orders bring their revenue and margin only, so the share of sales made
    with a program and its contribution can be compared with the rest.
    """

    _name = "crm.report.loyalty.contribution"
    _description = "Loyalty Program Contribution"
    _auto = False
    _order = "date desc"
    _depends = {
        # and, through it, what the program's contribution reads
        "crm.loyalty.contribution": [],
        "sale.order": [
            "state",
            "company_id",
            "date_order",
            "amount_untaxed",
            "margin",
            "currency_rate",
        ],
        "sale.order.line": ["order_id", "reward_id", "price_subtotal"],
        "sale.order.coupon.points": ["order_id", "coupon_id", "points"],
        "loyalty.card": ["program_id"],
        "loyalty.reward": ["program_id"],
    }

    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    date = fields.Date(readonly=True)
    program_id = fields.Many2one("loyalty.program", "Program", readonly=True)
    with_program = fields.Selection(
        [("with", "With a loyalty program"), ("without", "Without a program")],
        string="Loyalty",
        readonly=True,
    )
    order_id = fields.Many2one("sale.order", "Order", readonly=True)
    move_id = fields.Many2one(
        "account.move",
        "Journal Entry",
        readonly=True,
        groups="account.group_account_invoice,crm_loyalty.group_manager",
    )
    revenue = fields.Monetary(currency_field="currency_id", readonly=True)
    margin = fields.Monetary(currency_field="currency_id", readonly=True)
    reward_amount = fields.Monetary(
        "Rewards Given",
        currency_field="currency_id",
        readonly=True,
        help="Discounts given and cost of the gifts.",
    )
    # the accounting side: accountants' and loyalty managers'
    liability_change = fields.Monetary(
        "Change in Points Liability",
        currency_field="currency_id",
        readonly=True,
        groups="account.group_account_invoice,crm_loyalty.group_manager",
    )
    contribution = fields.Monetary(
        "Contribution Margin",
        currency_field="currency_id",
        readonly=True,
        groups="account.group_account_invoice,crm_loyalty.group_manager",
    )
    points_earned = fields.Float(digits=(16, 2), readonly=True)
    order_count = fields.Integer("Orders", readonly=True)

    @property
    def _table_query(self):
        contribution = self.env["crm.loyalty.contribution"]._table_query
        return SQL(
            """
            WITH contribution AS (%s),
            other AS (
                SELECT so.id AS order_id,
                       COALESCE(
                           (SELECT MIN(rw.program_id) FROM sale_order_line sol
                              JOIN loyalty_reward rw ON rw.id = sol.reward_id
                             WHERE sol.order_id = so.id),
                           (SELECT MIN(card.program_id) FROM sale_order_coupon_points cp
                              JOIN loyalty_card card ON card.id = cp.coupon_id
                             WHERE cp.order_id = so.id)) AS program_id,
                       (SELECT COALESCE(-SUM(price_subtotal), 0) FROM sale_order_line
                         WHERE order_id = so.id AND reward_id IS NOT NULL) AS reward_amount,
                       (SELECT COALESCE(SUM(price_subtotal), 0) FROM sale_order_line
                         WHERE order_id = so.id AND reward_id IS NULL) AS goods,
                       (SELECT COALESCE(SUM(points), 0) FROM sale_order_coupon_points
                         WHERE order_id = so.id) AS points
                  FROM sale_order so
                 WHERE EXISTS (SELECT 1 FROM sale_order_line
                                WHERE order_id = so.id AND reward_id IS NOT NULL)
                    OR EXISTS (SELECT 1 FROM sale_order_coupon_points WHERE order_id = so.id)
            )
            SELECT ROW_NUMBER() OVER (ORDER BY rows.date, rows.order_id, rows.move_id,
                                             rows.program_id) AS id,
                   rows.*
              FROM (
                SELECT c.company_id, c.currency_id, c.date, c.program_id,
                       'with' AS with_program, c.order_id, c.move_id, c.revenue,
                       c.goods_margin AS margin, c.gift_cost + c.discount AS reward_amount,
                       c.liability_change, c.contribution, c.points_earned, c.order_count
                  FROM contribution c
                 UNION ALL
                SELECT so.company_id, comp.currency_id, so.date_order::date, NULL,
                       'without', so.id, NULL,
                       so.amount_untaxed / COALESCE(NULLIF(so.currency_rate, 0), 1),
                       COALESCE(so.margin, 0) / COALESCE(NULLIF(so.currency_rate, 0), 1),
                       0, 0,
                       COALESCE(so.margin, 0) / COALESCE(NULLIF(so.currency_rate, 0), 1),
                       0, 1
                  FROM sale_order so
                  JOIN res_company comp ON comp.id = so.company_id
                 WHERE so.state = 'sale'
                   AND NOT EXISTS (SELECT 1 FROM contribution c WHERE c.order_id = so.id)
                   AND NOT EXISTS (SELECT 1 FROM other o WHERE o.order_id = so.id)
                 UNION ALL
                -- orders of programs without a points ledger (promotions, coupons): their
                -- program and discounts from Odoo's own records
                SELECT so.company_id, comp.currency_id, so.date_order::date, o.program_id,
                       'with', so.id, NULL,
                       o.goods / COALESCE(NULLIF(so.currency_rate, 0), 1),
                       COALESCE(so.margin, 0) / COALESCE(NULLIF(so.currency_rate, 0), 1)
                           + o.reward_amount / COALESCE(NULLIF(so.currency_rate, 0), 1),
                       o.reward_amount / COALESCE(NULLIF(so.currency_rate, 0), 1),
                       0,
                       COALESCE(so.margin, 0) / COALESCE(NULLIF(so.currency_rate, 0), 1),
                       o.points, 1
                  FROM other o
                  JOIN sale_order so ON so.id = o.order_id AND so.state = 'sale'
                  JOIN res_company comp ON comp.id = so.company_id
                 WHERE NOT EXISTS (SELECT 1 FROM contribution c WHERE c.order_id = so.id)
              ) rows
            """,
            contribution,
        )
