from odoo import fields
from odoo import models
from odoo.tools import SQL


class CrmLoyaltyContribution(models.Model):
    """Contribution margin of the loyalty programs, in the company currency.

    Two kinds of rows, by program, customer (commercial partner), segment and day:

    - an order that earned or used the program's points (from its ledger), or got one of its
      rewards (a promotion's discount, a gift with purchase): the margin of its
      goods (``sale_margin``, reward lines excluded), the cost of the gifts and the discounts
      its rewards of this program gave;
    - a revenue line of the program's liability (IFRS 15): the change of the liability,
      deferred revenue being a cost of the period and released revenue a gain.

    contribution = goods margin - gift cost - discounts - liability change. Each row names
    its order or its journal entry, so a figure drills down to the documents.
    """

    _name = "crm.loyalty.contribution"
    _description = "Loyalty Contribution Margin"
    _auto = False
    _order = "date desc"
    _depends = {
        "crm.loyalty.ledger": ["program_id", "source_model", "source_id", "kind", "state"],
        "crm.loyalty.revenue.line": [
            "program_id",
            "company_id",
            "partner_id",
            "date",
            "move_id",
            "amount",
            "kind",
        ],
        "sale.order": ["state", "company_id", "partner_id", "date_order", "currency_rate"],
        "sale.order.line": [
            "order_id",
            "reward_id",
            "price_subtotal",
            "margin",
            "purchase_price",
            "product_uom_qty",
        ],
        "loyalty.reward": ["program_id", "reward_type"],
        "loyalty.program": ["program_type"],
        "crm.customer.metric": ["segment_id"],
    }

    program_id = fields.Many2one("loyalty.program", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    partner_id = fields.Many2one("res.partner", "Customer", readonly=True)
    segment_id = fields.Many2one("crm.customer.segment", "Segment", readonly=True)
    date = fields.Date(readonly=True)
    origin = fields.Selection([("order", "Order"), ("liability", "Liability Entry")], readonly=True)
    order_id = fields.Many2one("sale.order", "Order", readonly=True)
    move_id = fields.Many2one("account.move", "Journal Entry", readonly=True)
    revenue = fields.Monetary("Goods Revenue", readonly=True)
    goods_margin = fields.Monetary(readonly=True)
    gift_cost = fields.Monetary("Cost of Gifts", readonly=True)
    discount = fields.Monetary("Discounts Given", readonly=True)
    liability_change = fields.Monetary(
        "Change in Liability",
        readonly=True,
        help="Revenue deferred (positive) or released (negative) on the program's points.",
    )
    contribution = fields.Monetary("Contribution Margin", readonly=True)
    points_earned = fields.Float(
        digits=(16, 2),
        readonly=True,
        help="Points the order earned in the program, pending ones included, net of reversals.",
    )
    order_count = fields.Integer("Orders", readonly=True)

    @property
    def _table_query(self):
        return SQL(
            """
            WITH touched AS (
                -- orders that earned or used a points program (rank 0), or got a reward of
                -- any other program: promotions, gifts with purchase (rank 1)
                SELECT program_id, order_id, MIN(rank) AS rank
                  FROM (SELECT l.program_id, l.source_id AS order_id, 0 AS rank
                          FROM crm_loyalty_ledger l
                         WHERE l.source_model = 'sale.order' AND l.kind IN ('earn', 'redeem')
                           AND l.state != 'cancelled'
                         UNION ALL
                        SELECT rw.program_id, sol.order_id, 1
                          FROM sale_order_line sol
                          JOIN loyalty_reward rw ON rw.id = sol.reward_id
                          JOIN loyalty_program lp ON lp.id = rw.program_id
                         -- gift cards and eWallets are a way of paying, not a reward
                         WHERE lp.program_type NOT IN ('gift_card', 'ewallet')) t
              GROUP BY program_id, order_id
            ), orders AS (
                SELECT t.program_id, MIN(t.rank) AS rank, so.id AS order_id, so.company_id,
                       p.commercial_partner_id AS partner_id, so.date_order::date AS date,
                       COALESCE(NULLIF(so.currency_rate, 0), 1) AS rate,
                       SUM(sol.price_subtotal) FILTER (WHERE sol.reward_id IS NULL) AS revenue,
                       SUM(sol.margin) FILTER (WHERE sol.reward_id IS NULL) AS margin,
                       SUM(sol.purchase_price * sol.product_uom_qty) FILTER (
                           WHERE rw.program_id = t.program_id AND rw.reward_type = 'product')
                           AS gift_cost,
                       -SUM(sol.price_subtotal) FILTER (
                           WHERE rw.program_id = t.program_id AND rw.reward_type != 'product')
                           AS discount
                  FROM touched t
                  JOIN sale_order so ON so.id = t.order_id AND so.state = 'sale'
                  JOIN res_partner p ON p.id = so.partner_id
                  JOIN sale_order_line sol ON sol.order_id = so.id
             LEFT JOIN loyalty_reward rw ON rw.id = sol.reward_id
              GROUP BY t.program_id, so.id, p.commercial_partner_id
            ), earned AS (
                SELECT e.program_id, e.source_id AS order_id,
                       SUM(e.points + COALESCE(r.points, 0)) AS points
                  FROM crm_loyalty_ledger e
             LEFT JOIN (SELECT origin_id, SUM(points) AS points FROM crm_loyalty_ledger
                         WHERE kind = 'reverse' AND state != 'cancelled'
                      GROUP BY origin_id) r ON r.origin_id = e.id
                 WHERE e.kind = 'earn' AND e.source_model = 'sale.order'
                   AND e.state != 'cancelled'
              GROUP BY e.program_id, e.source_id
            ), rows AS (
                SELECT o.program_id, o.company_id, o.partner_id, o.date, 'order' AS origin,
                       o.order_id, NULL::integer AS move_id,
                       -- an order in two programs counts its goods once: in its first
                       -- points program, else its first promotion
                       CASE WHEN o.program_id = FIRST_VALUE(o.program_id) OVER w
                            THEN COALESCE(o.revenue, 0) / o.rate ELSE 0 END AS revenue,
                       CASE WHEN o.program_id = FIRST_VALUE(o.program_id) OVER w
                            THEN COALESCE(o.margin, 0) / o.rate ELSE 0 END AS goods_margin,
                       COALESCE(o.gift_cost, 0) / o.rate AS gift_cost,
                       COALESCE(o.discount, 0) / o.rate AS discount,
                       0 AS liability_change, COALESCE(pe.points, 0) AS points_earned,
                       CASE WHEN o.program_id = FIRST_VALUE(o.program_id) OVER w
                            THEN 1 ELSE 0 END AS order_count
                  FROM orders o
             LEFT JOIN earned pe ON pe.program_id = o.program_id AND pe.order_id = o.order_id
                WINDOW w AS (PARTITION BY o.order_id ORDER BY o.rank, o.program_id)
                 UNION ALL
                SELECT r.program_id, r.company_id, p.commercial_partner_id, r.date, 'liability',
                       NULL, r.move_id, 0, 0, 0, 0, SUM(r.amount), 0, 0
                  FROM crm_loyalty_revenue_line r
             LEFT JOIN res_partner p ON p.id = r.partner_id
                 -- the opening is a transition to retained earnings, not this period's
                 WHERE r.kind NOT IN ('reward_cost', 'opening')
              GROUP BY r.program_id, r.company_id, p.commercial_partner_id, r.date, r.move_id
            )
            SELECT ROW_NUMBER() OVER (ORDER BY rows.date, rows.order_id, rows.move_id,
                                             rows.program_id, rows.partner_id)
                       AS id,
                   rows.program_id, rows.company_id, c.currency_id, rows.partner_id,
                   m.segment_id, rows.date, rows.origin, rows.order_id, rows.move_id,
                   rows.revenue, rows.goods_margin, rows.gift_cost, rows.discount,
                   rows.liability_change,
                   rows.goods_margin - rows.gift_cost - rows.discount - rows.liability_change
                       AS contribution,
                   rows.points_earned, rows.order_count
              FROM rows
              JOIN res_company c ON c.id = rows.company_id
         LEFT JOIN crm_customer_metric m
                ON m.partner_id = rows.partner_id AND m.company_id = rows.company_id
            """
        )

    def action_open_document(self):
        self.ensure_one()
        record = self.order_id or self.move_id
        return record._get_records_action() if record else False
