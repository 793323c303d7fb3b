from freezegun import freeze_time

from odoo.tests import HttpCase
from odoo.tests import new_test_user
from odoo.tests import tagged


@tagged("post_install", "-at_install")
class TestIfrs15Ui(HttpCase):
    """An accountant posts a program's points liability from the browser."""

    def test_the_accountant_posts_from_the_program_form(self):
        company = self.env.company
        accountant = new_test_user(
            self.env,
            login="ifrs_tour_accountant",
            groups="account.group_account_invoice",
            company_id=company.id,
            company_ids=[company.id],
        )
        with freeze_time("2025-01-01"):
            program = self.env["loyalty.program"].create(
                {
                    "name": "Puntos Tour IFRS",
                    "program_type": "loyalty",
                    "company_id": company.id,
                    "crm_ifrs": True,
                    "crm_point_value": 1.0,
                    "crm_redemption_rate": 95.0,
                }
            )
        partner = self.env["res.partner"].create({"name": "Cliente Tour IFRS"})
        card = self.env["loyalty.card"].create({"program_id": program.id, "partner_id": partner.id})
        with freeze_time("2024-12-01"):
            self.env["crm.loyalty.ledger"]._post_entry(card, "earn", 2_000, reason="antes")
            card._crm_sync_points()
        self.start_tour(
            "/odoo/action-crm_loyalty.loyalty_program_account_action",
            "crm_loyalty_ifrs_tour",
            login=accountant.login,
        )
        lines = self.env["crm.loyalty.revenue.line"].search([("program_id", "=", program.id)])
        self.assertEqual(lines.mapped("kind"), ["opening"])
        self.assertEqual(lines.amount, 1_900)
        self.assertEqual(lines.move_id.state, "posted")
        self.assertEqual(lines.move_id.create_uid, accountant)
