from odoo.tests import new_test_user
from odoo.tests import tagged

from .common import LoyaltyLedgerCase


@tagged("post_install", "-at_install")
class TestLedgerSecurity(LoyaltyLedgerCase):
    def test_users_see_only_the_ledger_of_their_companies(self):
        other_company = self.env["res.company"].create({"name": "Tiendas Sur Test"})
        program = self.env["loyalty.program"].create(
            {"name": "Puntos Sur", "program_type": "loyalty", "company_id": other_company.id}
        )
        foreign = self.env["loyalty.card"].create(
            {"program_id": program.id, "partner_id": self.other_partner.id, "points": 10}
        )
        self._earn(self.card, 10)
        visible = self.Ledger.with_user(self.loyalty_user).search(
            [("card_id", "in", (self.card | foreign).ids)]
        )
        self.assertEqual(visible.card_id, self.card)

    def test_loyalty_users_cannot_write_the_ledger(self):
        entry = self._earn(self.card, 10).with_user(self.loyalty_user)
        self.assertTrue(entry.has_access("read"))
        self.assertFalse(entry.has_access("write"))
        self.assertFalse(entry.has_access("unlink"))

    def test_a_salesman_confirming_an_order_writes_the_ledger_without_ledger_rights(self):
        salesman = new_test_user(
            self.env, login="loy_salesman", groups="sales_team.group_sale_salesman"
        )
        order = self._order(qty=1)
        order.user_id = salesman
        order.with_user(salesman).action_confirm()
        self.assertEqual(self._entries(kind="earn").user_id, salesman)
        self.assertEqual(self.card.points, 100)
