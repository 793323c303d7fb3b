from odoo.http import request
from odoo.http import route

from odoo.addons.portal.controllers.portal import CustomerPortal


class CrmLoyaltyPortal(CustomerPortal):
    """My Account → Loyalty: balance, tier, pending and expiring points, last movements."""

    def _crm_loyalty_card_domain(self):
        """The ledger cards of the logged-in customer only."""
        return [
            ("partner_id", "=", request.env.user.partner_id.id),
            ("program_id.crm_ledger", "=", True),
            ("program_id.active", "=", True),
        ]

    def _crm_loyalty_cards(self):
        # sudo: portal users have no access to loyalty models; the domain restricts the
        # result to the user's own partner.
        return request.env["loyalty.card"].sudo().search(self._crm_loyalty_card_domain())

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "crm_loyalty_count" in counters:
            # sudo: as in _crm_loyalty_cards, restricted to the user's own cards
            values["crm_loyalty_count"] = (
                request.env["loyalty.card"].sudo().search_count(self._crm_loyalty_card_domain())
            )
        return values

    @route("/my/points", type="http", auth="user", website=True)
    def portal_my_points(self, **kw):
        cards = self._crm_loyalty_cards()
        statements = {card.id: card._crm_statement_data(movements=10) for card in cards}
        values = self._prepare_portal_layout_values()
        values.update({"page_name": "crm_loyalty_points", "cards": cards, "statements": statements})
        return request.render("crm_loyalty.portal_my_points", values)
