from odoo.tests import TransactionCase
from odoo.tests import tagged


@tagged("post_install", "-at_install")
class TestDemoStore(TransactionCase):
    """The Chilean demo retailer (demo data only): pesos, a member in every segment, cards
    whose points are their ledger balance."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.store = cls.env.ref(
            "crm_relationship.res_company_andina_demo", raise_if_not_found=False
        )

    def setUp(self):
        super().setUp()
        if not self.store:
            self.skipTest("demo data is not installed (no Tienda Andina SpA)")

    def _segment(self, name):
        return self.env.ref(f"crm_relationship.crm_customer_segment_andina_{name}_demo")

    def test_store_keeps_its_books_in_chilean_pesos(self):
        self.assertEqual(self.store.currency_id, self.env.ref("base.CLP"))
        self.assertEqual(self.store.account_fiscal_country_id, self.env.ref("base.cl"))
        self.assertIn(self.store, self.env.ref("base.user_admin").company_ids)

    def test_every_segment_of_the_store_has_members(self):
        for name in ("premium", "late_payer", "frequent", "at_risk", "regular"):
            segment = self._segment(name)
            self.assertEqual(segment.company_id, self.store)
            self.assertTrue(segment.member_count, f"no customer in segment {segment.name}")

    def test_premium_customers_bought_over_a_million_pesos_in_twelve_months(self):
        members = self.env["crm.customer.metric"].search(
            [("segment_id", "=", self._segment("premium").id)]
        )
        self.assertGreaterEqual(len(members), 2)
        for metric in members:
            self.assertEqual(metric.company_id, self.store)
            self.assertGreater(metric.revenue_12m, 1_000_000, metric.partner_id.name)

    def test_demo_cards_hold_their_ledger_balance(self):
        program = self.env.ref("crm_loyalty.loyalty_program_andina_demo", raise_if_not_found=False)
        if not program:
            self.skipTest("crm_loyalty demo data is not installed")
        self.assertEqual(program.currency_id, self.env.ref("base.CLP"))
        cards = self.env["loyalty.card"].search([("program_id", "=", program.id)])
        self.assertGreaterEqual(len(cards), 3)
        balances = dict(
            self.env["crm.loyalty.ledger"]._read_group(
                [("card_id", "in", cards.ids), ("state", "=", "available")],
                ["card_id"],
                ["points:sum"],
            )
        )
        for card in cards:
            self.assertIn(card, balances, f"card {card.code} has no ledger history")
            self.assertAlmostEqual(card.points, balances[card], places=2)
        self.assertTrue(cards.filtered("crm_points_pending"), "no card with pending points")
        self.assertTrue(cards.crm_tier_id, "no demo card reached a tier")
