from odoo import api
from odoo import models

from ..tools import MANAGED
from ..tools import current_scope


class LoyaltyHistory(models.Model):
    """Channels that log a loyalty.history row after changing a card's points (point of
    sale, coupon generation...) lend their document to the ledger entries just posted."""

    _inherit = "loyalty.history"

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        scope = current_scope(self.env)
        if not (scope and scope.mode == MANAGED):
            Ledger = self.env["crm.loyalty.ledger"]
            for history in records:
                model = history.order_model
                if not (model and history.order_id and model in self.env):
                    continue
                if not history.card_id.program_id.crm_ledger:
                    continue
                document = self.env[model].browse(history.order_id).exists()
                Ledger._attach_source(history.card_id, document)
        return records
