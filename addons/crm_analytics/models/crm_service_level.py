from odoo import fields
from odoo import models

from .crm_customer_score import RFM_SEGMENTS


class CrmServiceLevel(models.Model):
    """How well a customer is served, chosen from their value (CLV band or segment)."""

    _name = "crm.service.level"
    _description = "Customer Service Level"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    priority = fields.Selection(
        [("0", "Normal"), ("1", "Good"), ("2", "Very Good"), ("3", "Excellent")],
        default="0",
        required=True,
        help="Priority given to the new opportunities of customers at this level.",
    )
    min_clv = fields.Monetary(
        "Minimum CLV",
        currency_field="currency_id",
        help="Customers whose lifetime value reaches this amount get this level.",
    )
    rfm_segment = fields.Selection(
        RFM_SEGMENTS,
        "RFM Segment",
        help="When set, only customers of this RFM segment get this level.",
    )
    segment_id = fields.Many2one(
        "crm.customer.segment",
        "Customer Segment",
        check_company=True,
        help="When set, only customers currently in this segment get this level.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")

    _min_clv_positive = models.Constraint(
        "CHECK (min_clv >= 0)", "The minimum lifetime value of a service level cannot be negative."
    )

    def _match(self, score, segment=None):
        """First level of ``self`` (searched, so in sequence order) whose criteria the score
        meets, or none.

        A level matches when the customer's CLV reaches its minimum and, if the level names an
        RFM segment or a customer segment (``segment``, from crm_relationship), the customer
        is in it.
        """
        for level in self:
            if level.company_id != score.company_id or score.clv < level.min_clv:
                continue
            if level.rfm_segment and level.rfm_segment != score.rfm_segment:
                continue
            if level.segment_id and level.segment_id != segment:
                continue
            return level
        return self.browse()
