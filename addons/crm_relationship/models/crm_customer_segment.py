from odoo import fields
from odoo import models


class CrmCustomerSegment(models.Model):
    """A class of customers defined by explicit criteria ("Premium": over 1,000,000 a year)."""

    _name = "crm.customer.segment"
    _description = "Customer Segment"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    color = fields.Integer()
    active = fields.Boolean(default=True)
    description = fields.Text(translate=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )

    _name_company_uniq = models.UniqueIndex(
        "(company_id, name)", "A segment with this name already exists in this company."
    )
