from freezegun import freeze_time

from odoo.tests import tagged

from .common import CrmRelationshipCommon


@freeze_time("2026-06-30 12:00:00")
@tagged("post_install", "-at_install")
class TestMetricFullRefresh(CrmRelationshipCommon):
    """The full refresh (every customer of a company in one statement) joins the customers'
    documents as they are; the rows of customers whose documents are all gone are reset."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with freeze_time("2026-06-30 12:00:00"):
            cls.gone = cls._invoice(cls.other_customer, 700, "2026-05-01", "2026-05-31")
            cls._invoice(cls.customer, 1200, "2026-06-01", "2026-07-01")

    def test_a_customer_whose_documents_are_gone_is_reset_to_zero(self):
        metric = self._refresh(self.other_customer)
        self.assertEqual((metric.invoice_count, metric.revenue_total), (1, 700))
        self.assertEqual((metric.overdue_amount, metric.oldest_overdue_days), (700, 30))
        self.assertTrue(metric.credit_has_history)
        self.gone.button_draft()
        self.gone.button_cancel()
        self.Metric._refresh_metrics(None, self.company.ids, classify=False)
        self.assertEqual(
            (
                metric.invoice_count,
                metric.revenue_total,
                metric.revenue_12m,
                metric.overdue_amount,
                metric.oldest_overdue_days,
            ),
            (0, 0, 0, 0, 0),
        )
        self.assertFalse(metric.on_time_ratio)
        # the credit computed over the reset facts: no history, a credit manager decides
        self.assertEqual(
            (
                metric.credit_has_history,
                metric.credit_score,
                metric.credit_decision,
                metric.credit_limit_suggested,
            ),
            (False, 0, "review", 0),
        )

    def test_the_full_refresh_covers_every_customer_once(self):
        refreshed = self.Metric._refresh_metrics(None, self.company.ids, classify=False)
        self.assertEqual(len(refreshed), len(set(refreshed.mapped("partner_id"))))
        mine = refreshed.filtered(lambda m: m.partner_id in self.customer | self.other_customer)
        self.assertEqual(
            sorted(mine.mapped(lambda m: (m.partner_id.id, m.revenue_total))),
            sorted([(self.customer.id, 1200), (self.other_customer.id, 700)]),
        )
