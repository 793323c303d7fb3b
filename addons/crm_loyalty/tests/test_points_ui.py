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
