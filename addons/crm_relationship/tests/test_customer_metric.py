from freezegun import freeze_time

from odoo.tests import tagged

from .common import CrmRelationshipCommon


@freeze_time("2026-06-30 12:00:00")
@tagged("post_install", "-at_install")
class TestCustomerMetric(CrmRelationshipCommon):
    """Each metric on hand-built orders, invoices, a credit note and payments (today 2026-06-30)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with freeze_time("2026-06-30 12:00:00"):
            code = "EUR" if cls.company.currency_id.name != "EUR" else "GBP"
            cls.foreign = cls.setup_other_currency(code, rates=[("2025-01-01", 2.0)])
            cls._order(cls.contact, 1000, "2026-01-10", cost=800)
            cls._order(cls.customer, 1000, "2026-03-10", cost=800)
            cls._order(cls.customer, 1000, "2026-05-10", cost=800)
            # paid on time, more than 12 months ago
            inv0 = cls._invoice(cls.customer, 5000, "2025-03-01", "2025-03-31")
            cls._pay(inv0, 5000, "2025-03-05")
            # paid in full 10 days late, invoiced to the contact
            inv1 = cls._invoice(cls.contact, 1000, "2026-01-15", "2026-02-14")
            cls._pay(inv1, 1000, "2026-02-24")
            # partial payment on time, the rest overdue since 2026-03-31
            inv2 = cls._invoice(cls.customer, 2000, "2026-03-01", "2026-03-31")
            cls._pay(inv2, 500, "2026-03-20")
            # fully reversed by a credit note (not a payment)
            inv3 = cls._invoice(cls.customer, 400, "2026-04-01", "2026-05-01")
            cls._reverse_invoice(inv3, post=True, date="2026-04-02")
            # 600 in a currency at rate 2 = 300 in company currency, not yet due
            cls._invoice(cls.customer, 600, "2026-06-01", "2026-07-01", currency_id=cls.foreign.id)

    def setUp(self):
        super().setUp()
        self.metric = self._refresh(self.customer)

    def test_one_row_per_commercial_partner_and_company(self):
        self.assertEqual(len(self.metric), 1)
        self.assertEqual(self.metric.company_id, self.company)
        self.assertFalse(self.Metric.search([("partner_id", "=", self.contact.id)]))

    def test_order_dates_and_count_include_the_contacts_orders(self):
        self.assertEqual(str(self.metric.first_order_date), "2026-01-10")
        self.assertEqual(str(self.metric.last_order_date), "2026-05-10")
        self.assertEqual(self.metric.order_count, 3)
        self.assertEqual(self.metric.days_since_last_order, 51)

    def test_purchase_frequency(self):
        self.assertAlmostEqual(self.metric.mean_days_between_orders, 60.0)
        self.assertAlmostEqual(self.metric.orders_per_month, 3 / (171 / 30.4375), places=2)

    def test_average_ticket_and_margin(self):
        self.assertAlmostEqual(self.metric.average_ticket, 1000.0)
        self.assertAlmostEqual(self.metric.margin_total, 600.0)
        self.assertAlmostEqual(self.metric.margin_percent, 0.2)

    def test_revenue_is_net_of_credit_notes_and_in_company_currency(self):
        # 5000 + 1000 + 2000 + 400 - 400 + 600 EUR / 2
        self.assertAlmostEqual(self.metric.revenue_total, 8300.0)
        self.assertEqual(self.metric.invoice_count, 5)

    def test_revenue_of_the_last_12_months(self):
        self.assertAlmostEqual(self.metric.revenue_12m, 3300.0)

    def test_average_days_late_is_weighted_by_amount_and_ignores_credit_notes(self):
        # 5000 paid 0 days late, 1000 paid 10 days late, 500 paid on time
        self.assertAlmostEqual(self.metric.avg_days_late, 10000 / 6500, places=3)

    def test_on_time_ratio_counts_paid_or_overdue_invoices(self):
        # on time: inv0; late: inv1 (paid late), inv2 (rest overdue)
        self.assertAlmostEqual(self.metric.on_time_ratio, 1 / 3, places=3)

    def test_overdue_amount_and_oldest_overdue_days(self):
        self.assertAlmostEqual(self.metric.overdue_amount, 1500.0)
        self.assertEqual(self.metric.oldest_overdue_days, 91)

    def test_customer_without_documents_gets_an_empty_row(self):
        metric = self._refresh(self.other_customer)
        self.assertEqual(metric.order_count, 0)
        self.assertEqual(metric.revenue_total, 0)
        self.assertFalse(metric.last_order_date)

    def test_partner_exposes_its_metric_row_in_the_current_company(self):
        self.assertEqual(self.customer.crm_metric_id, self.metric)
        self.assertEqual(self.contact.crm_metric_id, self.metric)
        self.assertAlmostEqual(self.customer.crm_revenue_12m, 3300.0)

    def test_refresh_button_refreshes_only_that_partner(self):
        other = self._refresh(self.other_customer)
        self.env.cr.execute(
            "UPDATE crm_customer_metric SET order_count = 99 WHERE id IN %s",
            [(self.metric.id, other.id)],
        )
        self.Metric.invalidate_model()
        self.contact.action_crm_refresh_metrics()
        self.assertEqual(self.metric.order_count, 3)
        self.assertEqual(other.order_count, 99)

    def test_full_refresh_gives_the_same_figures_as_a_partial_one(self):
        fields = self.Metric._metric_columns()
        before = self.metric.read(fields)
        self.Metric._refresh_metrics(None, self.company.ids, classify=False)
        self.metric.invalidate_recordset()
        self.assertEqual(self.metric.read(fields), before)
