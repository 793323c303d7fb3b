from datetime import date

from freezegun import freeze_time

from odoo.exceptions import ValidationError
from odoo.tests import HttpCase
from odoo.tests import new_test_user
from odoo.tests import tagged

from odoo.addons.crm_relationship.tests.common import offer_spanish_on_the_portal

from .common import LoyaltyLedgerCase


@tagged("post_install", "-at_install")
class TestStatement(LoyaltyLedgerCase):
    def test_statement_gives_opening_movements_pending_expiring_and_closing(self):
        with freeze_time("2026-06-01"):
            self._earn(self.card, 500)
        with freeze_time("2026-10-01"):
            self._earn(self.card, 200)
            self.card.crm_redeem_points(50)
            self.Ledger._post_entry(self.card, "earn", 80, state="pending", reason="pending")
        statement = self.card._crm_statement_data(date(2026, 9, 1), date(2026, 11, 24))
        self.assertEqual(statement["opening"], 500)
        self.assertEqual(statement["movements"].mapped("points"), [200, -50, 80])
        self.assertEqual(statement["closing"], 650)
        self.assertEqual(statement["pending"], 80)

    def test_statement_lists_points_expiring_in_the_next_months(self):
        with freeze_time("2025-12-20"):
            self._earn(self.card, 300)
        with freeze_time("2026-11-24"):
            statement = self.card._crm_statement_data()
        self.assertEqual(statement["expiring"], [(date(2026, 12, 20), 300)])

    def test_pdf_statement_renders_the_card(self):
        self._earn(self.card, 321)
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("crm_loyalty.report_loyalty_statement", self.card.ids)[0]
            .decode()
        )
        self.assertIn(self.card.code, html)
        self.assertIn("321", html)

    def test_statement_is_printed_for_the_chosen_period(self):
        with freeze_time("2026-01-10"):
            self._earn(self.card, 111)
        with freeze_time("2026-06-10"):
            self._earn(self.card, 222)
        action = self.card.action_crm_print_statement()
        wizard = (
            self.env[action["res_model"]]
            .with_context(action["context"])
            .create({"date_from": date(2026, 6, 1), "date_to": date(2026, 6, 30)})
        )
        report = wizard.action_print()
        report = report.get("context", {}).get("report_action", report)
        self.assertEqual(report["report_name"], "crm_loyalty.report_loyalty_statement")
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html(report["report_name"], self.card.ids, data=report["data"])[0]
            .decode()
        )
        # June only: the January lot is in the opening balance, not among the movements.
        self.assertEqual(html.count('data-oe-expression="entry.points"'), 1)
        self.assertIn('data-oe-expression="entry.points">222<', html)
        self.assertIn('data-oe-expression="statement[&#39;opening&#39;]">111<', html)

    def test_a_statement_ending_before_it_starts_is_refused(self):
        with self.assertRaises(ValidationError):
            self.env["crm.loyalty.statement.wizard"].create(
                {
                    "card_ids": self.card.ids,
                    "date_from": date(2026, 6, 1),
                    "date_to": date(2026, 5, 1),
                }
            )


@tagged("post_install", "-at_install")
class TestPortalPoints(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        program = cls.env["loyalty.program"].create(
            {"name": "Portal Puntos", "program_type": "loyalty", "applies_on": "both"}
        )
        cls.portal_user = new_test_user(cls.env, login="loy_portal", groups="base.group_portal")
        other = cls.env["res.partner"].create({"name": "Camila Ajena"})
        Card = cls.env["loyalty.card"]
        cls.own_card = Card.create(
            {"program_id": program.id, "partner_id": cls.portal_user.partner_id.id, "points": 4321}
        )
        cls.other_card = Card.create(
            {"program_id": program.id, "partner_id": other.id, "points": 9876}
        )

    def test_portal_user_sees_only_their_own_cards(self):
        self.authenticate("loy_portal", "loy_portal")
        response = self.url_open("/my/points")
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.own_card.code, response.text)
        self.assertIn("4,321", response.text)
        self.assertNotIn(self.other_card.code, response.text)
        self.assertNotIn("9,876", response.text)
        # the page says where the customer is: Home / Loyalty
        self.assertRegex(response.text, r'<li class="breadcrumb-item active">\s*Loyalty\s*</li>')

    def test_points_page_is_in_the_customers_spanish(self):
        offer_spanish_on_the_portal(self.env, ["portal", "crm_loyalty"])
        self.portal_user.lang = "es_CL"
        self.authenticate("loy_portal", "loy_portal")
        response = self.url_open("/my/points")
        self.assertEqual(response.status_code, 200)
        self.assertRegex(
            response.text, r'<li class="breadcrumb-item active">\s*Fidelización\s*</li>'
        )
        # points with the language's thousands separator
        self.assertIn("4.321", response.text)

    def test_points_page_needs_a_login(self):
        response = self.url_open("/my/points", allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))
