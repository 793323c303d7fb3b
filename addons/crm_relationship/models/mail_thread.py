from odoo import models

from .crm_interaction import LOGGED_MODELS


class MailThread(models.AbstractModel):
    """E-mails received or sent on a customer, a lead, an order or an invoice are logged as
    interactions: both the mail gateway (message_process) and the chatter (message_post, the
    composer) end in message_post, whose after-hook sees each message once."""

    _inherit = "mail.thread"

    def _message_post_after_hook(self, message, msg_values):
        result = super()._message_post_after_hook(message, msg_values)
        # no context key switches this off: a caller could otherwise keep its e-mails out of
        # the customer's contact history
        if self._name in LOGGED_MODELS and len(self) == 1:
            self.env["crm.interaction"]._log_message(self, message)
        return result
