from odoo import models
from odoo.tools import plaintext2html

from .crm_interaction import LOGGED_MODELS


class MailActivity(models.Model):
    """A done activity that was a contact with the customer (a call, an e-mail, a meeting)
    on a customer, lead, order or invoice becomes an interaction."""

    _inherit = "mail.activity"

    def _action_done(self, feedback=False, attachment_ids=None):
        Interaction = self.env["crm.interaction"]
        values_list = []
        for activity in self.filtered(lambda a: a.res_model in LOGGED_MODELS and a.res_id):
            channel = Interaction._activity_channel(activity.activity_type_id)
            if not channel:
                continue
            # sudo: mail.activity lets its assignee mark it done without reading the
            # document (see super); the customer and links are only copied onto the log.
            record = self.env[activity.res_model].sudo().browse(activity.res_id).exists()
            values = record and Interaction._document_values(record)
            if not values:
                continue
            values_list.append(
                {
                    **values,
                    "channel": channel,
                    "direction": "outbound",
                    "subject": activity.summary or activity.activity_type_id.name,
                    "note": plaintext2html(feedback) if feedback else activity.note,
                    "user_id": self.env.user.id,
                    "origin": "activity",
                }
            )
        result = super()._action_done(feedback=feedback, attachment_ids=attachment_ids)
        if values_list:
            # sudo: super archived the activities, which checked this user's right on them;
            # the interaction records what they did, on a customer they may not be able to
            # read (an activity can be assigned on any document).
            Interaction.sudo().create(values_list)
        return result
