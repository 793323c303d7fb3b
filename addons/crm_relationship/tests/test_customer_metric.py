from freezegun import freeze_time

from odoo.fields import Command
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
            cls._build_history()

    @classmethod
    def _build_history(cls):
        """Orders, invoices, payments and a credit note of cls.customer (and its contact)."""
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
        self.assertFullRefreshAgrees(self.metric)


@freeze_time("2026-06-30 12:00:00")
@tagged("post_install", "-at_install")
class TestInstallmentMetric(CrmRelationshipCommon):
    """Payment behaviour of invoices paid in two installments, or by two payments on either
    side of the due date (today 2026-06-30)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with freeze_time("2026-06-30 12:00:00"):
            halves = cls.env["account.payment.term"].create(
                {
                    "name": "50% at 30 days, 50% at 60 days",
                    "line_ids": [
                        Command.create({"value": "percent", "value_amount": 50, "nb_days": 30}),
                        Command.create({"value": "percent", "value_amount": 50, "nb_days": 60}),
                    ],
                }
            )
            cls.buyer = cls.env["res.partner"].create(
                {"name": "Ferretería Biobío Test", "is_company": True}
            )
            term = {"invoice_payment_term_id": halves.id}
            # both installments (due 01-31 and 03-02) paid at once on 01-20: on time
            on_time = cls._invoice(cls.buyer, 2000, "2026-01-01", **term)
            cls._pay(on_time, 2000, "2026-01-20")
            # installment due 03-31 paid on 03-25, the one due 04-30 paid on 05-10: late
            late = cls._invoice(cls.buyer, 2000, "2026-03-01", **term)
            cls._pay(late, 1000, "2026-03-25")
            cls._pay(late, 1000, "2026-05-10")
            # installment due 03-31 paid on time, the one due 04-30 still open: overdue
            overdue = cls._invoice(cls.buyer, 2000, "2026-03-01", **term)
            cls._pay(overdue, 1000, "2026-03-25")
            # one installment due 05-31: 400 paid on 05-20, 600 on 06-10: late
            split = cls._invoice(cls.buyer, 1000, "2026-05-01", "2026-05-31")
            cls._pay(split, 400, "2026-05-20")
            cls._pay(split, 600, "2026-06-10")
            cls.invoices = on_time | late | overdue | split

    def setUp(self):
        super().setUp()
        self.metric = self._refresh(self.buyer)

    def test_installments_are_due_on_their_own_dates(self):
        dues = self.invoices[1].line_ids.filtered(lambda line: line.display_type == "payment_term")
        self.assertEqual(
            sorted(str(date) for date in dues.mapped("date_maturity")),
            ["2026-03-31", "2026-04-30"],
        )

    def test_days_late_weight_each_payment_by_its_installment(self):
        # late: 1000 × 10 days (installment due 04-30) + 600 × 10 days (due 05-31), over the
        # 6000 paid in all
        self.assertAlmostEqual(self.metric.avg_days_late, 16000 / 6000, places=3)

    def test_an_invoice_is_on_time_only_if_every_installment_is(self):
        self.assertAlmostEqual(self.metric.on_time_ratio, 1 / 4, places=3)

    def test_only_the_open_installment_is_overdue(self):
        self.assertAlmostEqual(self.metric.overdue_amount, 1000.0)
        self.assertEqual(self.metric.oldest_overdue_days, 61)

    def test_full_refresh_agrees(self):
        self.assertFullRefreshAgrees(self.metric)

    def test_refresh_restores_the_planner_settings_it_changed(self):
        self.env.cr.execute("SET LOCAL parallel_tuple_cost = 0.2")
        self._refresh(self.buyer)
        self.env.cr.execute("SELECT current_setting('parallel_tuple_cost')")
        self.assertEqual(self.env.cr.fetchone()[0], "0.2")
