from odoo import api
from odoo import models


class CrmLead(models.Model):
    """A lead sent from the website's contact form (UTM medium Website, as website_crm sets
    it) is the customer reaching out: an inbound web interaction, logged once, as soon as the
    lead has a customer (at creation, or when a salesperson links one)."""

    _inherit = "crm.lead"

    @api.model_create_multi
    def create(self, vals_list):
        leads = super().create(vals_list)
        leads._crm_log_web_form()
        return leads

    def write(self, vals):
        result = super().write(vals)
        if "partner_id" in vals or "medium_id" in vals:
            self._crm_log_web_form()
        return result

    def _crm_log_web_form(self):
        website = self.env.ref("utm.utm_medium_website", raise_if_not_found=False)
        leads = self.filtered(
            lambda lead: website and lead.medium_id == website and lead.partner_id
        )
        if not leads:
            return
        # sudo: the lead was just created or linked by this user (or the website form's
        # public user, whose rights website_crm checked); the interaction only mirrors it
        Interaction = self.env["crm.interaction"].sudo()
        logged = set(
            Interaction.search(
                [("lead_id", "in", leads.ids), ("origin", "=", "web_form")]
            ).lead_id.ids
        )
        Interaction.create(
            [
                {
                    **Interaction._document_values(lead.sudo()),
                    "channel": "web",
                    "direction": "inbound",
                    "date": lead.create_date,
                    "subject": lead.name,
                    "origin": "web_form",
                    "user_id": lead.user_id.id,
                }
                for lead in leads
                if lead.id not in logged
            ]
        )
