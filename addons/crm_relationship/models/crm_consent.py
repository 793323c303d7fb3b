from odoo import api
from odoo import fields
from odoo import models

CONSENT_CHANNELS = [
    ("email", "E-mail"),
    ("phone", "Phone"),
    ("sms", "SMS"),
    ("letter", "Letter"),
]
CONSENT_SOURCES = [("form", "Form"), ("phone", "Phone"), ("portal", "Portal")]


class CrmConsent(models.Model):
    """Whether a person accepts being contacted on a channel, since when and who said so.

    One row per partner and channel. No row means no objection: Odoo's blacklist and the
    partner's address still apply (see res.partner._crm_can_contact). A contact's own row wins
    over their company's; without one, the company's opt-out covers its contacts.
    """

    _name = "crm.consent"
    _description = "Contact Consent"
    _order = "partner_id, channel"
    _rec_name = "channel"

    partner_id = fields.Many2one(
        "res.partner", string="Contact", required=True, index=True, ondelete="cascade"
    )
    channel = fields.Selection(CONSENT_CHANNELS, required=True)
    opt_in = fields.Boolean(string="Opted In", default=True)
    date = fields.Datetime(required=True, default=fields.Datetime.now)
    source = fields.Selection(CONSENT_SOURCES, required=True, default="form")

    _partner_channel_uniq = models.UniqueIndex(
        "(partner_id, channel)", "A contact has one consent per channel."
    )

    def write(self, vals):
        if "opt_in" in vals and "date" not in vals:
            vals = dict(vals, date=fields.Datetime.now())
        return super().write(vals)

    @api.model
    def _set_consent(self, partner, channel, opt_in, source):
        """Record `partner`'s choice for `channel` (creating or updating its row) and return
        the row. Callers check that the user may change this partner's consent."""
        consent = self.search([("partner_id", "=", partner.id), ("channel", "=", channel)])
        if consent:
            if consent.opt_in != opt_in:
                consent.write({"opt_in": opt_in, "source": source})
            return consent
        return self.create(
            {"partner_id": partner.id, "channel": channel, "opt_in": opt_in, "source": source}
        )
