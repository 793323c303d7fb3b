from unittest.mock import patch

from odoo.tests import tagged

from .common import CrmRelationshipCommon


@tagged("post_install", "-at_install")
class TestIncrementalRefresh(CrmRelationshipCommon):
    """The cron refreshes only customers whose documents changed since their last refresh."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._invoice(cls.customer, 1000, "2026-01-10", "2026-02-10")
        cls._invoice(cls.other_customer, 700, "2026-01-10", "2026-02-10")

    def _age_everything(self):
        """Pretend the last refresh happened a minute ago, the documents two hours ago (a
        document written less than an hour before a refresh counts as changed)."""
        self.env.flush_all()
        partners = tuple((self.customer | self.other_customer).ids)
        self.env.cr.execute(
            """UPDATE crm_customer_metric SET refreshed_at = refreshed_at - interval '1 minute'
                WHERE partner_id IN %s""",
            [partners],
        )
        self.env.cr.execute(
            """UPDATE account_move SET write_date = write_date - interval '2 hours'
                WHERE commercial_partner_id IN %s""",
            [partners],
        )
        self.env.invalidate_all()

    def _stale_partners(self):
        keys = self.Metric._get_stale_keys(self.company.ids)
        return {partner for partner, _company in keys} & set(
            (self.customer | self.other_customer).ids
        )

    def test_customers_without_metrics_are_stale(self):
        self.assertEqual(self._stale_partners(), {self.customer.id, self.other_customer.id})

    def test_only_customers_with_changed_documents_are_stale(self):
        self._refresh()
        self._age_everything()
        self.assertEqual(self._stale_partners(), set())
        self._invoice(self.customer, 500, "2026-03-01", "2026-04-01")
        self.assertEqual(self._stale_partners(), {self.customer.id})

    def test_cron_refreshes_the_stale_customers_and_reports_progress(self):
        self._refresh()
        self._age_everything()
        self._invoice(self.customer, 500, "2026-03-01", "2026-04-01")
        other_before = self.other_customer.crm_metric_id.refreshed_at
        Cron = type(self.env["ir.cron"])
        with patch.object(Cron, "_commit_progress", return_value=60.0) as progress:
            self.Metric._cron_refresh_metrics()
        self.assertEqual(self.customer.crm_metric_id.revenue_total, 1500)
        self.assertEqual(self.other_customer.crm_metric_id.refreshed_at, other_before)
        # an hour later nobody is stale (the invoice written less than an hour before the
        # refresh counts as changed until then)
        self.assertEqual(self._stale_partners(), {self.customer.id})
        self._age_everything()
        self.assertEqual(self._stale_partners(), set())
        remaining = progress.call_args_list[0].kwargs["remaining"]
        processed = sum(c.args[0] for c in progress.call_args_list[1:])
        self.assertEqual(processed, remaining)
