from odoo import api
from odoo import fields
from odoo import models


class CrmLead(models.Model):
    """New opportunities take the priority of their customer's service level."""

    _inherit = "crm.lead"

    crm_service_level_id = fields.Many2one(
        "crm.service.level", "Service Level", compute="_compute_crm_service_level_id"
    )

    @api.depends("partner_id", "company_id")
    def _compute_crm_service_level_id(self):
        levels = self.env["crm.customer.score"]._service_levels(
            self.partner_id.commercial_partner_id, self.company_id | self.env.company
        )
        for lead in self:
            company = lead.company_id or self.env.company
            key = (lead.partner_id.commercial_partner_id.id, company.id)
            lead.crm_service_level_id = levels.get(key, False)

    @api.model_create_multi
    def create(self, vals_list):
        leads = super().create(vals_list)
        # Only opportunities whose creator left the priority at its default get the level's.
        todo = leads.browse(
            lead.id
            for vals, lead in zip(vals_list, leads, strict=True)
            if "priority" not in vals
            and lead.type == "opportunity"
            and lead.priority == "0"
            and lead.partner_id
        )
        for level, group in todo.grouped("crm_service_level_id").items():
            if level and level.priority != "0":
                group.priority = level.priority
        return leads
