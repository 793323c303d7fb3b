from odoo import api
from odoo import fields
from odoo import models

from odoo.addons.crm_relationship.models.crm_interaction import LOGGED_MODELS


class CrmInteraction(models.Model):
    """Campaign mails are interactions: a mail that reached a customer is an outbound e-mail,
    a reply an inbound one, each linked to its mailing trace and logged once per trace and
    direction (`_mailing_trace_direction_uniq`). Opens and clicks are not contacts of their
    own: they update the send's interaction (`mailing_opened_on`, `mailing_clicked_on`)."""

    _inherit = "crm.interaction"

    origin = fields.Selection(
        selection_add=[("campaign", "Campaign")], ondelete={"campaign": "set default"}
    )
    mailing_trace_id = fields.Many2one(
        "mailing.trace", string="Mailing Trace", readonly=True, ondelete="set null", copy=False
    )
    mailing_id = fields.Many2one(
        "mailing.mailing",
        string="Mailing",
        related="mailing_trace_id.mass_mailing_id",
        store=True,
        index="btree_not_null",
    )
    mailing_opened_on = fields.Datetime(
        string="Opened On",
        compute="_compute_mailing_activity",
        store=True,
        help="When the customer opened the campaign mail (sends only).",
    )
    mailing_clicked_on = fields.Datetime(
        string="Clicked On",
        compute="_compute_mailing_activity",
        store=True,
        help="When the customer last clicked a link of the campaign mail (sends only).",
    )

    _mailing_trace_direction_uniq = models.UniqueIndex(
        "(mailing_trace_id, direction) WHERE mailing_trace_id IS NOT NULL",
        "This campaign mail is already logged as an interaction.",
    )

    @api.depends(
        "direction", "mailing_trace_id.open_datetime", "mailing_trace_id.links_click_datetime"
    )
    def _compute_mailing_activity(self):
        for interaction in self:
            trace = interaction.mailing_trace_id
            send = interaction.direction == "outbound" and trace
            interaction.mailing_opened_on = send and trace.open_datetime
            interaction.mailing_clicked_on = send and trace.links_click_datetime

    @api.model
    def _campaign_values(self, traces):
        """{trace: values of an interaction for that campaign mail}, for the traces whose
        record is a customer document with a customer (not a mailing contact); one read of
        the records per model."""
        existing = {}
        for model in set(traces.mapped("model")) & LOGGED_MODELS.keys():
            ids = traces.filtered(lambda t, m=model: t.model == m).mapped("res_id")
            existing[model] = set(self.env[model].sudo().browse(ids).exists().ids)
        result = {}
        for trace in traces:
            if trace.res_id not in existing.get(trace.model, ()):
                continue
            values = self._document_values(self.env[trace.model].sudo().browse(trace.res_id))
            if not values:
                continue
            mailing = trace.mass_mailing_id
            if mailing.crm_segment_id:
                values["company_id"] = mailing.crm_segment_id.company_id.id
            result[trace] = {
                **values,
                "channel": "email",
                "origin": "campaign",
                "mailing_trace_id": trace.id,
                "subject": mailing.subject or mailing.name or False,
            }
        return result

    @api.model
    def _log_campaign_sends(self, traces):
        """One outbound interaction per campaign mail that reached a customer (the traces
        already logged are skipped)."""
        # sudo: logging is the system's, run by whoever sends (the mail queue, a marketing
        # user); like the logging of chatter messages it only mirrors what was sent.
        Interaction = self.sudo()
        traces = traces.sudo()
        logged = Interaction.search(
            [("mailing_trace_id", "in", traces.ids), ("direction", "=", "outbound")]
        ).mailing_trace_id
        vals_list = [
            {
                **values,
                "direction": "outbound",
                "date": trace.sent_datetime or fields.Datetime.now(),
                "user_id": trace.mass_mailing_id.user_id.id,
            }
            for trace, values in self._campaign_values(traces - logged).items()
        ]
        return Interaction._create_without_chatter_note(vals_list)

    @api.model
    def _log_campaign_replies(self, traces, message_id):
        """The reply `message_id` (an e-mail Message-ID) to the campaign mails `traces` is
        the inbound interaction of each trace: the interaction already logged for the posted
        message of the same customer gets the trace, otherwise one is created. A trace keeps
        its first reply; later replies are logged as the e-mails they are."""
        # sudo: called by the mail gateway, which marked these traces replied itself; see
        # _log_campaign_sends
        Interaction = self.sudo()
        traces = traces.sudo().filtered(lambda t: t.trace_status == "reply" and not t.is_test_trace)
        if not traces:
            return Interaction
        messages = (
            self.env["mail.message"].sudo().search([("message_id", "=", message_id)])
            if message_id
            else self.env["mail.message"]
        )
        posted = Interaction.search(
            [("mail_message_id", "in", messages.ids), ("direction", "=", "inbound")]
        )
        replied = Interaction.search(
            [("mailing_trace_id", "in", traces.ids), ("direction", "=", "inbound")]
        ).mailing_trace_id
        result = Interaction
        for trace, values in self._campaign_values(traces - replied).items():
            same = posted.filtered(
                lambda i, p=values["partner_id"]: i.partner_id.id == p and not i.mailing_trace_id
            )[:1]
            if same:
                same.mailing_trace_id = trace
                result |= same
                continue
            unlogged = messages - posted.mail_message_id - result.mail_message_id
            result |= Interaction._create_without_chatter_note(
                {
                    **values,
                    "direction": "inbound",
                    "date": trace.reply_datetime or fields.Datetime.now(),
                    "mail_message_id": unlogged[:1].id,
                }
            )
        return result
