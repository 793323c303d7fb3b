from odoo import models


class MailMail(models.Model):
    _inherit = "mail.mail"

    def _postprocess_sent_message(
        self, success_pids, success_emails, failure_reason=False, failure_type=None
    ):
        """A campaign mail that left is an outbound interaction with its recipient (the
        traces are read first: a sent mail may be deleted by the post-processing)."""
        traces = self.filtered("mailing_id").mailing_trace_ids
        result = super()._postprocess_sent_message(
            success_pids, success_emails, failure_reason=failure_reason, failure_type=failure_type
        )
        if traces and not failure_type:
            traces.exists()._crm_log_sends()
        return result
