from collections import defaultdict

from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import TransactionCase
from odoo.tests import new_test_user
from odoo.tests import tagged


@tagged("post_install", "-at_install")
class TestDemoStory(TransactionCase):
    """The demo store's two years (demo data only) give every dashboard a shape: churn that
    moves, cohorts that decay, customers that change segment month after month, a points ledger
    and tier changes over time, churn risks that differ. Read as the users who read them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.store = cls.env.ref(
            "crm_relationship.res_company_andina_demo", raise_if_not_found=False
        )
        cls.program = cls.env.ref(
            "crm_loyalty.loyalty_program_andina_demo", raise_if_not_found=False
        )
        if not cls.store:
            return
        common = {"company_id": cls.store.id, "company_ids": [cls.store.id]}
        cls.analyst = new_test_user(
            cls.env,
            login="demo_story_analyst",
            groups="sales_team.group_sale_salesman,crm_analytics.group_user",
            **common,
        )
        cls.cashier = new_test_user(
            cls.env,
            login="demo_story_cashier",
            groups="sales_team.group_sale_salesman,crm_loyalty.group_user",
            **common,
        )
        cls.salesman = new_test_user(
            cls.env, login="demo_story_salesman", groups="sales_team.group_sale_salesman", **common
        )
        cls.today = fields.Date.context_today(cls.env["res.users"])

    def setUp(self):
        super().setUp()
        if not self.store or not self.program:
            self.skipTest("demo data is not installed (no Tienda Andina SpA or its store card)")

    def _read(self, user, model, domain=(), **kwargs):
        return (
            self.env[model]
            .with_user(user)
            .search([("company_id", "=", self.store.id), *domain], **kwargs)
        )

    def test_churn_rate_moves_from_month_to_month(self):
        months = self._read(self.analyst, "crm.report.retention")
        rates = {round(month.churn_rate, 1) for month in months}
        self.assertGreaterEqual(len(months), 24)
        self.assertGreaterEqual(len(rates), 3, f"churn per month is nearly flat: {rates}")
        self.assertGreater(max(rates), 0.0)

    def test_cohorts_decay(self):
        rows = self._read(self.analyst, "crm.report.cohort")
        retention = defaultdict(dict)
        for row in rows:
            retention[row.cohort_month][row.months_since] = (row.customers, row.cohort_size)
        old = {
            cohort: months
            for cohort, months in retention.items()
            if cohort <= self.today - relativedelta(months=13)
        }
        self.assertGreaterEqual(len(old), 6, "fewer than six cohorts a year old")
        early = late = size = 0
        lower = 0
        for months in old.values():
            customers, cohort_size = months[0]
            self.assertEqual(customers, cohort_size, "month 0 holds the whole cohort")
            size += cohort_size
            early += sum(months.get(m, (0, 0))[0] for m in (1, 2, 3))
            late += sum(months.get(m, (0, 0))[0] for m in (10, 11, 12))
            lower += all(months.get(m, (0, 0))[0] < cohort_size for m in range(1, 13))
        # every later month below month 0 for most cohorts, and fewer come back a year on
        self.assertGreaterEqual(lower, 0.75 * len(old))
        self.assertLess(late, early * 0.8, f"cohorts do not decay: {early} vs {late} of {size}")

    def test_customers_move_between_segments_month_after_month(self):
        history = self._read(self.analyst, "crm.customer.segment.history")
        months = {entry.date.strftime("%Y-%m") for entry in history}
        moves = history.filtered(
            lambda entry: entry.old_segment_id and entry.old_segment_id != entry.new_segment_id
        )
        self.assertGreaterEqual(len(months), 12, months)
        self.assertGreaterEqual(len({entry.date.strftime("%Y-%m") for entry in moves}), 6)
        pairs = {(entry.old_segment_id, entry.new_segment_id) for entry in moves}
        self.assertGreaterEqual(len(pairs), 5, pairs)
        # customers who stop buying become at risk
        at_risk = self.env.ref("crm_relationship.crm_customer_segment_andina_at_risk_demo")
        self.assertTrue(moves.filtered(lambda entry: entry.new_segment_id == at_risk))
        self.assertTrue(all(entry.date.date() <= self.today for entry in history))

    def test_ledger_entries_are_dated_with_their_documents(self):
        entries = self._read(
            self.cashier, "crm.loyalty.ledger", [("program_id", "=", self.program.id)]
        )
        months = {entry.date.strftime("%Y-%m") for entry in entries}
        self.assertGreaterEqual(len(months), 12, months)
        kinds = set(entries.mapped("kind"))
        self.assertLessEqual({"earn", "redeem", "expire", "adjust", "reverse"}, kinds)
        for entry in entries.filtered(lambda e: e.kind == "earn"):
            order = self.env[entry.source_model].browse(entry.source_id)
            self.assertEqual(entry.date, order.date_order, order.name)
            self.assertEqual(
                entry.expiry_date, entry.date.date() + relativedelta(months=12), order.name
            )
        expired = entries.filtered(lambda e: e.kind == "expire")
        self.assertGreaterEqual(len({e.date.strftime("%Y-%m") for e in expired}), 3)

    def test_tier_changes_happened_over_the_past_year_and_more(self):
        changes = self._read(
            self.cashier, "crm.loyalty.tier.history", [("program_id", "=", self.program.id)]
        )
        self.assertTrue(all(change.date <= self.today for change in changes))
        self.assertGreaterEqual(len({change.date.strftime("%Y-%m") for change in changes}), 6)
        self.assertTrue(changes.filtered(lambda change: change.reason == "downgrade"))
        self.assertTrue(
            changes.filtered(lambda change: change.date < self.today - relativedelta(months=12))
        )

    def test_churn_risk_is_not_flat(self):
        scores = self._read(self.analyst, "crm.customer.score")
        risks = {round(score.churn_risk, 2) for score in scores}
        self.assertGreaterEqual(len(scores), 150)
        self.assertGreaterEqual(len(risks), 5, risks)
        self.assertTrue(any(risk > 0.3 for risk in risks))
        self.assertTrue(any(risk < 0.3 for risk in risks))

    def test_clv_trend_has_a_point_a_month(self):
        fits = self._read(self.analyst, "crm.clv.model", [("state", "=", "done")])
        self.assertGreaterEqual(len({fit.date_to.strftime("%Y-%m") for fit in fits}), 12)

    def test_every_card_equals_its_ledger(self):
        cards = (
            self.env["loyalty.card"]
            .with_user(self.cashier)
            .search([("program_id", "=", self.program.id)])
        )
        self.assertGreaterEqual(len(cards), 30)
        balances = dict(
            self.env["crm.loyalty.ledger"]
            .with_user(self.cashier)
            ._read_group(
                [("card_id", "in", cards.ids), ("state", "=", "available")],
                ["card_id"],
                ["points:sum"],
            )
        )
        for card in cards:
            self.assertAlmostEqual(card.points, balances.get(card, 0.0), places=2, msg=card.code)

    def test_a_salesperson_reads_neither_the_reports_nor_the_ledger(self):
        for model in ("crm.report.retention", "crm.report.cohort", "crm.customer.score"):
            with self.assertRaises(AccessError, msg=model):
                self._read(self.salesman, model)
        with self.assertRaises(AccessError):
            self._read(self.salesman, "crm.loyalty.ledger")
