from odoo import fields
from odoo import models


class CrmLoyaltyRedeemWizard(models.TransientModel):
    """Redeem points of a card at the counter (the cashier's flow, no sales order)."""

    _name = "crm.loyalty.redeem.wizard"
    _description = "Redeem Loyalty Points"

    card_id = fields.Many2one("loyalty.card", string="Card", required=True, readonly=True)
    partner_id = fields.Many2one(related="card_id.partner_id")
    available = fields.Float(related="card_id.points", string="Available Points")
    points = fields.Float(string="Points to Redeem", required=True, digits=(16, 2))
    reason = fields.Char(
        required=True, default=lambda self: self.env._("Redemption at the counter")
    )

    def action_redeem(self):
        """Spend the points; the card's write access and balance are checked by the card."""
        self.ensure_one()
        self.card_id.crm_redeem_points(self.points, self.reason)
        return {"type": "ir.actions.act_window_close"}
