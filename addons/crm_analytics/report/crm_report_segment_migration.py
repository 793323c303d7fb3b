from odoo import fields
from odoo import models
from odoo.tools import SQL


class CrmReportSegmentMigration(models.Model):
    """Segment migration matrix: moves of customers between segments, from the history.

    One row per recorded change (crm.customer.segment.history of crm_relationship); the pivot
    puts the segment left in rows and the segment reached in columns, counting customers.
    """

    _name = "crm.report.segment.migration"
    _description = "Customer Segment Migration"
    _auto = False
    _order = "date desc"
    _depends = {
        "crm.customer.segment.history": [
            "partner_id",
            "company_id",
            "old_segment_id",
            "new_segment_id",
            "date",
            "reason",
        ],
    }

    company_id = fields.Many2one("res.company", readonly=True)
    partner_id = fields.Many2one("res.partner", "Customer", readonly=True)
    date = fields.Date(readonly=True)
    old_segment_id = fields.Many2one("crm.customer.segment", "From Segment", readonly=True)
    new_segment_id = fields.Many2one("crm.customer.segment", "To Segment", readonly=True)
    reason = fields.Selection([("rule", "Rule"), ("manual", "Manual pin")], readonly=True)
    customer_count = fields.Integer("Customers", readonly=True)

    @property
    def _table_query(self):
        return SQL(
            """
            SELECT h.id, h.company_id, h.partner_id, h.date::date AS date,
                   h.old_segment_id, h.new_segment_id, h.reason, 1 AS customer_count
              FROM crm_customer_segment_history h
            """
        )
