from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import UserError

from ..tools import ENGINE
from ..tools import in_engine
from ..tools import ledger_scope


class CrmLoyaltyConsumption(models.Model):
    """Which lot a redemption, expiry or reversal took its points from (FIFO trace)."""

    _name = "crm.loyalty.consumption"
    _description = "Loyalty Points Lot Consumption"
    _order = "id"

    entry_id = fields.Many2one("crm.loyalty.ledger", required=True, index=True, ondelete="restrict")
    lot_id = fields.Many2one("crm.loyalty.ledger", required=True, index=True, ondelete="restrict")
    points = fields.Float(required=True, digits=(16, 2))
    lot_date = fields.Datetime(related="lot_id.date")
    lot_expiry_date = fields.Date(related="lot_id.expiry_date")

    _points_positive = models.Constraint(
        "CHECK (points > 0)", "A lot consumption takes a positive number of points."
    )

    @api.model_create_multi
    def create(self, vals_list):
        if not in_engine(self.env):
            raise UserError(self.env._("Lot consumptions are written by the ledger only."))
        return super().create(vals_list)

    @api.model
    def _engine_create(self, vals_list):
        """Create consumptions as the ledger engine (see ``crm.loyalty.ledger``)."""
        with ledger_scope(self.env, ENGINE):
            return self.sudo().create(vals_list)

    def write(self, vals):
        raise UserError(self.env._("Lot consumptions cannot be changed."))

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(self.env._("Lot consumptions cannot be deleted."))
