from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.exceptions import ValidationError
from odoo.tests import new_test_user
from odoo.tests import tagged

from .common import LoyaltyLedgerCase


@tagged("post_install", "-at_install")
class TestLedger(LoyaltyLedgerCase):
    def test_adjustment_opens_an_available_lot_and_syncs_the_card(self):
        entry = self.card.with_user(self.manager).crm_adjust_points(250, "Bono de bienvenida")
        self.assertEqual((entry.kind, entry.points, entry.remaining), ("adjust", 250, 250))
        self.assertEqual(entry.user_id, self.manager)
        self.assertEqual(self.card.points, 250)
        self.assertLedgerInvariant()

    def test_adjustment_without_reason_is_refused_and_writes_nothing(self):
        with self.assertRaises(UserError):
            self.card.with_user(self.manager).crm_adjust_points(100, "  ")
        self.assertFalse(self._entries())
        self.assertEqual(self.card.points, 0)

    def test_zero_adjustment_is_refused(self):
        with self.assertRaises(UserError):
            self.card.with_user(self.manager).crm_adjust_points(0, "Nada")

    def test_adjustment_by_a_non_manager_is_refused(self):
        with self.assertRaises(UserError):
            self.card.with_user(self.loyalty_user).crm_adjust_points(100, "Regalo")
        self.assertFalse(self._entries())

    def test_redeeming_more_than_available_is_refused_and_writes_nothing(self):
        self._earn(self.card, 100)
        with self.assertRaises(UserError):
            self.card.crm_redeem_points(150)
        self.assertEqual(len(self._entries()), 1)
        self.assertEqual(self.card.points, 100)

    def test_users_who_cannot_write_the_card_cannot_redeem(self):
        self._earn(self.card, 100)
        with self.assertRaises(AccessError):
            self.card.with_user(self.loyalty_user).crm_redeem_points(10)
        self.assertEqual(self.card.points, 100)

    def test_redemption_consumes_lots_first_in_first_out_with_trace(self):
        first = self._earn(self.card, 100)
        second = self._earn(self.card, 100)
        redeem = self.card.crm_redeem_points(150, "Canje")
        self.assertEqual(
            [(c.lot_id, c.points) for c in redeem.consumption_ids], [(first, 100), (second, 50)]
        )
        self.assertEqual((first.remaining, second.remaining), (0, 50))
        self.assertEqual(self.card.points, 50)
        self.assertLedgerInvariant()

    def test_posted_entries_cannot_be_edited_or_deleted(self):
        entry = self._earn(self.card, 100)
        with self.assertRaises(UserError):
            entry.sudo().write({"points": 1000})
        with self.assertRaises(UserError):
            entry.sudo().unlink()
        with self.assertRaises(UserError):
            self.Ledger.sudo().create(
                {
                    "card_id": self.card.id,
                    "program_id": self.program.id,
                    "kind": "earn",
                    "points": 5,
                }
            )
        self.assertEqual(entry.points, 100)

    def test_update_balance_wizard_posts_an_adjustment_with_its_reason(self):
        self._earn(self.card, 100)
        wizard = (
            self.env["loyalty.card.update.balance"]
            .with_user(self.manager)
            .create({"card_id": self.card.id, "new_balance": 40, "description": "Error de caja"})
        )
        wizard.action_update_card_point()
        adjust = self._entries(kind="adjust")
        self.assertEqual((adjust.points, adjust.reason), (-60, "Error de caja"))
        self.assertEqual(self.card.points, 40)
        self.assertLedgerInvariant()

    def test_update_balance_wizard_refuses_a_non_manager(self):
        salesman = new_test_user(
            self.env, login="loy_salesman_wiz", groups="sales_team.group_sale_salesman"
        )
        wizard = (
            self.env["loyalty.card.update.balance"]
            .with_user(salesman)
            .create({"card_id": self.card.id, "new_balance": 40, "description": "Regalo"})
        )
        with self.assertRaises(UserError):
            wizard.action_update_card_point()
        self.assertEqual(self.card.points, 0)

    def test_points_written_by_another_application_reach_the_ledger(self):
        self.card.points = 75
        entry = self._entries()
        self.assertEqual((entry.kind, entry.points, entry.source_type), ("earn", 75, "system"))
        self.card.points = 25
        self.assertEqual(self._entries()[-1].points, -50)
        self.assertLedgerInvariant()

    def test_card_created_with_points_records_an_initial_balance(self):
        card = self.env["loyalty.card"].create(
            {"program_id": self.program.id, "partner_id": self.other_partner.id, "points": 30}
        )
        self.assertEqual(self._entries(card).points, 30)
        self.assertEqual(card.points, 30)

    def test_card_created_from_its_program_records_an_initial_balance(self):
        # the program's card list creates cards with the program in the context
        card = (
            self.env["loyalty.card"]
            .with_context(default_program_id=self.program.id)
            .create({"partner_id": self.other_partner.id, "points": 30})
        )
        self.assertEqual(card.program_id, self.program)
        self.assertEqual((self._entries(card).kind, self._entries(card).points), ("earn", 30))
        self.assertEqual(card.points, 30)
        self.assertLedgerInvariant()

    def test_a_validity_of_zero_months_is_refused(self):
        with self.assertRaises(ValidationError):
            self.program.crm_expiry_months = 0

    def test_channel_logging_history_after_the_points_lends_its_document(self):
        # The point of sale adds points to the card, then logs a loyalty.history row.
        order = self._order(qty=1)
        self.card.points += 42
        self.env["loyalty.history"].create(
            {
                "card_id": self.card.id,
                "description": "Caja 3",
                "issued": 42,
                "order_model": order._name,
                "order_id": order.id,
            }
        )
        entry = self._entries()
        self.assertEqual(
            (entry.points, entry.source_model, entry.source_id), (42, "sale.order", order.id)
        )
        self.assertEqual(entry.source_type, "sale")
        with self.assertRaises(UserError):
            entry.with_context(
                crm_loyalty_engine=True, crm_loyalty_attach_source=True
            ).sudo().write({"source_id": order.id + 1})

    def test_merging_customers_moves_points_through_the_ledger(self):
        self._earn(self.card, 120)
        other_card = self.env["loyalty.card"].create(
            {"program_id": self.program.id, "partner_id": self.other_partner.id}
        )
        self._earn(other_card, 30)
        wizard = self.env["base.partner.merge.automatic.wizard"].create({})
        wizard._merge((self.partner | self.other_partner).ids, self.other_partner)
        self.assertEqual(other_card.points, 150)
        self.assertEqual(self.card.points, 0)
        moves = self._entries(other_card, kind="adjust")
        self.assertEqual((moves.points, moves.reason), (120, "Customers merged"))
        self.assertLedgerInvariant(self.card | other_card)
