from odoo import fields
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

    def _crm_store_card_promotions(self):
        """The promotions that hold only for a payment method (the store's card) the customer
        can use now, and those they used. sudo: portal users cannot read loyalty programs or
        orders' reward lines; the programs are the active ones of the customer's company and
        the usage is read for the logged-in customer's own partner only."""
        user = request.env.user
        today = fields.Date.context_today(user)
        programs = (
            request.env["loyalty.program"]
            .sudo()
            .search(
                [
                    ("active", "=", True),
                    # automatic ones: a promotion behind a code is not announced to everyone
                    ("trigger", "=", "auto"),
                    ("crm_payment_restricted", "=", True),
                    ("company_id", "in", (user.company_id.id, False)),
                    "|",
                    ("date_to", "=", False),
                    ("date_to", ">=", today),
                    "|",
                    ("date_from", "=", False),
                    ("date_from", "<=", today),
                ]
            )
        )
        partner = user.partner_id.sudo().with_context(allowed_company_ids=user.company_ids.ids)
        usage = partner._crm_promotion_usage().get(partner.id, [])
        return {
            "store_card_programs": programs,
            "store_card_usage": [row for row in usage if row["restricted"]],
        }

    @route("/my/points", type="http", auth="user", website=True)
    def portal_my_points(self, **kw):
        cards = self._crm_loyalty_cards()
        statements = {card.id: card._crm_statement_data(movements=10) for card in cards}
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "crm_loyalty_points",
                "cards": cards,
                "statements": statements,
                **self._crm_store_card_promotions(),
            }
        )
        return request.render("crm_loyalty.portal_my_points", values)
