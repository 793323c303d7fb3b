from odoo import api
from odoo import fields
from odoo import models

from .loyalty_program import TIER_BASES


class CrmLoyaltyTierHistory(models.Model):
    """Log of the tier changes of a card (upgrades at once, downgrades after retention)."""

    _name = "crm.loyalty.tier.history"
    _description = "Loyalty Tier Change"
    _order = "date desc, id desc"

    card_id = fields.Many2one("loyalty.card", required=True, index=True, ondelete="cascade")
    partner_id = fields.Many2one(related="card_id.partner_id", store=True, index=True)
    program_id = fields.Many2one(related="card_id.program_id", store=True)
    company_id = fields.Many2one(related="card_id.company_id", store=True)
    old_tier_id = fields.Many2one("crm.loyalty.tier", ondelete="set null")
    new_tier_id = fields.Many2one("crm.loyalty.tier", ondelete="set null")
    date = fields.Date(required=True, default=fields.Date.context_today)
    reason = fields.Selection([("upgrade", "Upgrade"), ("downgrade", "Downgrade")], required=True)
    # a sum of qualifying values over changes (and programs) means nothing
    qualifying_value = fields.Float(
        help="Points earned or amount spent in the window.", aggregator=False
    )
    # What the qualifying value counted when the change was recorded, for showing it as points
    # or as an amount (see crm.loyalty.tier): kept, as a program may change its basis later.
    tier_basis = fields.Selection(
        TIER_BASES,
        string="Tier Qualification",
        compute="_compute_tier_basis",
        store=True,
    )
    currency_id = fields.Many2one(related="program_id.currency_id")

    @api.depends("card_id")
    def _compute_tier_basis(self):
        for change in self:
            change.tier_basis = change.card_id.program_id.crm_tier_basis
