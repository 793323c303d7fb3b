from odoo.fields import Command
from odoo.tests import TransactionCase
from odoo.tests import new_test_user

# Every context key this addon ever read, plus plausible ones: none may grant anything.
FORGED_CONTEXT = {
    "crm_loyalty_engine": True,
    "crm_loyalty_sync": True,
    "crm_loyalty_managed": True,
    "crm_loyalty_attach_source": True,
    "crm_loyalty_kind": "expire",
    "crm_loyalty_reason": "forged",
    "crm_loyalty_source_type": "expiry",
    "active_test": False,
}


def card_promotion_values(name, product, method_lines, percent=10):
    """A promotion of ``percent`` % off orders with ``product`` that holds only when paying
    with one of the journal payment methods ``method_lines`` (the store's card)."""
    return {
        "name": name,
        "program_type": "promotion",
        "trigger": "auto",
        "applies_on": "current",
        "crm_payment_method_line_ids": [Command.set(method_lines.ids)],
        "rule_ids": [
            Command.clear(),
            Command.create(
                {
                    "product_ids": [Command.set(product.ids)],
                    "reward_point_mode": "order",
                    "reward_point_amount": 1,
                }
            ),
        ],
        "reward_ids": [
            Command.clear(),
            Command.create(
                {
                    "reward_type": "discount",
                    "discount_mode": "percent",
                    "discount": percent,
                    "discount_applicability": "order",
                    "required_points": 1,
                }
            ),
        ],
    }


def gift_program_values(name, product, gift):
    """Gift with purchase: one ``gift`` free with each ``product`` (Odoo's free product)."""
    return {
        "name": name,
        "program_type": "buy_x_get_y",
        "trigger": "auto",
        "applies_on": "current",
        "rule_ids": [
            Command.clear(),
            Command.create(
                {
                    "product_ids": [Command.set(product.ids)],
                    "reward_point_mode": "unit",
                    "reward_point_amount": 1,
                }
            ),
        ],
        "reward_ids": [
            Command.clear(),
            Command.create(
                {"reward_type": "product", "reward_product_id": gift.id, "required_points": 1}
            ),
        ],
    }


class LoyaltyLedgerCase(TransactionCase):
    """A loyalty program of our own (1 point per peso, a 100-point reward), its cards,
    a product and helpers for the sales flow. Other loyalty programs are archived so
    demo data never interferes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(
            context=dict(cls.env.context, tracking_disable=True, loyalty_no_mail=True)
        )
        cls.env["loyalty.program"].search([]).action_archive()
        cls.program = cls.env["loyalty.program"].create(
            {
                "name": "Test Puntos",
                "program_type": "loyalty",
                "applies_on": "both",
                "trigger": "auto",
                "crm_pending_mode": "none",
                "crm_expiry_mode": "months",
                "crm_expiry_months": 12,
                "rule_ids": [
                    (5, 0, 0),
                    (0, 0, {"reward_point_mode": "money", "reward_point_amount": 1}),
                ],
                "reward_ids": [
                    (5, 0, 0),
                    (
                        0,
                        0,
                        {
                            "reward_type": "discount",
                            "discount": 10,
                            "discount_mode": "per_order",
                            "required_points": 100,
                        },
                    ),
                ],
            }
        )
        cls.reward = cls.program.reward_ids
        cls.partner = cls.env["res.partner"].create(
            {"name": "Valentina Test Rojas", "email": "valentina.test@example.com"}
        )
        cls.other_partner = cls.env["res.partner"].create({"name": "Matías Test González"})
        cls.card = cls.env["loyalty.card"].create(
            {"program_id": cls.program.id, "partner_id": cls.partner.id}
        )
        cls.product = cls.env["product.product"].create(
            {
                "name": "Set de ollas test",
                "type": "consu",
                "list_price": 100.0,
                "invoice_policy": "order",
                "taxes_id": [(5, 0, 0)],
            }
        )
        cls.manager = new_test_user(
            cls.env, login="loy_manager", groups="base.group_user,crm_loyalty.group_manager"
        )
        cls.loyalty_user = new_test_user(
            cls.env, login="loy_user", groups="base.group_user,crm_loyalty.group_user"
        )
        cls.Ledger = cls.env["crm.loyalty.ledger"]

    # ---------------------------------------------------------------- helpers

    def _order(self, qty=1, partner=None, price=None):
        order = self.env["sale.order"].create(
            {
                "partner_id": (partner or self.partner).id,
                "order_line": [
                    (
                        0,
                        0,
                        {
                            "product_id": self.product.id,
                            "product_uom_qty": qty,
                            "price_unit": price or self.product.list_price,
                            "tax_ids": [(5, 0, 0)],
                        },
                    )
                ],
            }
        )
        order._update_programs_and_rewards()
        return order

    def _confirmed_order(self, qty=1, partner=None):
        order = self._order(qty, partner)
        order.action_confirm()
        return order

    def _invoice(self, order):
        invoice = order._create_invoices()
        invoice.action_post()
        return invoice

    def _pay(self, invoice):
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({})._create_payments()

    def _earn(self, card, points, state="available"):
        """Post an earn lot through the ledger engine (what a confirmed order does)."""
        entry = self.Ledger._post_entry(card, "earn", points, state=state, reason="test earn")
        card._crm_sync_points()
        return entry

    def _entries(self, card=None, **filters):
        domain = [("card_id", "=", (card or self.card).id)]
        domain += [(field, "=", value) for field, value in filters.items()]
        return self.Ledger.search(domain, order="id")

    def assertLedgerInvariant(self, cards=None):
        """Card points == available ledger balance; program total == sum of its cards;
        open lots minus debts of negative programs == balance."""
        cards = cards or self.env["loyalty.card"].search([("program_id", "=", self.program.id)])
        cards.invalidate_recordset(["points"])
        self.Ledger.invalidate_model()
        for card in cards:
            entries = self.Ledger.search([("card_id", "=", card.id)])
            digits = card.program_id._crm_points_digits()
            stored = entries.mapped("points") + entries.mapped("remaining") + entries.mapped("debt")
            stored += [*entries.consumption_ids.mapped("points"), card.points]
            for value in stored:
                self.assertEqual(round(value, digits), value, "a stored amount is not rounded")
            available = entries.filtered(lambda e: e.state == "available")
            self.assertAlmostEqual(card.points, sum(available.mapped("points")), places=2)
            lots = sum(available.filtered(lambda e: e.points > 0).mapped("remaining"))
            debts = sum(entries.mapped("debt")) if card.program_id.crm_allow_negative else 0.0
            self.assertAlmostEqual(card.points, lots - debts, places=2)
            self.assertGreaterEqual(
                card.points if not card.program_id.crm_allow_negative else 0.0, 0.0
            )
        programs = cards.program_id
        programs.invalidate_recordset(["crm_points_total"])
        for program in programs:
            ledger = self.Ledger.search(
                [("program_id", "=", program.id), ("state", "=", "available")]
            )
            self.assertAlmostEqual(program.crm_points_total, sum(ledger.mapped("points")), places=2)
