from odoo import fields
from odoo import models
from odoo.tools import SQL


class CrmReportLoyaltyContribution(models.Model):
    """Share of sales made with a loyalty program, from core sale_loyalty data.

    Each confirmed order belongs to at most one program: the first one (lowest id) whose
    reward it used or whose points it earned; the other orders have no program. Comparing
    revenue and margin with and without a program shows the program's contribution; the
    reward amount is the discount given (contra-revenue) and points the points earned.
    """

    _name = "crm.report.loyalty.contribution"
    _description = "Loyalty Program Contribution"
    _auto = False
    _order = "date desc"
    _depends = {
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
    date = fields.Date("Order Date", readonly=True)
    program_id = fields.Many2one("loyalty.program", "Program", readonly=True)
    with_program = fields.Boolean("With a Program", readonly=True)
    revenue = fields.Monetary(currency_field="currency_id", readonly=True)
    margin = fields.Monetary(currency_field="currency_id", readonly=True)
    reward_amount = fields.Monetary("Rewards Given", currency_field="currency_id", readonly=True)
    points_earned = fields.Float(readonly=True)
    order_count = fields.Integer("Orders", readonly=True)

    @property
    def _table_query(self):
        return SQL(
            """
            WITH used AS (
                SELECT l.order_id, min(r.program_id) AS program_id,
                       -sum(l.price_subtotal) AS reward_amount
                  FROM sale_order_line l
                  JOIN loyalty_reward r ON r.id = l.reward_id
                 GROUP BY l.order_id
            ), earned AS (
                SELECT cp.order_id, min(card.program_id) AS program_id,
                       sum(cp.points) AS points
                  FROM sale_order_coupon_points cp
                  JOIN loyalty_card card ON card.id = cp.coupon_id
                 GROUP BY cp.order_id
            )
            SELECT so.id AS id, so.company_id, c.currency_id,
                   so.date_order::date AS date,
                   COALESCE(least(u.program_id, e.program_id), u.program_id, e.program_id)
                       AS program_id,
                   (u.order_id IS NOT NULL OR e.order_id IS NOT NULL) AS with_program,
                   so.amount_untaxed / COALESCE(NULLIF(so.currency_rate, 0), 1) AS revenue,
                   COALESCE(so.margin, 0) / COALESCE(NULLIF(so.currency_rate, 0), 1) AS margin,
                   COALESCE(u.reward_amount, 0) / COALESCE(NULLIF(so.currency_rate, 0), 1)
                       AS reward_amount,
                   COALESCE(e.points, 0) AS points_earned,
                   1 AS order_count
              FROM sale_order so
              JOIN res_company c ON c.id = so.company_id
              LEFT JOIN used u ON u.order_id = so.id
              LEFT JOIN earned e ON e.order_id = so.id
             WHERE so.state = 'sale'
            """
        )
