from odoo import fields
from odoo import models
from odoo.tools import SQL

from odoo.addons.crm_analytics.models.crm_customer_score import CHURN_BANDS
from odoo.addons.crm_analytics.models.crm_customer_score import RFM_SEGMENTS


class CrmReportSegmentRevenue(models.Model):
    """Revenue and margin of confirmed orders per month and customer segment.

    ``segment_id`` is the customer's segment (crm_relationship) at the order date: the last
    change recorded in the segment history on or before it, else the current segment. The
    RFM segment is the customer's current one (crm.customer.score); orders of customers not
    scored yet fall under an empty segment.
    """

    _name = "crm.report.segment.revenue"
    _description = "Revenue and Margin per Segment"
    _auto = False
    _order = "date desc"
    _depends = {
        "sale.order": [
            "state",
            "company_id",
            "partner_id",
            "date_order",
            "amount_untaxed",
            "margin",
            "currency_rate",
        ],
        "res.partner": ["commercial_partner_id"],
        "crm.customer.score": ["partner_id", "company_id", "rfm_segment", "churn_band"],
        "crm.customer.metric": ["partner_id", "company_id", "segment_id"],
        "crm.customer.segment.history": ["partner_id", "company_id", "new_segment_id", "date"],
    }

    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    partner_id = fields.Many2one("res.partner", "Customer", readonly=True)
    date = fields.Date("Order Date", readonly=True)
    segment_id = fields.Many2one("crm.customer.segment", "Segment", readonly=True)
    rfm_segment = fields.Selection(RFM_SEGMENTS, "RFM Segment", readonly=True)
    churn_band = fields.Selection(CHURN_BANDS, "Churn Risk Band", readonly=True)
    revenue = fields.Monetary(currency_field="currency_id", readonly=True)
    margin = fields.Monetary(currency_field="currency_id", readonly=True)
    order_count = fields.Integer("Orders", readonly=True)

    @property
    def _table_query(self):
        return SQL(
            """
            SELECT o.order_id AS id, o.company_id, c.currency_id, o.partner_id, o.day AS date,
                   COALESCE(h.new_segment_id, m.segment_id) AS segment_id,
                   s.rfm_segment, s.churn_band,
                   o.amount AS revenue, o.margin, 1 AS order_count
              FROM (%s) AS o
              JOIN res_company c ON c.id = o.company_id
              LEFT JOIN crm_customer_score s
                ON s.partner_id = o.partner_id AND s.company_id = o.company_id
              LEFT JOIN crm_customer_metric m
                ON m.partner_id = o.partner_id AND m.company_id = o.company_id
              LEFT JOIN LATERAL (
                    SELECT sh.new_segment_id
                      FROM crm_customer_segment_history sh
                     WHERE sh.partner_id = o.partner_id
                       AND sh.company_id = o.company_id
                       AND sh.date <= o.date_order
                     ORDER BY sh.date DESC, sh.id DESC
                     LIMIT 1
                ) h ON TRUE
            """,
            self.env["crm.customer.facts"]._order_rows(),
        )
