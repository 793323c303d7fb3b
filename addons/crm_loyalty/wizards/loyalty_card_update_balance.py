from odoo import models


class LoyaltyCardUpdateBalance(models.TransientModel):
    """Odoo's "Update Balance" wizard posts a manual ``adjust`` entry on ledger cards."""

    _inherit = "loyalty.card.update.balance"

    def action_update_card_point(self):
        card = self.card_id
        if not card.program_id.crm_ledger:
            return super().action_update_card_point()
        card._crm_check_adjustment(self.description)
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
