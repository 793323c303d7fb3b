from odoo import models


class BasePartnerMergeAutomaticWizard(models.TransientModel):
    """Merging customers moves card points through the ledger as adjustments."""

    _inherit = "base.partner.merge.automatic.wizard"

    def _merge_loyalty_cards(self, src_partners, dst_partner):
        merge = self.with_context(
            crm_loyalty_kind="adjust",
            crm_loyalty_reason=self.env._("Customers merged"),
        )
        return super(BasePartnerMergeAutomaticWizard, merge)._merge_loyalty_cards(
            src_partners, dst_partner
        )
