from unittest.mock import patch

from freezegun import freeze_time

from odoo.tests import tagged

from odoo.addons.crm_relationship.models.crm_customer_facts import CrmCustomerFacts
from odoo.addons.crm_relationship.models.crm_customer_facts import Fact

from . import test_customer_metric
from .common import CrmRelationshipCommon


@freeze_time("2026-06-30 12:00:00")
@tagged("post_install", "-at_install")
class TestCustomerFacts(CrmRelationshipCommon):
    """The facts builder on the history of test_customer_metric, as of past days and over
    windows: every figure computed by hand from that history."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with freeze_time("2026-06-30 12:00:00"):
            # the same history (the module, not its class: pytest would run its tests twice)
            test_customer_metric.TestCustomerMetric._build_history.__func__(cls)
        cls.Facts = cls.env["crm.customer.facts"]

    def _facts(self, names, as_of=None, date_from=None, keys="documents"):
        window = self.Facts._window(as_of, date_from=date_from)
        self.env.flush_all()  # the builder reads the tables: callers flush first
        rows = self.env.execute_query_dict(
            self.Facts._facts_query(names, self.company.ids, window, [self.customer.id], keys=keys)
        )
        self.assertEqual(len(rows), 1, rows)
        return rows[0]

    def test_as_of_a_day_ignores_later_documents_and_payments(self):
        # On 2026-02-20: one order (Jan 10); invoices inv0 (5000) and inv1 (1000); inv1 was due
        # on Feb 14 and paid on Feb 24, so it was 1000 overdue for 6 days then.
        facts = self._facts(
            [
                "order_count",
                "last_order_date",
                "days_since_last_order",
                "invoice_count",
                "revenue_total",
                "revenue_12m",
                "avg_days_late",
                "on_time_ratio",
                "overdue_amount",
                "oldest_overdue_days",
            ],
            as_of="2026-02-20",
        )
        self.assertEqual(facts["order_count"], 1)
        self.assertEqual(str(facts["last_order_date"]), "2026-01-10")
        self.assertEqual(facts["days_since_last_order"], 41)
        self.assertEqual(facts["invoice_count"], 2)
        self.assertAlmostEqual(float(facts["revenue_total"]), 6000.0)
        self.assertAlmostEqual(float(facts["revenue_12m"]), 6000.0)
        # inv0 paid on time, inv1 overdue: half the invoices on time, nothing paid late yet
        self.assertAlmostEqual(float(facts["avg_days_late"]), 0.0)
        self.assertAlmostEqual(facts["on_time_ratio"], 0.5)
        self.assertAlmostEqual(float(facts["overdue_amount"]), 1000.0)
        self.assertEqual(facts["oldest_overdue_days"], 6)

    def test_as_of_a_later_day_counts_the_late_payment(self):
        # On 2026-03-15: inv1's 1000 arrived 10 days late (10000 / 6000 paid = 1.67 days on
        # average), inv2 is not due yet and its payment (Mar 20) has not come; the 12 months
        # since 2025-03-15 leave inv0 out.
        facts = self._facts(
            ["order_count", "revenue_total", "revenue_12m", "avg_days_late", "overdue_amount"],
            as_of="2026-03-15",
        )
        self.assertEqual(facts["order_count"], 2)
        self.assertAlmostEqual(float(facts["revenue_total"]), 8000.0)
        self.assertAlmostEqual(float(facts["revenue_12m"]), 3000.0)
        self.assertAlmostEqual(float(facts["avg_days_late"]), 10000 / 6000, places=4)
        self.assertAlmostEqual(float(facts["overdue_amount"]), 0.0)

    def test_a_window_counts_only_its_documents(self):
        facts = self._facts(
            ["order_count", "ordered_amount", "first_order_date", "revenue_total"],
            date_from="2026-03-01",
        )
        self.assertEqual(facts["order_count"], 2)
        self.assertAlmostEqual(float(facts["ordered_amount"]), 2000.0)
        self.assertEqual(str(facts["first_order_date"]), "2026-03-10")
        # inv2 2000 + inv3 400 - its credit note 400 + 600 at rate 2 (300)
        self.assertAlmostEqual(float(facts["revenue_total"]), 2300.0)

    def test_orders_of_one_day_are_one_purchase(self):
        self._order(self.contact, 500, "2026-03-10", cost=100)
        facts = self._facts(
            ["order_count", "purchase_days", "repeat_amount", "margin_total", "margin_known"],
            keys="orders",
        )
        self.assertEqual(facts["order_count"], 4)
        self.assertEqual(facts["purchase_days"], 3)
        # the days after the first: Mar 10 (1000 + 500) and May 10 (1000)
        self.assertAlmostEqual(float(facts["repeat_amount"]), 2500.0)
        self.assertAlmostEqual(float(facts["margin_total"]), 3 * 200.0 + 400.0)
        self.assertTrue(facts["margin_known"])

    def test_metrics_as_of_a_day_equal_its_facts_and_date_the_segment_change(self):
        segment = self._segment("Debtors", "[('overdue_amount', '>', 0)]")
        self.Metric._refresh_metrics([self.customer.id], self.company.ids, as_of="2026-02-20")
        metric = self.Metric.search([("partner_id", "=", self.customer.id)])
        self.assertAlmostEqual(metric.overdue_amount, 1000.0)
        self.assertEqual(metric.days_since_last_order, 41)
        self.assertEqual(metric.segment_id, segment)
        change = self.History.search([("partner_id", "=", self.customer.id)], limit=1)
        self.assertEqual(str(change.date), "2026-02-20 23:59:59")

    def test_another_addon_adds_a_fact_without_rewriting_the_select(self):
        registry = CrmCustomerFacts._fact_registry

        def with_average_invoice(facts):
            return registry(facts) | {
                "average_invoice": Fact(
                    "average_invoice", "inv", "inv.revenue_total / NULLIF(inv.invoice_count, 0)"
                )
            }

        with patch.object(CrmCustomerFacts, "_fact_registry", with_average_invoice):
            facts = self._facts(["invoice_count", "average_invoice"])
        # 5 invoices (inv0-inv3, the foreign one) for 5000 + 1000 + 2000 + 400 - 400 + 300
        self.assertEqual(facts["invoice_count"], 5)
        self.assertAlmostEqual(float(facts["average_invoice"]), 8300 / 5)

    def test_an_unknown_fact_is_a_programming_error(self):
        with self.assertRaises(KeyError):
            self.Facts._facts_query(
                ["no_such_fact"], self.company.ids, self.Facts._window(), [self.customer.id]
            )
