from datetime import date

from freezegun import freeze_time
from lxml import etree

from odoo.exceptions import UserError
from odoo.tests import new_test_user
from odoo.tests import tagged

from .common import LoyaltyLedgerCase


@tagged("post_install", "-at_install")
class TestCustomerLanguage(LoyaltyLedgerCase):
    """A Chilean store: customers read their ledger in Spanish whoever posted it, and the
    cashier (a Loyalty Points user working in Spanish) reads points as the suite shows them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("es_CL")
        cls.env.ref("base.module_crm_loyalty")._update_translations(["es_CL"])
        cls.partner.lang = "es_CL"
        cls.other_partner.lang = "en_US"
        cls.salesman = new_test_user(
            cls.env, login="loy_salesman_en", groups="sales_team.group_sale_salesman", lang="en_US"
        )
        cls.cashier = new_test_user(
            cls.env,
            login="loy_cashier_es",
            groups="sales_team.group_sale_salesman,crm_loyalty.group_user",
            lang="es_CL",
        )

    def _confirm_as_salesman(self, partner):
        order = self._order(qty=1, partner=partner)
        order.user_id = self.salesman
        order.with_user(self.salesman).action_confirm()
        return order

    # ------------------------------------------------------- ledger reasons

    def test_english_salesman_confirming_writes_the_purchase_in_the_customer_s_spanish(self):
        order = self._confirm_as_salesman(self.partner)
        self.assertEqual(self._entries(kind="earn").reason, f"Compra {order.name}")

    def test_cancelling_writes_the_reversal_in_the_customer_s_spanish(self):
        order = self._confirm_as_salesman(self.partner)
        order.with_context(lang="en_US")._action_cancel()
        self.assertEqual(self._entries(kind="reverse").reason, f"Reversa de {order.name}")

    def test_customer_without_language_reads_the_company_s_language(self):
        self.env.company.partner_id.lang = "es_CL"
        self.other_partner.lang = False
        card = self.env["loyalty.card"].create(
            {"program_id": self.program.id, "partner_id": self.other_partner.id}
        )
        order = self._confirm_as_salesman(self.other_partner)
        self.assertEqual(self._entries(card, kind="earn").reason, f"Compra {order.name}")

    def test_expiry_writes_each_customer_s_language(self):
        english_card = self.env["loyalty.card"].create(
            {"program_id": self.program.id, "partner_id": self.other_partner.id}
        )
        with freeze_time("2025-01-10"):
            self._earn(self.card, 100)
            self._earn(english_card, 50)
        self.env["crm.loyalty.scheduler"].with_context(lang="en_US")._expire_due_lots(
            today=date(2026, 1, 11)
        )
        self.assertEqual(self._entries(kind="expire").reason, "Puntos vencidos")
        self.assertEqual(self._entries(english_card, kind="expire").reason, "Points expired")
        self.assertEqual(
            self.card.history_ids.filtered(lambda line: line.used == 100).description,
            "Puntos vencidos",
        )

    # -------------------------------------------------- points as read by the cashier

    def test_refused_redemption_shows_points_with_the_language_s_separators(self):
        self._earn(self.card, 6930)
        card = self.card.with_user(self.cashier).with_context(lang="es_CL")
        with self.assertRaisesRegex(
            UserError,
            rf"^La tarjeta {self.card.code} tiene solo 6\.930 puntos disponibles; "
            r"se solicitaron 99\.999\.$",
        ):
            card.crm_redeem_points(99999)

    def test_impossible_movement_names_the_kind_by_its_label(self):
        self._earn(self.card, 100)
        Ledger = self.Ledger.with_user(self.cashier).with_context(lang="es_CL")
        with self.assertRaisesRegex(
            UserError, r"^No es posible un movimiento «Canje» de 1\.500 puntos\.$"
        ):
            Ledger._post_entry(self.card.with_env(Ledger.env), "redeem", 1500, reason="test")

    def test_card_balance_reads_with_the_thousands_separator(self):
        self._earn(self.card, 6930)
        card = self.card.with_user(self.cashier).with_context(lang="es_CL")
        self.assertRegex(card.points_display, r"^6\.930 \w+$")
        self.assertEqual(card.with_context(lang="en_US").points_display.split()[0], "6,930")

    def test_redeem_wizard_shows_the_available_points_with_the_points_widget(self):
        arch = (
            self.env["crm.loyalty.redeem.wizard"]
            .with_user(self.cashier)
            .get_view(view_type="form")["arch"]
        )
        [available] = etree.fromstring(arch).xpath("//field[@name='available']")
        self.assertEqual(available.get("widget"), "crm_points")

    # ------------------------------------------------------------ card form

    def test_card_form_of_a_ledger_program_hides_odoo_s_history_lines(self):
        """The card action opens Odoo's card form: for ledger cards the history page is
        invisible, so the notebook opens on the points ledger."""
        form = self.env.ref("loyalty.loyalty_card_view_form")
        arch = etree.fromstring(
            self.env["loyalty.card"]
            .with_user(self.cashier)
            .get_view(view_id=form.id, view_type="form")["arch"]
        )
        [history] = arch.xpath("//notebook/page[.//field[@name='history_ids']]")
        self.assertEqual(history.get("invisible"), "crm_ledger")
        [ledger] = arch.xpath("//notebook/page[@name='crm_ledger']")
        self.assertEqual(ledger.get("invisible"), "not crm_ledger")
        self.assertTrue(self.card.crm_ledger)
