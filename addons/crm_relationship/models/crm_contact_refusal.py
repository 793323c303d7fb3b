from odoo import fields
from odoo import models

from .crm_interaction import CHANNELS

REFUSAL_REASONS = [
    ("opted_out", "Opted Out"),
    ("blacklisted", "Blacklisted"),
    ("no_address", "No Address"),
]


class CrmContactRefusal(models.Model):
    """An outbound send that was not made, and why: every send asks
    res.partner._crm_can_contact, which writes one row per refused partner, so that a refusal
    is counted rather than silently dropped."""

    _name = "crm.contact.refusal"
    _description = "Refused Send"
    _order = "date desc, id desc"
    _rec_name = "purpose"

    partner_id = fields.Many2one(
        "res.partner", string="Contact", required=True, index=True, ondelete="cascade"
    )
    channel = fields.Selection(CHANNELS, required=True)
    reason = fields.Selection(REFUSAL_REASONS, required=True)
    purpose = fields.Selection(
        [
            ("birthday", "Birthday Greeting"),
            ("campaign", "Campaign"),
            ("reminder", "Reminder"),
            ("other", "Other"),
        ],
        required=True,
        default="other",
        help="What was to be sent.",
    )
    date = fields.Datetime(required=True, default=fields.Datetime.now, index=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
