from odoo import models
from odoo.tools.translate import LazyTranslate

from ..tools import RECORD
from ..tools import ledger_scope

_lt = LazyTranslate(__name__)


class BasePartnerMergeAutomaticWizard(models.TransientModel):
    """Merging customers moves card points through the ledger as adjustments."""

    _inherit = "base.partner.merge.automatic.wizard"

    def _merge_loyalty_cards(self, src_partners, dst_partner):
        with ledger_scope(
            self.env, RECORD, kind=("adjust", "adjust"), reason=_lt("Customers merged")
        ):
            return super()._merge_loyalty_cards(src_partners, dst_partner)
