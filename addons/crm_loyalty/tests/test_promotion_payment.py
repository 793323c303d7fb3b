from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.exceptions import ValidationError
from odoo.fields import Command
from odoo.tests import HttpCase
from odoo.tests import new_test_user
from odoo.tests import tagged
from odoo.tests.common import JsonRpcException

from .common import card_promotion_values
from .common import gift_program_values


@tagged("post_install", "-at_install")
class TestPromotionPayment(HttpCase):
    """Promotions that hold only for a payment method (the store's card) or a sales team, and
    gifts with purchase, in the back office: each step as the user who does it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.env["loyalty.program"].search([]).action_archive()
        cls.company = cls.env.company
        cls.card_journal = cls.env["account.journal"].create(
            {
                "name": "Tarjeta Tienda Test",
                "code": "TTT",
                "type": "bank",
                "inbound_payment_method_line_ids": [Command.clear()],
            }
        )
        manual_in = cls.env.ref("account.account_payment_method_manual_in")
        cls.card_line = cls.env["account.payment.method.line"].create(
            {
                "name": "Tarjeta Tienda Test",
                "journal_id": cls.card_journal.id,
                "payment_method_id": manual_in.id,
            }
        )
        cls.cash_journal = cls.env["account.journal"].create(
            {"name": "Caja Test", "code": "CJT", "type": "cash"}
        )
        cls.cash_line = cls.cash_journal.inbound_payment_method_line_ids[:1]
        cls.cooker = cls.env["product.product"].create(
            {
                "name": "Cocina test",
                "type": "consu",
                "list_price": 100_000.0,
                "standard_price": 60_000.0,
                "invoice_policy": "order",
                "taxes_id": [Command.clear()],
            }
        )
        cls.pans = cls.env["product.product"].create(
            {
                "name": "Ollas test",
                "type": "consu",
                "list_price": 20_000.0,
                "standard_price": 8_000.0,
                "invoice_policy": "order",
                "taxes_id": [Command.clear()],
            }
        )
        # a pricelist of its own: demo pricelists (the web shop's) must not change the prices
        cls.pricelist = cls.env["product.pricelist"].create(
            {"name": "Lista test promociones", "currency_id": cls.env.company.currency_id.id}
        )
        cls.team = cls.env["crm.team"].create({"name": "Tienda Centro"})
        cls.other_team = cls.env["crm.team"].create({"name": "Ventas empresas"})
        cls.promo = cls.env["loyalty.program"].create(
            card_promotion_values("10% con Tarjeta Test", cls.cooker, cls.card_line)
        )
        cls.gift = cls.env["loyalty.program"].create(
            dict(gift_program_values("Ollas de regalo test", cls.cooker, cls.pans), active=False)
        )
        cls.customer = cls.env["res.partner"].create(
            {"name": "Catalina Test Muñoz", "email": "catalina.test@example.com"}
        )
        cls.salesperson = new_test_user(
            cls.env,
            login="promo_sales",
            password="promo_sales_pw_1",
            groups="sales_team.group_sale_salesman",
        )
        cls.accountant = new_test_user(
            cls.env,
            login="promo_accountant",
            password="promo_accountant_pw_1",
            groups="account.group_account_invoice",
        )
        cls.sales_manager = new_test_user(
            cls.env,
            login="promo_manager",
            password="promo_manager_pw_1",
            groups="sales_team.group_sale_manager",
        )

    # ---------------------------------------------------------------- helpers

    def _quotation(self, method_line, team=None):
        """A quotation for a cooker, built by the salesperson, promotions applied as the
        Promotions button does."""
        order = (
            self.env["sale.order"]
            .with_user(self.salesperson)
            .create(
                {
                    "partner_id": self.customer.id,
                    "pricelist_id": self.pricelist.id,
                    "preferred_payment_method_line_id": method_line.id,
                    "team_id": (team or self.team).id,
                    "order_line": [
                        Command.create({"product_id": self.cooker.id, "tax_ids": [Command.clear()]})
                    ],
                }
            )
        )
        order.action_open_reward_wizard()
        return order

    def _discount(self, order):
        return -sum(order.order_line.filtered("reward_id").mapped("price_total"))

    def _invoice_and_pay(self, order, method_line):
        """The accountant invoices the order and registers its payment with ``method_line``."""
        order = order.with_user(self.accountant)
        invoice = order._create_invoices()
        invoice.action_post()
        self.env["account.payment.register"].with_user(self.accountant).with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create(
            {"journal_id": method_line.journal_id.id, "payment_method_line_id": method_line.id}
        )._create_payments()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        return invoice

    def _rpc(self, login, model, method, args, kwargs=None):
        self.authenticate(login, f"{login}_pw_1")
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
        )

    def _rpc_error(self, login, model, method, args):
        """The error a JSON-RPC call gets, as the user's browser shows it: (type, message)."""
        self.authenticate(login, f"{login}_pw_1")
        response = self.opener.post(
            f"{self.base_url()}/web/dataset/call_kw/{model}/{method}",
            json={
                "jsonrpc": "2.0",
                "method": "call",
                "params": {"model": model, "method": method, "args": args, "kwargs": {}},
            },
        )
        error = response.json().get("error")
        self.assertTrue(error, f"{login} could call {model}.{method}")
        return error["data"]["name"], error["data"]["message"]

    # ------------------------------------------------------- offering the promotion

    def test_the_card_promotion_is_offered_only_when_paying_with_the_card(self):
        with_card = self._quotation(self.card_line)
        self.assertEqual(self._discount(with_card), 10_000)
        self.assertEqual(
            with_card.crm_promo_label, "10% con Tarjeta Test (with Tarjeta Tienda Test)"
        )
        with_cash = self._quotation(self.cash_line)
        self.assertFalse(with_cash.order_line.reward_id)
        self.assertEqual(with_cash.amount_total, 100_000)

    def test_changing_the_method_on_the_quotation_re_evaluates_the_promotion(self):
        order = self._quotation(self.card_line)
        self.assertEqual(order.amount_total, 90_000)
        order.write({"preferred_payment_method_line_id": self.cash_line.id})
        self.assertFalse(order.order_line.reward_id)
        self.assertEqual(order.amount_total, 100_000)
        order.write({"preferred_payment_method_line_id": self.card_line.id})
        order.action_open_reward_wizard()
        self.assertEqual(order.amount_total, 90_000)

    def test_a_promotion_of_one_sales_team_is_not_offered_to_another(self):
        self.promo.write({"crm_team_ids": [Command.set(self.team.ids)]})
        self.assertEqual(self._discount(self._quotation(self.card_line, self.team)), 10_000)
        other = self._quotation(self.card_line, self.other_team)
        self.assertFalse(other.order_line.reward_id)
        # moving the quotation to the other team takes the promotion away
        order = self._quotation(self.card_line, self.team)
        order.write({"team_id": self.other_team.id})
        self.assertFalse(order.order_line.reward_id)

    # ------------------------------------------------------------ compliance

    def test_paid_with_the_card_nothing_is_flagged(self):
        order = self._quotation(self.card_line)
        order.action_confirm()
        self.assertEqual(order.crm_required_payment_line_ids, self.card_line)
        invoice = self._invoice_and_pay(order, self.card_line)
        self.assertFalse(order.crm_promo_compliance)
        self.assertFalse(invoice.crm_promo_compliance)

    def test_paid_otherwise_the_order_is_flagged_and_the_difference_billed(self):
        order = self._quotation(self.card_line)
        order.action_confirm()
        cron = self.env.ref("crm_loyalty.ir_cron_bill_promotion_differences")
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        invoice = self._invoice_and_pay(order, self.cash_line)
        self.assertEqual(order.crm_promo_compliance, "flagged")
        self.assertEqual(order.crm_promo_action, "debit_note")
        # the debit note is billed right after the payment, by the scheduled action
        self.assertEqual(
            self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]), triggers + 1
        )
        self.assertEqual(self.env["crm.loyalty.scheduler"]._bill_promotion_differences(), order)
        self.assertFalse(self.env["crm.loyalty.scheduler"]._bill_promotion_differences())
        self.assertEqual(order.crm_promo_compliance, "billed")
        self.assertEqual(invoice.crm_promo_compliance, "billed")
        self.assertEqual(order.crm_promo_difference, 10_000)
        self.assertEqual(order.crm_promo_paid_with, self.cash_line.display_name)
        self.assertIn("Caja Test", order.crm_promo_paid_with)
        debit_note = order.crm_promo_debit_note_id
        self.assertEqual(debit_note.debit_origin_id, invoice)
        self.assertEqual(debit_note.state, "draft")
        self.assertEqual(debit_note.amount_total, 10_000)
        self.assertEqual(debit_note.partner_id, invoice.partner_id)
        activity = order.activity_ids.filtered(
            lambda act: act.summary == "Promotion paid with another method"
        )
        self.assertEqual(len(activity), 1)
        self.assertTrue(activity.user_id.has_group("account.group_account_manager"))
        # the accountant finds it in the compliance list
        flagged = (
            self.env["sale.order"]
            .with_user(self.accountant)
            .search([("crm_promo_compliance", "!=", False)])
        )
        self.assertIn(order, flagged)

    def test_paid_otherwise_an_accountant_accepts_and_is_recorded(self):
        self.promo.crm_compliance_action = "accept"
        order = self._quotation(self.card_line)
        order.action_confirm()
        invoice = self._invoice_and_pay(order, self.cash_line)
        self.assertEqual(order.crm_promo_compliance, "flagged")
        self.assertFalse(order.crm_promo_debit_note_id)
        # the salesperson cannot decide, not even through JSON-RPC
        kind, message = self._rpc_error(
            "promo_sales", "sale.order", "action_crm_accept_promotion_difference", [order.ids]
        )
        self.assertEqual(kind, "odoo.exceptions.AccessError")
        self.assertIn("Only accountants decide", message)
        self.assertTrue(
            self._rpc(
                "promo_accountant",
                "sale.order",
                "action_crm_accept_promotion_difference",
                [order.ids],
            )
        )
        order.invalidate_recordset()
        invoice.invalidate_recordset()
        self.assertEqual(order.crm_promo_compliance, "accepted")
        self.assertEqual(invoice.crm_promo_compliance, "accepted")
        self.assertEqual(order.crm_promo_accepted_by_id, self.accountant)
        self.assertTrue(order.crm_promo_accepted_on)
        # decided once: no second decision
        with self.assertRaises(UserError):
            order.with_user(self.accountant).action_crm_bill_promotion_difference()

    def test_the_accountant_bills_a_flagged_difference_by_hand(self):
        self.promo.crm_compliance_action = "accept"
        order = self._quotation(self.card_line)
        order.action_confirm()
        invoice = self._invoice_and_pay(order, self.cash_line)
        action = order.with_user(self.accountant).action_crm_bill_promotion_difference()
        debit_note = self.env["account.move"].browse(action["res_id"])
        self.assertEqual(debit_note.debit_origin_id, invoice)
        self.assertEqual(debit_note.amount_total, 10_000)
        self.assertEqual(order.crm_promo_compliance, "billed")

    def test_nobody_sets_the_compliance_or_the_required_methods_by_hand(self):
        order = self._quotation(self.card_line)
        order.action_confirm()
        for vals in (
            {"crm_promo_compliance": "accepted"},
            {"crm_required_payment_line_ids": [[6, 0, []]]},
            {"crm_promo_difference": 0},
        ):
            for login in ("promo_sales", "promo_accountant", "promo_manager"):
                with self.subTest(login=login, vals=vals):
                    with self.assertRaises(JsonRpcException):
                        self._rpc(login, "sale.order", "write", [order.ids, vals])
        with self.assertRaises(UserError):
            self.env["sale.order"].browse(order.ids).write({"crm_promo_compliance": "accepted"})
        self.assertEqual(order.crm_required_payment_line_ids, self.card_line)
        self.assertFalse(order.crm_promo_compliance)

    def test_a_changed_method_applies_to_future_orders_and_old_orders_keep_theirs(self):
        order = self._quotation(self.card_line)
        order.action_confirm()
        self.promo.with_user(self.sales_manager).write(
            {"crm_payment_method_line_ids": [Command.set(self.cash_line.ids)]}
        )
        self.assertEqual(order.crm_required_payment_line_ids, self.card_line)
        # paid with the card it required at confirmation: compliant
        self._invoice_and_pay(order, self.card_line)
        self.assertFalse(order.crm_promo_compliance)
        # a new quotation follows the new condition
        self.assertEqual(self._discount(self._quotation(self.cash_line)), 10_000)
        self.assertFalse(self._quotation(self.card_line).order_line.reward_id)

    def test_nobody_creates_an_order_already_decided(self):
        kind, message = self._rpc_error(
            "promo_sales",
            "sale.order",
            "create",
            [{"partner_id": self.customer.id, "crm_promo_compliance": "accepted"}],
        )
        self.assertEqual(kind, "odoo.exceptions.UserError")
        self.assertIn("accountant's decision only", message)
        order = self._quotation(self.card_line)
        with self.assertRaises(UserError):
            order.copy({"crm_promo_compliance": "accepted"})
        with self.assertRaises(UserError):
            self.env["account.move"].create(
                {"move_type": "out_invoice", "crm_promo_compliance": "accepted"}
            )

    def test_a_promotion_added_after_confirmation_is_checked_too(self):
        order = self._quotation(self.cash_line)
        order.action_confirm()
        self.assertFalse(order.crm_required_payment_line_ids)
        # the confirmed order is switched to the card and the promotion claimed on it
        order.with_user(self.salesperson).write(
            {"preferred_payment_method_line_id": self.card_line.id}
        )
        order.with_user(self.salesperson).action_open_reward_wizard()
        self.assertEqual(self._discount(order), 10_000)
        self._invoice_and_pay(order, self.cash_line)
        self.assertEqual(order.crm_promo_compliance, "flagged")

    def test_a_gift_that_requires_the_card_is_billed_at_its_price(self):
        self.promo.active = False
        self.gift.write(
            {"active": True, "crm_payment_method_line_ids": [Command.set(self.card_line.ids)]}
        )
        order = self._quotation(self.card_line)
        self.assertEqual(order.order_line.filtered("reward_id").product_id, self.pans)
        order.action_confirm()
        self._invoice_and_pay(order, self.cash_line)
        self.assertEqual(order.crm_promo_difference, 20_000)
        self.env["crm.loyalty.scheduler"]._bill_promotion_differences()
        self.assertEqual(order.crm_promo_debit_note_id.amount_total, 20_000)

    def test_points_programs_cannot_require_a_payment_method(self):
        points = self.env["loyalty.program"].create(
            {"name": "Puntos test medio de pago", "program_type": "loyalty"}
        )
        with self.assertRaises(ValidationError) as caught:
            points.with_user(self.sales_manager).write(
                {"crm_payment_method_line_ids": [Command.set(self.card_line.ids)]}
            )
        self.assertIn("points, eWallet or gift card", str(caught.exception))
        self.assertFalse(points.crm_payment_method_line_ids)

    def test_the_salesperson_of_the_order_does_not_accept_its_difference(self):
        self.promo.crm_compliance_action = "accept"
        self.salesperson.group_ids |= self.env.ref("account.group_account_invoice")
        order = self._quotation(self.card_line)
        order.action_confirm()
        self._invoice_and_pay(order, self.cash_line)
        with self.assertRaises(AccessError):
            order.with_user(self.salesperson).action_crm_accept_promotion_difference()
        self.assertEqual(order.crm_promo_compliance, "flagged")

    def test_a_cancelled_debit_note_puts_the_order_back_to_the_accountant(self):
        order = self._quotation(self.card_line)
        order.action_confirm()
        invoice = self._invoice_and_pay(order, self.cash_line)
        self.env["crm.loyalty.scheduler"]._bill_promotion_differences()
        debit_note = order.crm_promo_debit_note_id
        debit_note.with_user(self.accountant).button_cancel()
        self.assertEqual(order.crm_promo_compliance, "flagged")
        self.assertEqual(invoice.crm_promo_compliance, "flagged")
        self.assertFalse(order.crm_promo_debit_note_id)
        # and the scheduled action does not bill it again by itself
        self.assertFalse(self.env["crm.loyalty.scheduler"]._bill_promotion_differences())
        order.with_user(self.accountant).action_crm_accept_promotion_difference()
        self.assertEqual(order.crm_promo_compliance, "accepted")

    # ------------------------------------------------------------- bad input

    def test_bad_conditions_are_refused_and_nothing_is_saved(self):
        other_company = self.env["res.company"].create({"name": "Otra Empresa SpA"})
        other_journal = self.env["account.journal"].create(
            {"name": "Banco otra", "code": "BOT", "type": "bank", "company_id": other_company.id}
        )
        outbound = self.cash_journal.outbound_payment_method_line_ids[:1]
        unoffered = self.env["payment.method"].create(
            {"name": "Tarjeta sin proveedor", "code": "crm_none"}
        )
        promo = self.promo.with_user(self.sales_manager)
        cases = [
            (
                {
                    "crm_payment_method_line_ids": [
                        [6, 0, other_journal.inbound_payment_method_line_ids[:1].ids]
                    ]
                },
                "Otra Empresa SpA",
            ),
            ({"crm_payment_method_line_ids": [[6, 0, outbound.ids]]}, "pays suppliers"),
            ({"crm_payment_method_ids": [[6, 0, unoffered.ids]]}, "No active payment provider"),
            ({"crm_team_ids": [[6, 0, [987654321]]]}, "987654321"),
            ({"crm_team_ids": [[6, 0, ["1; DROP TABLE crm_team"]]]}, "by their number"),
            ({"crm_payment_method_line_ids": [[4, 987654321]]}, "987654321"),
        ]
        for vals, message in cases:
            with self.subTest(vals=vals):
                with self.assertRaises(ValidationError) as caught:
                    promo.write(vals)
                self.assertIn(message, str(caught.exception))
                self.promo.invalidate_recordset()
                self.assertEqual(self.promo.crm_payment_method_line_ids, self.card_line)
                self.assertFalse(self.promo.crm_team_ids)
                self.assertFalse(self.promo.crm_payment_method_ids)
        # through JSON-RPC, the same clear message
        kind, message = self._rpc_error(
            "promo_manager",
            "loyalty.program",
            "write",
            [self.promo.ids, {"crm_team_ids": [[6, 0, [987654321]]]}],
        )
        self.assertEqual(kind, "odoo.exceptions.ValidationError")
        self.assertIn("987654321", message)

    def test_a_salesperson_cannot_change_a_promotion(self):
        with self.assertRaises(AccessError):
            self.promo.with_user(self.salesperson).write(
                {"crm_payment_method_line_ids": [Command.clear()]}
            )

    # ---------------------------------------------------------- gift with purchase

    def test_the_gift_is_free_for_the_customer_and_its_cost_is_in_the_margin(self):
        self.promo.active = False
        self.gift.active = True
        order = self._quotation(self.cash_line)
        gift_line = order.order_line.filtered("reward_id")
        self.assertEqual(gift_line.product_id, self.pans)
        self.assertEqual(gift_line.price_total, 0)
        self.assertEqual(order.amount_total, 100_000)
        # sale_margin: cooker 100,000 - 60,000, minus the pans' cost 8,000
        self.assertEqual(order.margin, 32_000)
        order.action_confirm()
        self.env.flush_all()
        rows = self.env["crm.loyalty.contribution"].search(
            [("order_id", "=", order.id), ("program_id", "=", self.gift.id)]
        )
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows.gift_cost, 8_000)
        self.assertEqual(rows.goods_margin, 40_000)
        self.assertEqual(rows.contribution, 32_000)

    # ------------------------------------------------------- 360 page and portal

    def test_the_customer_360_and_portal_list_the_promotions_used(self):
        order = self._quotation(self.card_line)
        order.action_confirm()
        summary = self.customer.with_user(self.salesperson).crm_promotion_summary
        self.assertIn("10% con Tarjeta Test", summary)
        self.assertIn("payment method", summary)
        portal = new_test_user(
            self.env, login="promo_portal", password="promo_portal_pw_1", groups="base.group_portal"
        )
        portal.partner_id.parent_id = self.customer
        self.authenticate("promo_portal", "promo_portal_pw_1")
        response = self.url_open("/my/points")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Promotions with your payment method", response.text)
        self.assertIn("10% con Tarjeta Test", response.text)
        self.assertIn('text-bg-info ms-1">with Tarjeta Tienda Test', response.text)
        # what the promotion gives
        self.assertIn(self.promo.reward_ids[0].description, response.text)
        # another customer's portal sees the offer, not this customer's use of it
        stranger = new_test_user(
            self.env,
            login="promo_stranger",
            password="promo_stranger_pw_1",
            groups="base.group_portal",
        )
        self.assertTrue(stranger)
        self.authenticate("promo_stranger", "promo_stranger_pw_1")
        response = self.url_open("/my/points")
        self.assertIn("10% con Tarjeta Test", response.text)
        self.assertNotIn("Promotion used", response.text)
        # a promotion named after its payment method does not repeat it in a badge
        self.promo.name = "10% with Tarjeta Tienda Test"
        response = self.url_open("/my/points")
        self.assertIn("10% with Tarjeta Tienda Test", response.text)
        self.assertNotIn('text-bg-info ms-1">with Tarjeta Tienda Test', response.text)


@tagged("post_install", "-at_install")
class TestPromotionPaymentTour(HttpCase):
    """The salesperson's quotation in the browser."""

    def test_a_salesperson_quotes_with_the_store_card_then_cash(self):
        self.env["loyalty.program"].search([]).action_archive()
        manual_in = self.env.ref("account.account_payment_method_manual_in")
        card_journal = self.env["account.journal"].create(
            {
                "name": "Tarjeta Tienda Tour",
                "code": "TTTR",
                "type": "bank",
                "inbound_payment_method_line_ids": [Command.clear()],
            }
        )
        card_line = self.env["account.payment.method.line"].create(
            {
                "name": "Tarjeta Tienda Tour",
                "journal_id": card_journal.id,
                "payment_method_id": manual_in.id,
            }
        )
        cash_journal = self.env["account.journal"].create(
            {
                "name": "Caja Tour",
                "code": "CJTR",
                "type": "cash",
                "inbound_payment_method_line_ids": [Command.clear()],
            }
        )
        cash_line = self.env["account.payment.method.line"].create(
            {"name": "Caja Tour", "journal_id": cash_journal.id, "payment_method_id": manual_in.id}
        )
        cooker = self.env["product.product"].create(
            {
                "name": "Cocina tour",
                "type": "consu",
                "list_price": 100_000.0,
                "taxes_id": [Command.clear()],
            }
        )
        self.env["loyalty.program"].create(
            card_promotion_values("10% con Tarjeta Tour", cooker, card_line)
        )
        salesperson = new_test_user(
            self.env, login="promo_tour_sales", groups="sales_team.group_sale_salesman"
        )
        customer = self.env["res.partner"].create({"name": "Cliente Tour Promo"})
        pricelist = self.env["product.pricelist"].create(
            {"name": "Lista tour promociones", "currency_id": self.env.company.currency_id.id}
        )
        order = (
            self.env["sale.order"]
            .with_user(salesperson)
            .create(
                {
                    "partner_id": customer.id,
                    "pricelist_id": pricelist.id,
                    "preferred_payment_method_line_id": cash_line.id,
                    "order_line": [
                        Command.create({"product_id": cooker.id, "tax_ids": [Command.clear()]})
                    ],
                }
            )
        )
        self.start_tour(
            f"/odoo/sales/{order.id}", "crm_promotion_payment_tour", login=salesperson.login
        )
        self.assertEqual(order.preferred_payment_method_line_id, cash_line)
        self.assertFalse(order.order_line.reward_id)
        self.assertEqual(order.amount_total, 100_000)
        # the tour saw the discount with the card; with cash its line is deleted, not hidden
        self.assertEqual(len(order.order_line), 1)


@tagged("post_install", "-at_install")
class TestSeedPromotions(HttpCase):
    """The demo store's two seed promotions of the back office, as its own staff: 10 % off
    cookers with Tarjeta Tienda Andina, and the set of pans given with a cooker."""

    def setUp(self):
        super().setUp()
        self.store = self.env.ref(
            "crm_relationship.res_company_andina_demo", raise_if_not_found=False
        )
        if not self.store:
            self.skipTest("demo data is not installed (no Tienda Andina SpA)")
        self.card_promo = self.env.ref("crm_loyalty.loyalty_program_cooker_card_demo")
        self.gift = self.env.ref("crm_loyalty.loyalty_program_cooker_gift_demo")
        self.card_line = self.env.ref("crm_loyalty.account_payment_method_line_store_card_demo")
        self.cooker = self.env.ref("crm_loyalty.product_cooker_demo")
        self.pans = self.env.ref("crm_loyalty.product_pans_demo")
        self.cash_line = (
            self.env["account.journal"]
            .search(
                [
                    ("company_id", "=", self.store.id),
                    ("type", "in", ("bank", "cash")),
                    ("id", "!=", self.card_line.journal_id.id),
                ],
                limit=1,
            )
            .inbound_payment_method_line_ids[:1]
        )
        self.assertTrue(self.cash_line)
        self.salesperson = new_test_user(
            self.env,
            login="andina_seed_sales",
            groups="sales_team.group_sale_salesman",
            company_id=self.store.id,
            company_ids=[self.store.id],
        )
        self.accountant = new_test_user(
            self.env,
            login="andina_seed_accountant",
            groups="account.group_account_invoice",
            company_id=self.store.id,
            company_ids=[self.store.id],
        )
        self.customer = self.env["res.partner"].create(
            {"name": "Ignacio Seed Fuentes", "company_id": self.store.id}
        )

    def _quotation(self, method_line):
        order = (
            self.env["sale.order"]
            .with_user(self.salesperson)
            .with_company(self.store)
            .create(
                {
                    "partner_id": self.customer.id,
                    "preferred_payment_method_line_id": method_line.id,
                    "order_line": [Command.create({"product_id": self.cooker.id})],
                }
            )
        )
        order._update_programs_and_rewards()
        # the two seed promotions (the store's points program has its own tests)
        seeds = self.card_promo | self.gift
        for coupon, rewards in order._get_claimable_rewards().items():
            for reward in rewards.filtered(lambda reward: reward.program_id in seeds):
                order._apply_program_reward(reward, coupon)
        return order

    def test_with_the_store_card_the_cooker_gets_10_percent_and_the_pans(self):
        order = self._quotation(self.card_line)
        rewards = order.order_line.filtered("reward_id")
        self.assertEqual(rewards.reward_id.program_id, self.card_promo | self.gift)
        discount = rewards.filtered(lambda line: line.reward_id.program_id == self.card_promo)
        cooker_line = order.order_line.filtered(lambda line: line.product_id == self.cooker)
        self.assertAlmostEqual(-discount.price_total, cooker_line.price_total * 0.10, places=0)
        gift = rewards.filtered(lambda line: line.reward_id.program_id == self.gift)
        self.assertEqual((gift.product_id, gift.price_total), (self.pans, 0))
        # the pans are free for the customer, not for the store: their cost is in the margin
        self.assertAlmostEqual(
            order.margin,
            cooker_line.margin
            + discount.margin
            - self.pans.with_company(self.store).standard_price,
            places=0,
        )
        order.action_confirm()
        self.assertEqual(order.crm_required_payment_line_ids, self.card_line)

    def test_paid_cash_the_store_bills_the_difference(self):
        order = self._quotation(self.card_line)
        order.action_confirm()
        invoice = order.with_user(self.accountant)._create_invoices()
        invoice.action_post()
        self.env["account.payment.register"].with_user(self.accountant).with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create(
            {
                "journal_id": self.cash_line.journal_id.id,
                "payment_method_line_id": self.cash_line.id,
            }
        )._create_payments()
        self.assertEqual(order.crm_promo_compliance, "flagged")
        self.env["crm.loyalty.scheduler"]._bill_promotion_differences()
        self.assertEqual(order.crm_promo_compliance, "billed")
        self.assertAlmostEqual(
            order.crm_promo_debit_note_id.amount_total, order.crm_promo_difference, places=0
        )

    def test_without_the_store_card_only_the_gift_holds(self):
        order = self._quotation(self.cash_line)
        self.assertEqual(order.order_line.reward_id.program_id, self.gift)
