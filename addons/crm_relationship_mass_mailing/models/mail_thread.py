from odoo import api
from odoo import models
from odoo import tools


class MailThread(models.AbstractModel):
    _inherit = "mail.thread"

    @api.model
    def _message_route_process(self, message, message_dict, routes):
        """A reply to a campaign mail becomes the inbound interaction of its trace: the one
        logged for the posted message when it landed on a customer's document, else a new
        one (crm.interaction._log_campaign_replies)."""
        traces = self.env["mailing.trace"]
        if routes:
            references = message_dict.get("references") or message_dict.get("in_reply_to") or ""
            message_ids = tools.mail.mail_header_msgid_re.findall(references)
            if message_ids:
                # sudo: the mail gateway marks these traces replied itself (mass_mailing);
                # they are only read to log the reply
                traces = traces.sudo().search(
                    [("message_id", "in", message_ids), ("trace_type", "=", "mail")]
                )
        result = super()._message_route_process(message, message_dict, routes)
        if traces:
            self.env["crm.interaction"]._log_campaign_replies(
                traces, message_dict.get("message_id")
            )
        return result
