from odoo import models

from ..tools import MANAGED
from ..tools import ledger_scope


class LoyaltyCardUpdateBalance(models.TransientModel):
    """Odoo's "Update Balance" wizard posts a manual ``adjust`` entry on ledger cards."""

    _inherit = "loyalty.card.update.balance"

    def action_update_card_point(self):
        card = self.card_id
        if not card.program_id.crm_ledger:
            return super().action_update_card_point()
        card.check_access("write")
        card._crm_check_adjustment(self.description)
        new_balance = card.program_id._crm_clean_points(self.new_balance, allow_zero=True)
        card._crm_lock()
        delta = card.program_id._crm_clean_points(new_balance - card.points, allow_zero=True)
        with ledger_scope(self.env, MANAGED):
            res = super().action_update_card_point()
        if delta:
            self.env["crm.loyalty.ledger"]._post_entry(
                card, "adjust", delta, source_type="manual", reason=self.description.strip()
            )
        card._crm_sync_points()
        return res
