from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.tests import TransactionCase
from odoo.tests import new_test_user
from odoo.tests import tagged


@tagged("post_install", "-at_install")
class TestDemoStore(TransactionCase):
    """The Chilean demo retailer (demo data only): pesos, a few hundred customers over two
    years, each named customer in the segment their story puts them in, cards whose points are
    their ledger balance and that earned on every order."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.store = cls.env.ref(
            "crm_relationship.res_company_andina_demo", raise_if_not_found=False
        )
        # the card holders' purchases come with crm_loyalty's demo (they earn points)
        cls.with_cards = bool(
            cls.env.ref("crm_loyalty.loyalty_program_andina_demo", raise_if_not_found=False)
        )
        if cls.store:
            cls.user = new_test_user(
                cls.env,
                login="demo_store_user",
                groups="sales_team.group_sale_salesman,crm_relationship.group_user",
                company_id=cls.store.id,
                company_ids=[cls.store.id],
            )

    def setUp(self):
        super().setUp()
        if not self.store:
            self.skipTest("demo data is not installed (no Tienda Andina SpA)")

    def _segment(self, name):
        return self.env.ref(f"crm_relationship.crm_customer_segment_andina_{name}_demo")

    def _metric(self, key):
        partner = self.env.ref(f"crm_relationship.res_partner_andina_{key}_demo")
        return (
            self.env["crm.customer.metric"]
            .with_user(self.user)
            .search(
                [
                    ("partner_id", "=", partner.commercial_partner_id.id),
                    ("company_id", "=", self.store.id),
                ]
            )
        )

    def test_a_few_hundred_customers_over_two_years(self):
        metrics = (
            self.env["crm.customer.metric"]
            .with_user(self.user)
            .search([("company_id", "=", self.store.id)])
        )
        today = fields.Date.context_today(self.user)
        self.assertGreaterEqual(len(metrics), 200 if self.with_cards else 150)
        self.assertGreaterEqual(sum(metrics.mapped("order_count")), 400 if self.with_cards else 300)
        first = min(metrics.mapped("first_order_date"))
        self.assertLessEqual(first, today - relativedelta(months=23))
        self.assertGreaterEqual(first, today - relativedelta(months=24))
        # loyal, churned and one-time customers, new ones of the last three months
        self.assertTrue(metrics.filtered(lambda m: m.order_count >= 8))
        self.assertGreaterEqual(len(metrics.filtered(lambda m: m.order_count == 1)), 50)
        self.assertTrue(metrics.filtered(lambda m: m.days_since_last_order > 365))
        recent = today - relativedelta(months=3)
        self.assertGreaterEqual(len(metrics.filtered(lambda m: m.first_order_date >= recent)), 10)

    def test_named_customers_sit_in_the_segment_of_their_story(self):
        expected = {
            "cordillera_paula": "premium",
            "ignacio": "premium",
            "martina": "premium",
            "rodrigo": "late_payer",
            "don_lucho_luis": "late_payer",
            "catalina": "frequent",
            "benjamin": "frequent",
            "francisca": "frequent",
            "sebastian": "at_risk",
            "fernanda": "at_risk",
            "tomas": "at_risk",
            "javiera": "regular",
            "diego": "regular",
        }
        if not self.with_cards:
            for key in ("ignacio", "martina", "catalina", "benjamin"):
                del expected[key]
        for key, segment in expected.items():
            self.assertEqual(self._metric(key).segment_id, self._segment(segment), key)

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
        self.assertGreaterEqual(len(members), 3 if self.with_cards else 1)
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

    def test_card_holders_earn_points_on_every_order(self):
        program = self.env.ref("crm_loyalty.loyalty_program_andina_demo", raise_if_not_found=False)
        if not program:
            self.skipTest("crm_loyalty demo data is not installed")
        cards = self.env["loyalty.card"].search([("program_id", "=", program.id)])
        orders = self.env["sale.order"].search(
            [("partner_id", "in", cards.partner_id.ids), ("state", "=", "sale")]
        )
        self.assertGreaterEqual(len(orders), 150)
        earned = self.env["crm.loyalty.ledger"].search(
            [("source_model", "=", "sale.order"), ("kind", "=", "earn")]
        )
        self.assertEqual(set(orders.ids) - set(earned.mapped("source_id")), set())
        # Ignacio spends over a million pesos a year: Premium, reached over time
        ignacio = cards.filtered(
            lambda card: (
                card.partner_id == self.env.ref("crm_relationship.res_partner_andina_ignacio_demo")
            )
        )
        premium = self.env.ref("crm_loyalty.crm_loyalty_tier_andina_premium_demo")
        self.assertEqual(ignacio.crm_tier_id, premium)
        self.assertGreater(len(earned.filtered(lambda entry: entry.card_id == ignacio)), 15)
        self.assertGreaterEqual(len(ignacio.crm_tier_history_ids), 2)
        self.assertLess(
            min(ignacio.crm_tier_history_ids.mapped("date")),
            fields.Date.context_today(ignacio) - relativedelta(months=6),
        )

    def test_the_store_has_two_years_of_contacts_consent_and_birthdays(self):
        interactions = self.env["crm.interaction"].search([("company_id", "=", self.store.id)])
        months = {(i.date.year, i.date.month) for i in interactions}
        self.assertGreater(len(months), 12)
        self.assertEqual(set(interactions.mapped("direction")), {"inbound", "outbound"})
        self.assertGreaterEqual(len(set(interactions.mapped("channel"))), 5)
        catalina = self.env.ref("crm_relationship.res_partner_andina_catalina_demo")
        self.assertFalse(catalina._crm_can_contact("email"))
        birthdays = self.env["res.partner"].search(
            [("crm_birthday", "!=", False), ("company_id", "in", (False, self.store.id))]
        )
        self.assertIn((2, 29), {(day.month, day.day) for day in birthdays.mapped("crm_birthday")})
        # the salesperson sees the contacts on the customer's 360 page
        customer = interactions[:1].partner_id.with_user(self.user)
        self.assertTrue(customer.crm_last_interaction_ids)
        self.assertGreater(customer.crm_interaction_count, 0)
