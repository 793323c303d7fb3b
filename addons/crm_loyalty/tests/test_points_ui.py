from odoo.tests import HttpCase
from odoo.tests import new_test_user
from odoo.tests import tagged


@tagged("post_install", "-at_install")
class TestPointsUi(HttpCase):
    """Whole points read as whole numbers in the browser: a movement, the list's total (which
    Odoo formats apart from the cells) and the pivot, seen by a loyalty user."""

    def test_points_show_no_spurious_decimals(self):
        # A company of its own, so the demo store's movements stay out of the totals.
        company = self.env["res.company"].create({"name": "Tienda Puntos Tour"})
        user = new_test_user(
            self.env,
            login="loy_points_tour",
            groups="base.group_user,crm_loyalty.group_user",
            company_id=company.id,
            company_ids=[company.id],
        )
        program = self.env["loyalty.program"].create(
            {
                "name": "Puntos Tour",
                "program_type": "loyalty",
                "company_id": company.id,
                "crm_pending_mode": "none",
            }
        )
        partner = self.env["res.partner"].create({"name": "Cliente Puntos Tour"})
        card = self.env["loyalty.card"].create({"program_id": program.id, "partner_id": partner.id})
        Ledger = self.env["crm.loyalty.ledger"]
        Ledger._post_entry(card, "earn", 1250, reason="tour")
        Ledger._post_entry(card, "earn", 750, reason="tour")
        card._crm_sync_points()
        self.assertEqual(card.points, 2000)
        self.start_tour(
            "/odoo/action-crm_loyalty.crm_loyalty_ledger_action",
            "crm_loyalty_points_tour",
            login=user.login,
        )

    def test_tier_values_read_as_money_or_points(self):
        """A tier change's qualifying value is an amount in the program's currency where the
        tiers count the amount spent, and whole points where they count points."""
        # in dollars and in English: the tour reads "$" and "251,250.00"
        company = self.env["res.company"].create(
            {"name": "Tienda Niveles Tour", "currency_id": self.env.ref("base.USD").id}
        )
        user = new_test_user(
            self.env,
            login="loy_tier_tour",
            groups="base.group_user,crm_loyalty.group_user",
            company_id=company.id,
            company_ids=[company.id],
            lang="en_US",
        )
        for basis, value in (("amount", 251250), ("points", 6250)):
            program = self.env["loyalty.program"].create(
                {
                    "name": f"Niveles Tour {basis}",
                    "program_type": "loyalty",
                    "company_id": company.id,
                    "crm_tier_basis": basis,
                }
            )
            tier = self.env["crm.loyalty.tier"].create(
                {"name": "Plata", "program_id": program.id, "threshold": 5000}
            )
            partner = self.env["res.partner"].create({"name": f"Cliente Niveles {basis}"})
            card = self.env["loyalty.card"].create(
                {"program_id": program.id, "partner_id": partner.id}
            )
            self.env["crm.loyalty.tier.history"].create(
                {
                    "card_id": card.id,
                    "new_tier_id": tier.id,
                    "reason": "upgrade",
                    "qualifying_value": value,
                }
            )
            self.assertEqual(card.crm_tier_history_ids.tier_basis, basis)
            self.assertEqual(card.crm_tier_history_ids.currency_id, company.currency_id)
        self.start_tour(
            "/odoo/action-crm_loyalty.crm_loyalty_tier_history_action",
            "crm_loyalty_tier_values_tour",
            login=user.login,
        )
