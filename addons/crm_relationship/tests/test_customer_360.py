from odoo.tests import tagged
from odoo.tests import warmup

from .common import CrmRelationshipCommon


@tagged("post_install", "-at_install")
class TestCustomer360(CrmRelationshipCommon):
    """The partner form with the Customer 360° page loads in a bounded number of queries."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Segment.create({"name": "Test All", "domain": "[]"})
        # two customers without contacts, one with a long history, one with a single invoice
        Partner = cls.env["res.partner"]
        cls.big = Partner.create({"name": "Multitienda Test", "is_company": True})
        cls.small = Partner.create({"name": "Almacén Test", "is_company": True})
        for day in range(1, 21):
            invoice = cls._invoice(cls.big, 100 * day, f"2026-03-{day:02d}", "2026-04-30")
            if day % 2:
                cls._pay(invoice, 50 * day, f"2026-04-{day:02d}")
        cls._invoice(cls.small, 100, "2026-03-01", "2026-04-30")
        cls.Metric._refresh_metrics((cls.big | cls.small).ids, cls.company.ids)
        cls.form_fields = cls._partner_form_fields()

    def _load_form(self, partner):
        return self._read_partner_form(partner, self.form_fields)

    def test_form_shows_the_360_fields(self):
        self.assertIn("crm_segment_history_ids", self.form_fields)
        data = self._load_form(self.big)[0]
        self.assertEqual(data["crm_order_count"], 0)
        self.assertAlmostEqual(data["crm_revenue_total"], sum(100 * d for d in range(1, 21)))
        self.assertEqual(len(data["crm_segment_history_ids"]), 1)
        self.assertEqual(data["crm_payment_count"], 10)
        # the invoices are behind Odoo's own "Invoiced" button, not a second one
        self.assertIn("total_invoiced", self.form_fields)

    def test_payments_button_opens_the_payments_it_counts(self):
        self.big.invalidate_recordset()
        action = self.big.action_crm_view_payments()
        payments = self.env["account.payment"].search(action["domain"])
        self.assertEqual(len(payments), self.big.crm_payment_count)
        self.assertEqual(payments.partner_id, self.big)
        # Odoo's defaults for a new customer payment are kept
        self.assertEqual(action["context"]["default_payment_type"], "inbound")
        self.assertEqual(action["context"]["default_partner_id"], self.big.id)

    def test_query_count_does_not_grow_with_the_customers_history(self):
        self._load_form(self.big)  # warm the registry-level caches
        self._load_form(self.small)
        _data, small = self._load_form(self.small)
        _data, big = self._load_form(self.big)
        self.assertEqual(small, big)

    @warmup
    def test_form_of_a_customer_with_many_invoices_stays_under_60_queries(self):
        with self.assertQueryCount(60):
            self._load_form(self.big)

    def test_crm_user_without_accounting_rights_opens_the_form(self):
        Partner = self.env["res.partner"].with_user(self.crm_user)
        fields = Partner.get_views([(False, "form")])["models"]["res.partner"]["fields"]
        self.assertIn("crm_revenue_total", fields)
        self.assertNotIn("crm_payment_count", fields)
        data = self.big.with_user(self.crm_user).web_read(
            {"crm_revenue_total": {}, "crm_segment_id": {"fields": {"display_name": {}}}}
        )[0]
        self.assertAlmostEqual(data["crm_revenue_total"], sum(100 * d for d in range(1, 21)))
        self.assertEqual(data["crm_segment_id"]["display_name"], "Test All")

    def test_crm_user_refreshes_a_customer(self):
        self._invoice(self.small, 900, "2026-03-02", "2026-04-30")
        self.small.with_user(self.crm_user).action_crm_refresh_metrics()
        self.assertAlmostEqual(self.small.crm_metric_id.revenue_total, 1000)
