import math

from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.tests import new_test_user
from odoo.tests import tagged
from odoo.tools import SQL

from .common import LoyaltyLedgerCase

BAD_AMOUNTS = [math.nan, math.inf, -math.inf, 1e300, 1e12 + 1, "abc", None, True, [], {}, 0.004]


@tagged("post_install", "-at_install")
class TestOpeningLedger(LoyaltyLedgerCase):
    """A database that had loyalty cards before the ledger keeps every point."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Cards that collected points while their program was outside the ledger, as on a
        # database where only Odoo's loyalty app ran.
        cls.old_program = cls.env["loyalty.program"].create(
            {"name": "Puntos Antiguos", "program_type": "loyalty", "crm_ledger": False}
        )
        cls.old_cards = cls.env["loyalty.card"].create(
            [
                {"program_id": cls.old_program.id, "partner_id": cls.partner.id, "points": 500},
                {"program_id": cls.old_program.id, "partner_id": cls.other_partner.id,
                 "points": 120.5},
                {"program_id": cls.old_program.id, "partner_id": cls.other_partner.id},
            ]
        )  # fmt: skip

    def _balances(self, cards):
        cards.invalidate_recordset(["points"])
        return [card.points for card in cards]

    def test_joining_the_ledger_opens_each_card_with_its_points(self):
        self.old_program.crm_ledger = True
        self.assertEqual(self._balances(self.old_cards), [500, 120.5, 0])
        opening = self.Ledger.search([("card_id", "in", self.old_cards.ids)], order="card_id")
        self.assertEqual(opening.mapped("kind"), ["opening", "opening"])
        self.assertEqual(opening.mapped("remaining"), [500, 120.5])
        self.assertEqual(opening.mapped("source_name"), self.old_cards[:2].mapped("code"))
        self.assertLedgerInvariant(self.old_cards)
        # the reported bug: "only 0 points available" on the first redemption
        self.old_cards[0].crm_redeem_points(100, "Canje")
        self.assertEqual(self._balances(self.old_cards[:1]), [400])
        self.assertLedgerInvariant(self.old_cards)

    def test_install_opening_is_idempotent(self):
        # what the install and every update run (data/crm_loyalty_opening_data.xml)
        self.env.execute_query(
            SQL("UPDATE loyalty_program SET crm_ledger = TRUE WHERE id = %s", self.old_program.id)
        )
        self.old_program.invalidate_recordset(["crm_ledger"])
        Program = self.env["loyalty.program"]
        Program._crm_open_all_ledgers()
        Program._crm_open_all_ledgers()
        entries = self.Ledger.search([("card_id", "in", self.old_cards.ids)])
        self.assertEqual(len(entries), 2)
        self.assertEqual(self._balances(self.old_cards), [500, 120.5, 0])
        self.assertLedgerInvariant(self.old_cards)

    def test_points_changed_while_outside_the_ledger_are_adjusted_when_it_returns(self):
        self.old_program.crm_ledger = True
        self.old_program.crm_ledger = False
        self.old_cards[0].points = 650  # Odoo alone moved the card
        self.old_program.crm_ledger = True
        adjust = self._entries(self.old_cards[0], kind="adjust")
        self.assertEqual(adjust.points, 150)
        self.assertEqual(self._balances(self.old_cards[:1]), [650])
        self.assertLedgerInvariant(self.old_cards)

    def test_archived_programs_are_opened_too(self):
        self.old_program.action_archive()
        self.env.execute_query(
            SQL("UPDATE loyalty_program SET crm_ledger = TRUE WHERE id = %s", self.old_program.id)
        )
        self.old_program.invalidate_recordset(["crm_ledger"])
        self.env["loyalty.program"]._crm_open_all_ledgers()
        self.assertEqual(len(self.Ledger.search([("card_id", "in", self.old_cards.ids)])), 2)


@tagged("post_install", "-at_install")
class TestBadNumbers(LoyaltyLedgerCase):
    """Amounts are attacker input: a clear UserError, nothing written."""

    def test_bad_adjustments_and_redemptions_are_refused_and_write_nothing(self):
        self._earn(self.card, 100)
        manager_card = self.card.with_user(self.manager)
        for amount in BAD_AMOUNTS:
            with self.subTest(amount=amount):
                with self.assertRaises(UserError):
                    manager_card.crm_adjust_points(amount, "Ajuste")
                with self.assertRaises(UserError):
                    self.card.crm_redeem_points(amount, "Canje")
        self.assertEqual(len(self._entries()), 1)
        self.assertEqual(self.card.points, 100)
        self.assertLedgerInvariant()

    def test_numeric_text_is_read_as_a_number(self):
        self.card.with_user(self.manager).crm_adjust_points("12,5", "Ajuste escrito a mano")
        self.assertEqual(self.card.points, 12.5)

    def test_tiny_redemptions_are_rounded_and_never_overdraw(self):
        self._earn(self.card, 0.02)
        self.card.crm_redeem_points(0.005, "Canje mínimo")  # rounds to one cent
        self.card.crm_redeem_points(0.005, "Canje mínimo")
        with self.assertRaises(UserError):
            self.card.crm_redeem_points(0.005, "Canje mínimo")
        self.assertEqual(self.card.points, 0)
        self.assertEqual(self._entries(kind="earn").remaining, 0)
        self.assertLedgerInvariant()

    def test_writing_bad_points_on_a_card_is_refused(self):
        for amount in (math.nan, math.inf, 1e300, "abc"):
            with self.subTest(amount=amount), self.assertRaises(UserError):
                self.card.write({"points": amount})
        with self.assertRaises(UserError):
            self.env["loyalty.card"].create(
                {"program_id": self.program.id, "partner_id": self.partner.id, "points": math.nan}
            )
        self.assertFalse(self._entries())

    def test_update_balance_wizard_refuses_an_infinite_balance(self):
        wizard = (
            self.env["loyalty.card.update.balance"]
            .with_user(self.manager)
            .create({"card_id": self.card.id, "new_balance": math.inf, "description": "Error"})
        )
        with self.assertRaises(UserError):
            wizard.action_update_card_point()
        self.assertEqual(self.card.points, 0)

    def test_opening_points_on_a_program_whose_tiers_use_the_amount_spent(self):
        self.program.write(
            {
                "crm_tier_basis": "amount",
                "crm_tier_ids": [
                    (0, 0, {"name": "Clásico", "sequence": 1, "threshold": 0}),
                    (0, 0, {"name": "Oro", "sequence": 2, "threshold": 1000}),
                ],
            }
        )
        card = self.env["loyalty.card"].create(
            {"program_id": self.program.id, "partner_id": self.other_partner.id, "points": 40}
        )
        self.assertEqual(card.points, 40)
        self.assertEqual(card.crm_tier_id.name, "Clásico")


@tagged("post_install", "-at_install")
class TestRoles(LoyaltyLedgerCase):
    """Each flow as the least-privileged user that performs it, and each refusal."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesperson = new_test_user(
            cls.env, login="loy_plain_salesperson", groups="sales_team.group_sale_salesman"
        )
        cls.cashier = new_test_user(
            cls.env,
            login="loy_cashier",
            groups="sales_team.group_sale_salesman,crm_loyalty.group_user",
        )
        cls.accountant = new_test_user(
            cls.env, login="loy_accountant", groups="account.group_account_invoice"
        )
        cls.portal = new_test_user(cls.env, login="loy_portal", groups="base.group_portal")
        cls.program.crm_tier_ids = [
            (0, 0, {"name": "Clásico", "sequence": 1, "threshold": 0}),
            (0, 0, {"name": "Plata", "sequence": 2, "threshold": 150, "multiplier": 2}),
        ]

    def test_a_plain_salesperson_confirms_quotations_with_and_without_card(self):
        walk_in = self.env["res.partner"].create({"name": "Cliente Sin Tarjeta"})
        for partner in (walk_in, self.partner):
            order = self._order(qty=2, partner=partner)
            order.user_id = self.salesperson
            order.with_user(self.salesperson).action_confirm()
            self.assertEqual(order.state, "sale")
        self.assertEqual(self.card.points, 200)
        self.assertEqual(self.card.crm_tier_id.name, "Plata")
        # the tier multiplier applies to the salesperson's next quotation too
        order = self._order(qty=1)
        order.user_id = self.salesperson
        order.with_user(self.salesperson)._update_programs_and_rewards()
        order.with_user(self.salesperson).action_confirm()
        self.assertEqual(self.card.points, 400)
        self.assertLedgerInvariant()

    def test_a_salesperson_cannot_write_points_whatever_the_context(self):
        self._earn(self.card, 100)
        card = self.card.with_user(self.salesperson).with_context(
            crm_loyalty_sync=True, crm_loyalty_managed=True, crm_loyalty_kind="expire"
        )
        with self.assertRaises(UserError):
            card.points = 5000
        with self.assertRaises(UserError):
            card.write({"points": 0})
        self.assertEqual(self.card.points, 100)
        self.assertEqual(len(self._entries()), 1)

    def test_the_cashier_redeems_at_the_counter_and_cannot_adjust(self):
        self._earn(self.card, 100)
        self.card.with_user(self.cashier).crm_redeem_points(40, "Canje en caja")
        self.assertEqual(self.card.points, 60)
        with self.assertRaises(UserError):
            self.card.with_user(self.cashier).crm_adjust_points(40, "Regalo")
        self.assertEqual(self.card.points, 60)
        self.assertLedgerInvariant()

    def test_the_accountant_refunds_and_the_points_are_reversed(self):
        order = self._confirmed_order(qty=2)
        invoice = self._invoice(order)
        refund = invoice.with_user(self.accountant)._reverse_moves()
        refund.action_post()
        self.assertEqual(self.card.points, 0)
        self.assertEqual(self._entries(kind="reverse").points, -200)
        self.assertLedgerInvariant()

    def test_the_accountant_payment_releases_points_pending_payment(self):
        self.program.crm_pending_mode = "paid"
        order = self._confirmed_order(qty=1)
        self.assertEqual(self.card.points, 0)
        invoice = self._invoice(order)
        self.env["account.payment.register"].with_user(self.accountant).with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({})._create_payments()
        self.assertEqual(self.card.points, 100)
        self.assertLedgerInvariant()

    def test_a_portal_customer_can_neither_redeem_nor_adjust(self):
        self._earn(self.card, 100)
        self.partner.user_ids = self.portal
        with self.assertRaises(AccessError):
            self.card.with_user(self.portal).crm_redeem_points(10)
        with self.assertRaises(UserError):  # AccessError is a UserError
            self.card.with_user(self.portal).crm_adjust_points(10, "Yo mismo")
        self.assertEqual(self.card.points, 100)

    def test_a_manager_of_one_company_cannot_touch_cards_of_the_other(self):
        other_company = self.env["res.company"].create({"name": "Tiendas Norte Test"})
        program = self.env["loyalty.program"].create(
            {"name": "Puntos Norte", "program_type": "loyalty", "company_id": other_company.id}
        )
        foreign = self.env["loyalty.card"].create(
            {"program_id": program.id, "partner_id": self.partner.id, "points": 70}
        )
        with self.assertRaises(AccessError):
            foreign.with_user(self.manager).crm_adjust_points(10, "Ajuste")
        with self.assertRaises(AccessError):
            foreign.with_user(self.cashier).crm_redeem_points(10, "Canje")
        self.assertEqual(foreign.points, 70)


@tagged("post_install", "-at_install")
class TestCounterRedemption(LoyaltyLedgerCase):
    def test_the_cashier_redeems_from_the_card_form_wizard(self):
        cashier = new_test_user(
            self.env,
            login="loy_counter_cashier",
            groups="sales_team.group_sale_salesman,crm_loyalty.group_user",
        )
        self._earn(self.card, 100)
        action = self.env.ref("crm_loyalty.crm_loyalty_redeem_wizard_action")
        wizard = (
            self.env[action.res_model]
            .with_user(cashier)
            .with_context(default_card_id=self.card.id)
            .create({"points": 25})
        )
        self.assertEqual(wizard.available, 100)
        wizard.action_redeem()
        self.assertEqual(self.card.points, 75)
        self.assertEqual(self._entries(kind="redeem").reason, "Redemption at the counter")
        refused = (
            self.env[action.res_model]
            .with_user(cashier)
            .create({"card_id": self.card.id, "points": 500})
        )
        with self.assertRaises(UserError):
            refused.action_redeem()
        self.assertEqual(self.card.points, 75)
        self.assertLedgerInvariant()


@tagged("post_install", "-at_install")
class TestRewardLinesOfConfirmedOrders(LoyaltyLedgerCase):
    """Reward lines move points on a confirmed order (Odoo's sale_loyalty): a salesperson can
    neither mint points through them nor spend another customer's, and a cancellation never
    gives back twice."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesperson = new_test_user(
            cls.env, login="loy_reward_salesperson", groups="sales_team.group_sale_salesman"
        )

    def _own_order_with_reward(self):
        self._earn(self.card, 500)
        order = self._order(qty=1)
        order.user_id = self.salesperson
        order._apply_program_reward(self.reward, self.card)
        order.with_user(self.salesperson).action_confirm()
        self.assertEqual(self.card.points, 500 - 100 + 100)
        return order.with_user(self.salesperson)

    def test_a_negative_points_cost_is_refused(self):
        order = self._own_order_with_reward()
        line = order.order_line.filtered("reward_id")
        with self.assertRaises(UserError):
            line.write({"points_cost": -5000})
        with self.assertRaises(UserError):
            line.write({"points_cost": "abc"})
        self.assertEqual(self.card.points, 500)
        self.assertLedgerInvariant()

    def test_a_card_pays_only_for_its_own_customers_orders(self):
        order = self._order(qty=1, partner=self.other_partner)
        order.user_id = self.salesperson
        with self.assertRaises(UserError):
            order.with_user(self.salesperson).order_line.create(
                {
                    "order_id": order.id,
                    "product_id": self.product.id,
                    "coupon_id": self.card.id,
                    "reward_id": self.reward.id,
                    "points_cost": 100,
                }
            )
        self.assertEqual(self.card.points, 0)

    def test_a_reward_made_free_then_cancelling_gives_back_once(self):
        order = self._own_order_with_reward()
        # what Odoo's reset of the rewards does on a confirmed order
        order.order_line.filtered("reward_id").points_cost = 0
        back = self._entries(kind="reverse")
        self.assertEqual((back.points, back.origin_id.kind), (100, "redeem"))
        self.assertEqual(self.card.points, 600)
        # cancelling an order that earned points is a Sales Administrator's in Odoo
        order.sudo()._action_cancel()
        # the order's 100 earned points are reversed; its redemption was already given back
        self.assertEqual(self.card.points, 500)
        self.assertLedgerInvariant()

    def test_raising_the_cost_on_a_confirmed_order_is_a_redemption_of_that_order(self):
        order = self._own_order_with_reward()
        order.order_line.filtered("reward_id").points_cost = 150
        # Odoo gives the 100 back and takes 150: a reversal of the first redemption, a new one
        self.assertEqual(self.card.points, 450)
        self.assertEqual(self._entries(kind="reverse").origin_id.points, -100)
        extra = self._entries(kind="redeem").filtered(lambda entry: entry.points == -150)
        self.assertEqual(extra.source_id, order.id)
        order.sudo()._action_cancel()
        self.assertEqual(self.card.points, 500)
        self.assertLedgerInvariant()

    def test_points_written_directly_are_refused_even_to_a_manager(self):
        with self.assertRaises(UserError):
            self.card.with_user(self.manager).write({"points": 30})
        self.assertEqual(self.card.points, 0)
        self.assertFalse(self._entries())

    def test_only_a_loyalty_manager_switches_the_ledger(self):
        sales_manager = new_test_user(
            self.env, login="loy_sales_manager", groups="sales_team.group_sale_manager"
        )
        with self.assertRaises(AccessError):
            self.program.with_user(sales_manager).crm_ledger = False
        self.assertTrue(self.program.crm_ledger)
        self.program.with_user(self.manager).crm_ledger = False
        self.assertFalse(self.program.crm_ledger)
