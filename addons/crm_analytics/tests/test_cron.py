from unittest.mock import patch

from freezegun import freeze_time

from odoo.tests import new_test_user
from odoo.tests import tagged

from odoo.addons.crm_analytics.lib import clv

from .common import TODAY
from .common import CrmAnalyticsCase


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestCron(CrmAnalyticsCase):
    """The cron's commits are replaced by a stub: tests cannot commit."""

    def _run_cron(self):
        with patch.object(
            type(self.env["ir.cron"]), "_commit_progress", return_value=float("inf")
        ) as progress:
            self.env["crm.analytics.scheduler"]._cron_refresh_scores()
        return progress

    def _models(self):
        return self.env["crm.clv.model"].search([("company_id", "=", self.company.id)])

    def test_cron_fits_scores_and_reports_progress(self):
        progress = self._run_cron()
        self.assertEqual(self._models().filtered(lambda m: m.state == "done").scored_count, 40)
        self.assertTrue(progress.called)

    def test_cron_records_a_failed_fit_and_keeps_the_scores(self):
        self.env["crm.analytics.scheduler"]._refresh_company(self.company)
        self._models().date_to = "2026-01-01"  # yesterday's run: the cron refits today
        before = self._score_of(self.customers[0]).clv
        with patch.object(
            clv, "fit_purchase_model", side_effect=clv.CLVFitError("Too few repeat buyers.")
        ):
            self._run_cron()
        failed = self._models().filtered(lambda m: m.state == "failed")
        self.assertIn("Too few repeat buyers.", failed.message)
        self.assertEqual(self._score_of(self.customers[0]).clv, before)

    def test_cron_resumes_an_interrupted_scoring_run(self):
        model = self.env["crm.analytics.scheduler"]._prepare_company(self.company)
        model.cursor_partner_id = self.customers.sorted("id")[19].id
        self._run_cron()
        self.assertEqual(model.state, "done")
        self.assertEqual(len(self._models()), 1)
        scored = self.env["crm.customer.score"].search([("company_id", "=", self.company.id)])
        self.assertEqual(len(scored), 20)

    def test_cron_skips_a_fresh_company(self):
        self.env["crm.analytics.scheduler"]._refresh_company(self.company)
        self._run_cron()
        self.assertEqual(len(self._models()), 1)

    def test_salesperson_without_analytics_sees_the_service_level_only(self):
        self.env["crm.analytics.scheduler"]._refresh_company(self.company)
        level = self.env["crm.service.level"].create(
            {"name": "Nivel Test", "company_id": self.company.id}
        )
        seller = new_test_user(
            self.env,
            login="ana_seller",
            groups="sales_team.group_sale_salesman_all_leads",
            company_id=self.company.id,
            company_ids=[self.company.id],
        )
        order = self.orders[0].with_user(seller)
        self.assertEqual(order.crm_service_level_id, level)
        self.assertEqual(order.crm_service_level_id.name, "Nivel Test")
        self.assertFalse(seller.has_group("crm_analytics.group_user"))
