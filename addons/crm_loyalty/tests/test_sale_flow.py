from datetime import date

from freezegun import freeze_time

from odoo.tests import tagged

from .common import LoyaltyLedgerCase


@tagged("post_install", "-at_install")
class TestSaleFlow(LoyaltyLedgerCase):
    def test_confirmed_order_earns_available_points_with_its_source(self):
        order = self._confirmed_order(qty=2)
        earn = self._entries(kind="earn")
        self.assertEqual((earn.points, earn.state), (200, "available"))
        self.assertEqual(
            (earn.source_type, earn.source_model, earn.source_id), ("sale", "sale.order", order.id)
        )
        self.assertEqual(earn.amount, 200)
        self.assertEqual(self.card.points, 200)
        self.assertLedgerInvariant()

    def test_points_earned_when_paid_stay_pending_until_the_invoice_is_paid(self):
        self.program.crm_pending_mode = "paid"
        order = self._confirmed_order(qty=3)
        earn = self._entries(kind="earn")
        self.assertEqual(
            (earn.state, self.card.points, self.card.crm_points_pending), ("pending", 0, 300)
        )
        invoice = self._invoice(order)
        self.assertEqual(earn.state, "pending")
        self._pay(invoice)
        self.assertEqual(earn.state, "available")
        self.assertEqual((self.card.points, self.card.crm_points_pending), (300, 0))
        self.assertLedgerInvariant()

    def test_pending_points_cannot_be_spent(self):
        self.program.crm_pending_mode = "paid"
        self._confirmed_order(qty=3)
        with self.assertRaises(Exception):  # noqa: B017 (UserError, or Odoo's own check)
            self.card.crm_redeem_points(100)
        self.assertEqual(self.card.points, 0)

    def test_points_of_the_return_window_mature_after_it(self):
        self.program.write({"crm_pending_mode": "window", "crm_pending_days": 10})
        with freeze_time("2026-11-01 12:00:00"):
            self._confirmed_order(qty=1)
        earn = self._entries(kind="earn")
        self.assertEqual(earn.mature_date, date(2026, 11, 11))
        scheduler = self.env["crm.loyalty.scheduler"]
        self.assertEqual(scheduler._mature_due_lots(today=date(2026, 11, 10)), 0)
        self.assertEqual(scheduler._mature_due_lots(today=date(2026, 11, 11)), 1)
        self.assertEqual((earn.state, self.card.points), ("available", 100))
        self.assertLedgerInvariant()

    def test_reward_claimed_on_a_later_order_is_redeemed_from_the_ledger(self):
        self._confirmed_order(qty=2)
        order = self._order(qty=1)
        order._apply_program_reward(self.reward, self.card)
        order.action_confirm()
        redeem = self._entries(kind="redeem")
        self.assertEqual((redeem.points, redeem.source_id), (-100, order.id))
        self.assertEqual(redeem.consumption_ids.lot_id, self._entries(kind="earn")[0])
        self.assertEqual(self.card.points, 200 - 100 + 100)
        self.assertLedgerInvariant()

    def test_cancelling_an_order_reverses_its_earned_points(self):
        order = self._confirmed_order(qty=2)
        order._action_cancel()
        reverse = self._entries(kind="reverse")
        self.assertEqual((reverse.points, reverse.origin_id.kind), (-200, "earn"))
        self.assertEqual(self.card.points, 0)
        self.assertLedgerInvariant()

    def test_cancelling_an_order_returns_the_points_it_redeemed(self):
        self._confirmed_order(qty=2)
        order = self._order(qty=1)
        order._apply_program_reward(self.reward, self.card)
        order.action_confirm()
        order._action_cancel()
        self.assertEqual(self.card.points, 200)
        self.assertLedgerInvariant()

    def test_cancelled_pending_points_never_mature(self):
        self.program.crm_pending_mode = "paid"
        order = self._confirmed_order(qty=2)
        order._action_cancel()
        earn = self._entries(kind="earn")
        self.assertEqual(earn.state, "cancelled")
        self.assertEqual((self.card.points, self.card.crm_points_pending), (0, 0))
        self.assertLedgerInvariant()

    def test_partial_credit_note_reverses_points_proportionally(self):
        order = self._confirmed_order(qty=4)
        invoice = self._invoice(order)
        refund = invoice._reverse_moves()
        refund.invoice_line_ids.quantity = 1
        refund.action_post()
        reverse = self._entries(kind="reverse")
        self.assertEqual(
            (reverse.points, reverse.source_model, reverse.source_id),
            (-100, "account.move", refund.id),
        )
        self.assertEqual(self.card.points, 300)
        self.assertLedgerInvariant()

    def test_refund_of_spent_points_becomes_a_debt_settled_by_future_earnings(self):
        order = self._confirmed_order(qty=2)
        self.card.crm_redeem_points(150)
        invoice = self._invoice(order)
        invoice._reverse_moves().action_post()
        reverse = self._entries(kind="reverse")
        self.assertEqual((reverse.points, reverse.debt, self.card.points), (-50, 150, 0))
        self._confirmed_order(qty=2)
        self.assertEqual(reverse.debt, 0)
        self.assertEqual(self.card.points, 50)
        self.assertLedgerInvariant()

    def test_refund_of_spent_points_drives_the_balance_negative_when_allowed(self):
        self.program.crm_allow_negative = True
        order = self._confirmed_order(qty=2)
        self.card.crm_redeem_points(150)
        self._invoice(order)._reverse_moves().action_post()
        self.assertEqual(self.card.points, -150)
        self._confirmed_order(qty=2)
        self.assertEqual(self.card.points, 50)
        self.assertLedgerInvariant()
