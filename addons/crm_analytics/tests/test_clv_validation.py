from datetime import datetime
from datetime import timedelta

import numpy as np
from freezegun import freeze_time

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from odoo.addons.crm_analytics.lib import clv
from odoo.addons.crm_analytics.lib import validation

from .common import TODAY
from .common import CrmAnalyticsCase


@freeze_time(TODAY)
@tagged("post_install", "-at_install")
class TestClvValidation(CrmAnalyticsCase):
    """Each fit is tested on a holdout, next to the simple rule, and says so in plain words."""

    def _refresh(self):
        return self.env["crm.analytics.scheduler"]._refresh_company(self.company)

    def _purchase_days(self, date_from, date_to, partners):
        """{partner id: days with a confirmed order in [date_from, date_to)}, by hand."""
        days = {}
        for order in self.orders.filtered(lambda o: date_from <= o.date_order < date_to):
            if order.partner_id in partners:
                days.setdefault(order.partner_id.id, set()).add(order.date_order.date())
        return {partner: len(found) for partner, found in days.items()}

    def test_fit_is_validated_on_the_last_months(self):
        self.company.crm_clv_holdout_months = 6
        fit = self._refresh().with_user(self.analyst)
        # fitted on 2026-06-30: the holdout is [2025-12-30, 2026-06-30), the window's 36 months
        # hold every order (700 days at most)
        cut, end = datetime(2025, 12, 30), datetime(2026, 6, 30)
        window_start = datetime(2023, 6, 30)
        before = self._purchase_days(window_start, cut, self.customers)
        after = self._purchase_days(cut, end, self.customers)
        # the customers validated are those who bought before the cut
        self.assertEqual(fit.holdout_months, 6)
        self.assertEqual(fit.holdout_customers, len(before))
        self.assertEqual(fit.holdout_actual, sum(after.get(p, 0) for p in before))
        churned = sum(1 for partner in before if not after.get(partner))
        self.assertAlmostEqual(fit.holdout_churned_share, churned / len(before), places=3)
        self.assertTrue(fit.holdout_predicted > 0)
        self.assertTrue(0 <= fit.model_auc <= 1 and 0 <= fit.naive_auc <= 1)
        self.assertEqual(fit.churn_source == "model", fit.model_auc > fit.naive_auc)
        self.assertIn(fit.model_kind, ("bgnbd", "mbgnbd"))
        self.assertEqual({c["kind"] for c in fit.candidates}, {"bgnbd", "mbgnbd"})
        self.assertIn(f"there were {fit.holdout_actual:,.0f}.", fit.validation_summary)

    def test_churn_risk_comes_from_the_source_the_fit_names(self):
        fit = self._refresh()
        score = self.env["crm.customer.score"]
        rows = self.env.execute_query(
            score._summary_query(self.company, fit.date_from, fit.date_to)
        )
        data = score._summary_arrays(rows, fit.date_to)
        x, t_x, T = data["x"], data["t_x"], data["T"]
        if fit.churn_source == "model":
            expected = clv.probability_no_purchase(
                fit._purchase_fit(), fit._churn_weeks(), x, t_x, T
            )
        else:
            expected = validation.naive_churn_probability(x, t_x, T, fit._naive_calibration())
        stored = {
            s.partner_id.id: s.churn_risk
            for s in score.search([("company_id", "=", self.company.id)])
        }
        got = np.array([stored[p] for p in data["partner_id"].tolist()])
        np.testing.assert_allclose(got, expected, atol=1e-6)
        # not flat: the lapsed one-time buyers are riskier than the frequent recent buyers
        recent = np.mean([stored[p.id] for p in self.customers[:10]])
        lapsed = np.mean([stored[p.id] for p in self.customers[30:]])
        self.assertGreater(lapsed, recent)

    def test_a_model_that_does_not_beat_the_rule_says_so(self):
        fit = self._refresh()
        fit.write({"model_auc": 0.61, "naive_auc": 0.74, "churn_source": "naive"})
        summary = fit.with_user(self.analyst).validation_summary
        self.assertIn("does not beat the simple rule", summary)
        self.assertIn("0.61", summary)
        self.assertIn("0.74", summary)
        fit.write({"model_auc": 0.81, "churn_source": "model"})
        self.assertIn("Churn risk comes from the model.", fit.validation_summary)

    def test_a_fit_without_history_before_the_holdout_is_not_validated(self):
        self.company.write({"crm_analytics_window_months": 7, "crm_clv_holdout_months": 6})
        with freeze_time(TODAY + timedelta(days=400)):
            # only old orders: nothing before the cut inside the 7-month window
            fit = self.env["crm.clv.model"]._validate_on_holdout(
                self.company,
                (TODAY + timedelta(days=190)).date(),
                (TODAY + timedelta(days=400)).date(),
            )
        self.assertEqual(fit, {})

    def test_holdout_out_of_range_is_refused(self):
        for months in (0, 36, 40):
            with self.subTest(months=months), self.assertRaisesRegex(ValidationError, "holdout"):
                self.company.crm_clv_holdout_months = months

    def test_the_validation_and_the_fit_warnings_read_in_spanish(self):
        self.env["res.lang"]._activate_lang("es_CL")
        self.env.ref("base.module_crm_analytics")._update_translations(["es_CL"])
        fit = self._refresh()
        fit.write(
            {
                "model_auc": 0.61,
                "naive_auc": 0.74,
                "churn_source": "naive",
                "holdout_actual": 1234,
                "diagnostics_data": [
                    {
                        "template": "%(name)s ran to the edge of the search range (%(value)s): "
                        "the optimum is degenerate.",
                        "values": {"name": "b", "value": "3.3e+06"},
                    }
                ],
            }
        )
        # the user's language, as the web client sends it
        fit = fit.with_user(self.analyst).with_context(lang="es_CL")
        self.assertIn("El modelo no supera a la regla simple", fit.validation_summary)
        # numbers with the Spanish separators: decimal comma, thousands point
        self.assertIn("hubo 1.234", fit.validation_summary)
        self.assertIn("el modelo obtiene 0,61 y la regla simple 0,74", fit.validation_summary)
        self.assertEqual(
            fit.diagnostics,
            "b llegó al borde del rango de búsqueda (3,3e+06): el óptimo es degenerado.",
        )


@tagged("post_install", "-at_install")
class TestModelFitName(CrmAnalyticsCase):
    def test_fit_is_named_by_its_local_time_not_the_stored_utc(self):
        reader = self.env["res.users"].create(
            {
                "name": "Analista Santiago Test",
                "login": "crm_fit_name_reader",
                "tz": "America/Santiago",
                "company_id": self.company.id,
                "company_ids": [self.company.id],
                "group_ids": [self.env.ref("crm_analytics.group_user").id],
            }
        )
        fit = self.env["crm.clv.model"].create(
            {
                "company_id": self.company.id,
                "date_from": "2024-01-01",
                "date_to": "2026-11-30",
                "fit_date": datetime(2026, 12, 2, 14, 42, 10),  # UTC: 11:42 in Santiago (UTC-3)
            }
        )
        name = fit.with_user(reader).display_name
        self.assertIn("2 Dec 2026, 11:42", name)
        self.assertNotIn("14:42", name)
        self.assertTrue(name.startswith(self.company.name))
