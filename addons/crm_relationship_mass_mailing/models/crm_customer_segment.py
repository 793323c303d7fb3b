from odoo import models


class CrmCustomerSegment(models.Model):
    _inherit = "crm.customer.segment"

    def _get_campaign_partner_ids(self):
        """Ids of the customers (commercial partners) in this segment now, in its company:
        the recipients of a campaign sent to it, read at send time.

        The caller must be able to read the segment (checked here); marketing users have no
        right on the customers' metrics, which hold the membership.
        """
        self.ensure_one()
        self.check_access("read")
        # sudo: the caller may read this segment (checked above); only who belongs to it is
        # read, never their metrics.
        metrics = (
            self.env["crm.customer.metric"]
            .sudo()
            .search_fetch(
                [("segment_id", "=", self.id), ("company_id", "=", self.company_id.id)],
                ["partner_id"],
            )
        )
        return metrics.partner_id.ids
