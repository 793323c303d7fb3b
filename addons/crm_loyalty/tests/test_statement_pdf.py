import json
import subprocess
import unittest
from datetime import date
from urllib.parse import quote

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import HttpCase
from odoo.tests import new_test_user
from odoo.tests import tagged

from .common import LoyaltyLedgerCase

REPORT = "crm_loyalty.report_loyalty_statement"


@tagged("post_install", "-at_install")
class TestStatementPdf(LoyaltyLedgerCase, HttpCase):
    """The points statement as a real PDF (wkhtmltopdf), read back as text (pdftotext), in
    Chilean Spanish, printed by a Loyalty Points user. Odoo's test mode renders reports as HTML:
    force_report_rendering makes it run wkhtmltopdf; HttpCase serves the report's stylesheets.
    A missing wkhtmltopdf or pdftotext fails these tests, it never skips them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("es_CL")
        cls.env.ref("base.module_crm_loyalty")._update_translations(["es_CL"])
        with freeze_time("2026-01-10"):
            cls._earn(cls, cls.card, 1111)
        with freeze_time("2026-06-10"):
            cls._earn(cls, cls.card, 2222)
        # a user with no Loyalty Points rights, and a card of a company the loyalty user is not in
        cls.employee = new_test_user(cls.env, login="loy_employee", groups="base.group_user")
        cls.other_company = cls.env["res.company"].create({"name": "Tienda Ajena SpA"})
        other_program = cls.env["loyalty.program"].create(
            {
                "name": "Puntos Ajenos",
                "program_type": "loyalty",
                "company_id": cls.other_company.id,
            }
        )
        cls.other_card = cls.env["loyalty.card"].create(
            {"program_id": other_program.id, "partner_id": cls.other_partner.id}
        )

    # ---------------------------------------------------------------- helpers

    def _print(self, action, user, lang="es_CL"):
        """The PDF bytes that the web client downloads for the report ``action``, as ``user``.

        Mirrors the web client's getReportUrl and the /report/pdf controller: an action with
        data is printed from its data and its context alone (no record ids in the URL);
        without data, from the context's active_ids.
        """
        self.assertEqual(action["type"], "ir.actions.report")
        self.assertEqual(action["report_name"], REPORT)
        context = dict(action.get("context") or {}, lang=lang)
        if action.get("data"):
            docids, data = None, dict(action["data"], context=context)
        else:
            docids, data = context.get("active_ids"), None
        report = (
            self.env["ir.actions.report"]
            .with_user(user)
            .with_context(context, force_report_rendering=True)
        )
        self.assertEqual(
            report.get_wkhtmltopdf_state(),
            "ok",
            "wkhtmltopdf is missing or broken: scripts/setup.sh installs Debian's wkhtmltopdf",
        )
        try:
            pdf, kind = report._render_qweb_pdf(REPORT, docids, data=data)
        except unittest.SkipTest as skip:  # Odoo skips what unpatched wkhtmltopdf cannot merge
            self.fail(f"the statement PDF was not rendered: {skip}")
        self.assertEqual(kind, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF-"), "wkhtmltopdf did not produce a PDF")
        return pdf

    def _text(self, pdf):
        """The text of ``pdf`` (pdftotext, layout kept), blanks collapsed."""
        result = subprocess.run(
            ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
        )
        return " ".join(result.stdout.decode().split())

    def _wizard_action(self, user, date_from, date_to, cards=None):
        """What the card's Print Statement button, then Print in its dialog, return as ``user``."""
        card = self.card.with_user(user)
        dialog = card.action_crm_print_statement()
        wizard = (
            self.env[dialog["res_model"]]
            .with_user(user)
            .with_context(dialog["context"])
            .create({"date_from": date_from, "date_to": date_to})
        )
        if cards is not None:
            wizard.card_ids = cards
        return wizard.action_print()

    def assertStatementHeader(self, text, balance):
        self.assertIn("Estado de cuenta de puntos", text)
        self.assertIn("Valentina Test Rojas", text)
        self.assertIn(self.card.code, text)
        self.assertIn(f"Puntos disponibles: {balance}", text)
        # points are whole numbers in Chilean format: no decimals, no 1234.000000
        self.assertNotRegex(text, r"\d[.,]\d{3}[.,]\d|\d,\d+")

    # ---------------------------------------------------------------- tests

    def test_card_print_menu_prints_the_card_with_its_balance(self):
        action = (
            self.env.ref("crm_loyalty.action_report_loyalty_statement")
            .with_user(self.loyalty_user)
            .report_action(self.card.with_user(self.loyalty_user))
        )
        self.assertFalse(action.get("data"))
        with freeze_time("2026-06-20"):
            text = self._text(self._print(action, self.loyalty_user))
        self.assertStatementHeader(text, "3.333")
        # default period: the last three months, 20-03-2026 to 20-06-2026
        self.assertIn("Saldo inicial (20-03-2026) 1.111", text)
        self.assertIn("Saldo final (20-06-2026) 3.333", text)
        self.assertIn("10-06-2026", text)
        self.assertNotIn("10-01-2026", text)

    def test_dated_dialog_prints_the_card_over_the_chosen_period(self):
        action = self._wizard_action(self.loyalty_user, date(2026, 6, 1), date(2026, 6, 30))
        self.assertEqual(action["data"]["card_ids"], self.card.ids)
        text = self._text(self._print(action, self.loyalty_user))
        self.assertStatementHeader(text, "3.333")
        # June only: the January lot is in the opening balance, the June lot is the movement
        self.assertIn("Saldo inicial (01-06-2026) 1.111", text)
        self.assertIn("Saldo final (30-06-2026) 3.333", text)
        self.assertRegex(text, r"10-06-2026 .*2\.222")
        self.assertNotIn("10-01-2026", text)

    def test_dated_dialog_prints_through_the_report_route(self):
        """The URL the web client builds for a report with data, downloaded as the user."""
        action = self._wizard_action(self.loyalty_user, date(2026, 1, 1), date(2026, 1, 31))
        context = dict(action["context"], lang="es_CL", force_report_rendering=True)
        self.authenticate("loy_user", "loy_user")
        response = self.url_open(
            f"/report/pdf/{REPORT}?options={quote(json.dumps(action['data']))}"
            f"&context={quote(json.dumps(context))}",
            timeout=120,
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], "application/pdf")
        text = self._text(response.content)
        self.assertStatementHeader(text, "3.333")
        self.assertIn("Saldo inicial (01-01-2026) 0", text)
        self.assertIn("Saldo final (31-01-2026) 1.111", text)
        self.assertNotIn("10-06-2026", text)

    def test_statement_in_english_uses_english_numbers(self):
        action = self._wizard_action(self.loyalty_user, date(2026, 6, 1), date(2026, 6, 30))
        text = self._text(self._print(action, self.loyalty_user, lang="en_US"))
        self.assertIn("Points Statement", text)
        self.assertIn("Available points: 3,333", text)
        self.assertIn("Opening balance (06/01/2026) 1,111", text)

    def test_user_without_loyalty_rights_cannot_print(self):
        with self.assertRaises(AccessError):
            self._wizard_action(self.employee, date(2026, 6, 1), date(2026, 6, 30))
        forged = {
            "type": "ir.actions.report",
            "report_name": REPORT,
            "context": {"active_ids": self.card.ids},
            "data": {"card_ids": self.card.ids},
        }
        with self.assertRaises(AccessError):
            self._print(forged, self.employee)

    def test_cards_of_another_company_are_refused_in_the_report_data(self):
        action = self._wizard_action(self.loyalty_user, date(2026, 6, 1), date(2026, 6, 30))
        action["data"]["card_ids"] = self.other_card.ids
        with self.assertRaises(AccessError):
            self._print(action, self.loyalty_user)
