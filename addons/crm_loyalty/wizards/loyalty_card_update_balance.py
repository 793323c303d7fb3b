from odoo import models
from odoo.exceptions import UserError


class LoyaltyCardUpdateBalance(models.TransientModel):
    """Odoo's "Update Balance" wizard posts a manual ``adjust`` entry on ledger cards."""

    _inherit = "loyalty.card.update.balance"

    def action_update_card_point(self):
        card = self.card_id
        if not card.program_id.crm_ledger:
            return super().action_update_card_point()
        if not self.env.user.has_group("crm_loyalty.group_manager"):
            raise UserError(self.env._("Only loyalty managers can adjust points."))
        if not (self.description or "").strip():
            raise UserError(self.env._("Give the reason of the adjustment."))
        card._crm_lock()
        delta = self.new_balance - card.points
        res = super(
            LoyaltyCardUpdateBalance, self.with_context(crm_loyalty_managed=True)
        ).action_update_card_point()
        self.env["crm.loyalty.ledger"]._post_entry(
            card, "adjust", delta, source_type="manual", reason=self.description.strip()
        )
        card._crm_sync_points()
        return res
