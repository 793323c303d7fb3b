from odoo.tests import HttpCase
from odoo.tests import new_test_user
from odoo.tests import tagged

DASHBOARD_ACTIONS = (
    "crm_report_retention_action",
    "crm_report_cohort_action",
    "crm_report_segment_revenue_action",
    "crm_relationship.crm_customer_segment_history_action",
    "crm_clv_model_action_trend",
    "crm_report_loyalty_contribution_action",
    "crm_customer_score_action",
    "crm_product_affinity_action",
    "crm_customer_propensity_action",
)


@tagged("post_install", "-at_install")
class TestViewsUi(HttpCase):
    def test_every_dashboard_chart_opens_in_the_browser(self):
        # One browser session per action: a JS error in any view fails the tour.
        for action in DASHBOARD_ACTIONS:
            with self.subTest(action=action):
                xmlid = action if "." in action else f"crm_analytics.{action}"
                self.start_tour(
                    f"/odoo/action-{xmlid}",
                    "crm_analytics_views_tour",
                    login="admin",
                )

    def test_model_fit_form_shows_the_parameters(self):
        company = self.env.ref("base.main_company")
        model = self.env["crm.clv.model"].create(
            {
                "company_id": company.id,
                "date_from": "2024-01-01",
                "date_to": "2026-06-30",
                "bgnbd_r": 0.25,
                "bgnbd_alpha": 4.0,
                "bgnbd_a": 0.8,
                "bgnbd_b": 2.5,
                "rfm_bounds": {"recency": [10, 30, 90, 200]},
            }
        )
        self.start_tour(
            f"/odoo/action-crm_analytics.crm_clv_model_action/{model.id}",
            "crm_analytics_views_tour",
            login="admin",
        )

    def test_rate_graphs_read_whole_percentages_on_their_axis(self):
        """Retention, churn and cohort graphs as an analytics user of the demo store: the
        axis of a rate in percent reads "100", "90", not "100.00"."""
        store = self.env.ref("crm_relationship.res_company_andina_demo", raise_if_not_found=False)
        if not store:
            self.skipTest("the demo store is installed with the demo data only")
        new_test_user(
            self.env,
            login="rate_axes_analyst",
            groups="crm_analytics.group_user",
            company_id=store.id,
            company_ids=[store.id],
        )
        for action in ("crm_report_retention_action", "crm_report_cohort_action"):
            with self.subTest(action=action):
                self.assertTrue(
                    self.env[self.env.ref(f"crm_analytics.{action}").res_model].search_count(
                        [("company_id", "=", store.id)]
                    )
                )
                self.start_tour(
                    f"/odoo/action-crm_analytics.{action}",
                    "crm_analytics_rate_axes_tour",
                    login="rate_axes_analyst",
                )
