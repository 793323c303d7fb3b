from odoo import api
from odoo import fields
from odoo import models


class ResPartner(models.Model):
    """Loyalty summary of a customer in the current company (360° panel)."""

    _inherit = "res.partner"

    crm_loyalty_card_ids = fields.One2many(
        "loyalty.card", "partner_id", string="Loyalty Cards", domain=[("crm_ledger", "=", True)]
    )
    crm_loyalty_tier_id = fields.Many2one(
        "crm.loyalty.tier", string="Loyalty Tier", compute="_compute_crm_loyalty"
    )
    crm_loyalty_points = fields.Float(
        string="Points Available", compute="_compute_crm_loyalty", digits=(16, 2)
    )
    crm_loyalty_points_pending = fields.Float(
        string="Points Pending", compute="_compute_crm_loyalty", digits=(16, 2)
    )
    crm_loyalty_tier_history_ids = fields.One2many(
        "crm.loyalty.tier.history", "partner_id", string="Tier Changes"
    )

    @api.depends_context("company")
    @api.depends("crm_loyalty_card_ids.points", "crm_loyalty_card_ids.crm_tier_id")
    def _compute_crm_loyalty(self):
        company = self.env.company
        for partner in self:
            cards = partner.crm_loyalty_card_ids.filtered(
                lambda card: card.company_id in (company, company.browse())
            )
            tiers = cards.crm_tier_id.sorted("threshold", reverse=True)
            partner.crm_loyalty_tier_id = tiers[:1]
            partner.crm_loyalty_points = sum(cards.mapped("points"))
            partner.crm_loyalty_points_pending = sum(cards.mapped("crm_points_pending"))
