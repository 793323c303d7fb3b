from odoo import models

from .mailing_mailing import REACHED_STATES


class MailingTrace(models.Model):
    _inherit = "mailing.trace"

    def _crm_log_sends(self):
        """Log the campaign mails of `self` that reached their recipient as outbound
        interactions (once per trace: crm.interaction._log_campaign_sends)."""
        reached = self.filtered(
            lambda trace: (
                trace.trace_type == "mail"
                and trace.trace_status in REACHED_STATES
                and not trace.is_test_trace
            )
        )
        if reached:
            self.env["crm.interaction"]._log_campaign_sends(reached)
