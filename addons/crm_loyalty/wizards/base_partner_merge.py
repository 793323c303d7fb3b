from odoo import models

from ..tools import RECORD
from ..tools import ledger_scope


class BasePartnerMergeAutomaticWizard(models.TransientModel):
    """Merging customers moves card points through the ledger as adjustments."""

    _inherit = "base.partner.merge.automatic.wizard"

    def _merge_loyalty_cards(self, src_partners, dst_partner):
        with ledger_scope(
            self.env, RECORD, kind=("adjust", "adjust"), reason=self.env._("Customers merged")
        ):
            return super()._merge_loyalty_cards(src_partners, dst_partner)
