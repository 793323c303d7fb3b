from odoo import fields
from odoo import models


class CrmCustomerSegmentHistory(models.Model):
    """One change of a customer's segment in a company (append-only).

    Written by the classification (reason 'rule') and by managers' pins (reason 'manual'),
    so that migrations between segments can be counted over time.
    """

    _name = "crm.customer.segment.history"
    _description = "Customer Segment History"
    _order = "date desc, id desc"
    _rec_name = "partner_id"
    # append-only and written in bulk: `date` and `user_id` say when and who, so the four
    # create/write columns (and their foreign keys) would only slow the classification down
    _log_access = False

    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    old_segment_id = fields.Many2one(
        "crm.customer.segment", string="From Segment", readonly=True, ondelete="restrict"
    )
    new_segment_id = fields.Many2one(
        "crm.customer.segment", string="To Segment", readonly=True, ondelete="restrict"
    )
    date = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    reason = fields.Selection(
        [("rule", "Rule"), ("manual", "Manual pin")], required=True, readonly=True
    )
    note = fields.Char(string="Why", readonly=True)
    user_id = fields.Many2one("res.users", string="By", readonly=True)
