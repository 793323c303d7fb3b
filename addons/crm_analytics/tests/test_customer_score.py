from datetime import timedelta
from unittest.mock import patch

import numpy as np
from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.exceptions import ValidationError
from odoo.tests import new_test_user
from odoo.tests import tagged
from odoo.tools import SQL

from odoo.addons.crm_analytics.lib import clv
from odoo.addons.crm_analytics.models import crm_analytics_scheduler
from odoo.addons.crm_analytics.models.crm_customer_score import rfm_segment
from odoo.addons.crm_analytics.tools import copy_columns
from odoo.addons.crm_relationship.tools import pg_array

from .common import TODAY
from .common import CrmAnalyticsCase


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestCustomerScore(CrmAnalyticsCase):
    def _refresh(self):
        return self.env["crm.analytics.scheduler"]._refresh_company(self.company)

    def _summary_of(self, model):
        """The summary arrays of the customers in ``model``'s window, as the scoring reads
        them."""
        return self.env["crm.customer.score"]._read_summary(
            self.company, model.date_from, model.date_to
        )

    def test_refresh_scores_every_customer_once(self):
        model = self._refresh()
        scores = self.env["crm.customer.score"].search([("company_id", "=", self.company.id)])
        self.assertEqual(scores.partner_id, self.customers)
        self.assertEqual(model.state, "done")
        self.assertEqual(model.scored_count, 40)

    def test_scores_are_in_range_and_never_nan(self):
        self._refresh()
        for score in self.env["crm.customer.score"].search([("company_id", "=", self.company.id)]):
            self.assertTrue({score.r_score, score.f_score, score.m_score} <= {1, 2, 3, 4, 5})
            self.assertTrue(0 < score.p_alive <= 1)
            self.assertTrue(0 <= score.churn_risk <= 1)
            expected_band = (
                "low" if score.churn_risk < 0.3 else "medium" if score.churn_risk < 0.6 else "high"
            )
            self.assertEqual(score.churn_band, expected_band)
            self.assertGreaterEqual(score.clv, 0)
            self.assertEqual(score.clv, score.clv)  # NaN is the only value unequal to itself

    def test_frequent_recent_customer_is_worth_more_than_a_lapsed_one(self):
        self._refresh()
        frequent = self._score_of(self.customers[0])
        lapsed = self._score_of(self.customers[35])
        self.assertGreater(frequent.clv, lapsed.clv)
        self.assertGreater(frequent.f_score, lapsed.f_score)
        self.assertEqual(lapsed.recency_days, (TODAY.date() - lapsed.last_order_date).days)

    def test_fit_stores_parameters_window_and_loglik(self):
        model = self._refresh()
        self.assertTrue(all(v > 0 for v in (model.bgnbd_r, model.bgnbd_alpha, model.bgnbd_a)))
        self.assertLess(model.bgnbd_loglik, 0)
        self.assertEqual(model.date_to, TODAY.date())
        self.assertEqual(model.customer_count, 40)

    def test_summary_counts_the_orders_of_one_day_as_one_purchase(self):
        # P1 (10,000, cost 6,000) 10 days ago; P2 (20,000, cost 12,000) and P3 (30,000, cost
        # 18,000) in two orders 3 days ago: 3 orders on 2 days, one repeat purchase of 50,000.
        customer = self.env["res.partner"].create({"name": "Cliente Resumen Test"})
        day = TODAY - timedelta(days=3)
        self.env["sale.order"].create(
            [
                self._order_vals(customer, TODAY - timedelta(days=10), self.products[0]),
                self._order_vals(customer, day, self.products[1]),
                self._order_vals(customer, day.replace(hour=18), self.products[2]),
            ]
        )
        model = self._refresh()
        data = self._summary_of(model)
        i = data["partner_id"].tolist().index(customer.id)
        self.assertEqual(data["partner_id"].tolist(), sorted(data["partner_id"].tolist()))
        self.assertEqual((data["x"][i], data["orders"][i]), (1, 3))
        self.assertEqual((data["revenue"][i], data["margin"][i]), (60000, 24000))
        self.assertEqual((data["monetary"][i], data["margin_ratio"][i]), (50000, 0.4))
        self.assertEqual((data["recency_days"][i], data["t_x"][i], data["T"][i]), (3, 1, 10 / 7))
        stored = self._score_of(customer)
        self.assertEqual(
            (stored.order_count, stored.repeat_purchases, stored.recency_days), (3, 1, 3)
        )
        self.assertEqual((stored.ordered_amount, stored.margin_total), (60000, 24000))
        self.assertEqual(str(stored.first_order_date), str((TODAY - timedelta(days=10)).date()))
        self.assertEqual(str(stored.last_order_date), str(day.date()))

    def test_a_new_fit_rescores_in_place_and_adds_new_customers(self):
        first = self._refresh()
        before = self.env["crm.customer.score"].search([("company_id", "=", self.company.id)])
        ids = {score.partner_id.id: score.id for score in before}
        newcomer = self.env["res.partner"].create({"name": "Cliente Nuevo Puntaje Test"})
        self.env["sale.order"].create(
            self._order_vals(newcomer, TODAY - timedelta(days=2), self.products[0])
        )
        second = self._refresh()
        after = self.env["crm.customer.score"].search([("company_id", "=", self.company.id)])
        self.assertNotEqual(first, second)
        self.assertEqual(after.model_id, second)
        self.assertEqual(after.partner_id, self.customers | newcomer)
        # the customers scored before keep their rows (same ids), the newcomer gets one
        self.assertEqual({s.partner_id.id: s.id for s in after if s.partner_id != newcomer}, ids)
        self.assertEqual(self._score_of(newcomer).order_count, 1)

    def test_stored_scores_are_the_model_s_values(self):
        # the scores travel to PostgreSQL in binary (copy_columns): what is stored, read back
        # by SQL, is what the model computed, float for float, with the codes, the selections
        # and the dates spelled out
        model = self._refresh()
        score = self.env["crm.customer.score"]
        data = self._summary_of(model)
        purchase = model._purchase_fit()
        p_alive = clv.probability_alive(purchase, data["x"], data["t_x"], data["T"])
        r, f, m = score._rfm_scores(data, model.rfm_bounds)
        segments = rfm_segment(r, (f + m + 1) // 2)
        affinity = self.env["crm.product.affinity"]
        rules = affinity._offer_rules(self.company)
        offers = affinity._best_offer_ids(
            data["partner_id"], affinity._bought_pairs(self.company, None, rules), rules
        )
        stored = {
            row[0]: row[1:]
            for row in self.env.execute_query(
                SQL(
                    """SELECT partner_id, p_alive::float8, churn_risk::float8, churn_band,
                              rfm_code, rfm_segment, clv_basis, ordered_amount::float8,
                              first_order_date, last_order_date, next_offer_product_id
                         FROM crm_customer_score WHERE company_id = %s""",
                    self.company.id,
                )
            )
        }
        self.assertEqual(sorted(stored), data["partner_id"].tolist())
        for i, partner_id in enumerate(data["partner_id"].tolist()):
            alive, risk, band, code, segment, basis, amount, first, last, offer = stored[partner_id]
            self.assertEqual(alive, p_alive[i])
            self.assertEqual(band, "low" if risk < 0.3 else "medium" if risk < 0.6 else "high")
            self.assertEqual(code, f"{r[i]}{f[i]}{m[i]}")
            self.assertEqual(segment, segments[i])
            self.assertEqual(basis, "margin" if data["use_margin"][i] else "revenue")
            self.assertEqual(amount, round(data["revenue"][i], 2))
            self.assertEqual((first, last), (data["first"][i], data["last"][i]))
            self.assertEqual(offer, int(offers[i]) or None)

    def test_copy_columns_carries_values_exactly(self):
        values = {
            "n": ("int", np.array([-(2**31), -1, 0, 7, 2**31 - 1])),
            "x": ("float", np.array([0.1, -1e-300, 1e300, 2.0 / 3.0, -0.0])),
        }
        copy_columns(self.env.cr, "crm_test_copy", values)
        rows = self.env.execute_query(SQL("SELECT n, x FROM crm_test_copy"))
        self.assertEqual([n for n, _x in rows], values["n"][1].tolist())
        self.assertEqual([x for _n, x in rows], values["x"][1].tolist())

    def test_pg_array_carries_values_exactly(self):
        """The array text PostgreSQL reads back is the values: numpy or list, NULL, codes."""
        cases = [
            ("int[]", np.array([-(2**31), 0, 2**31 - 1], dtype=np.int64), [-(2**31), 0, 2**31 - 1]),
            ("int[]", [3, None, 5], [3, None, 5]),
            ("float8[]", np.array([0.1, 2.0 / 3.0, -1e-300]), [0.1, 2.0 / 3.0, -1e-300]),
            ("text[]", ["grant", "deny"], ["grant", "deny"]),
            ("int[]", [], []),
        ]
        for cast, values, expected in cases:
            [(read,)] = self.env.execute_query(SQL("SELECT %s::%s", pg_array(values), SQL(cast)))
            self.assertEqual(read, expected, cast)

    def test_margin_is_the_clv_basis_when_costs_are_known(self):
        self._refresh()
        self.assertEqual(self._score_of(self.customers[0]).clv_basis, "margin")

    def test_failed_fit_keeps_previous_scores(self):
        self._refresh()
        before = {s.partner_id.id: s.clv for s in self.customers.mapped(self._score_of)}
        with (
            patch.object(
                clv, "fit_purchase_model", side_effect=clv.CLVFitError("Too few customers.")
            ),
            self.assertRaisesRegex(UserError, "previous scores are kept"),
        ):
            self._refresh()
        after = {s.partner_id.id: s.clv for s in self.customers.mapped(self._score_of)}
        self.assertEqual(before, after)

    def test_company_with_too_little_data_gets_a_clear_message(self):
        empty = self.env["res.company"].create({"name": "Tienda Vacía Test"})
        with self.assertRaisesRegex(UserError, "no confirmed sales"):
            self.env["crm.analytics.scheduler"].with_company(empty)._refresh_company(empty)

    def test_horizon_out_of_range_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "between 1 and 120 months"):
            self.company.crm_clv_horizon_months = 0

    def test_discount_rate_out_of_range_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "discount rate"):
            self.company.crm_clv_discount_rate = 1.5

    def test_interrupted_scoring_resumes_after_the_cursor(self):
        with patch.object(crm_analytics_scheduler, "SCORE_BATCH_SIZE", 7):
            scheduler = self.env["crm.analytics.scheduler"]
            model = scheduler._prepare_company(self.company)
            cursor = self.customers.sorted("id")[13].id
            model.cursor_partner_id = cursor
            scheduler._score_all(model)
        scored = self.env["crm.customer.score"].search([("company_id", "=", self.company.id)])
        self.assertEqual(scored.partner_id, self.customers.filtered(lambda p: p.id > cursor))
        self.assertEqual(model.state, "done")

    def test_recompute_action_is_for_managers_only(self):
        with self.assertRaisesRegex(UserError, "Only analytics managers"):
            self.env["crm.clv.model"].with_user(self.analyst).action_recompute()

    def test_manager_recompute_opens_the_new_fit(self):
        action = self.env["crm.clv.model"].with_user(self.manager).action_recompute()
        model = self.env["crm.clv.model"].browse(action["res_id"])
        self.assertEqual(model.company_id, self.company)
        self.assertEqual(model.state, "done")

    def test_partner_360_shows_the_score_of_the_current_company(self):
        self._refresh()
        partner = self.customers[0].with_user(self.analyst)
        self.assertEqual(partner.crm_clv, self._score_of(self.customers[0]).clv)
        self.assertTrue(partner.crm_rfm_segment)

    def test_propensity_training_auc_is_stored_on_the_company(self):
        self._refresh()
        self.assertTrue(0.5 < self.company.crm_propensity_auc <= 1)
        self.assertTrue(self.company.crm_propensity_trained_at)

    def test_propensities_are_stored_per_customer_and_category(self):
        self._refresh()
        rows = self.env["crm.customer.propensity"].search([("company_id", "=", self.company.id)])
        self.assertTrue(rows)
        self.assertTrue(all(0 < p < 1 for p in rows.mapped("probability")))
        self.assertLessEqual(rows.categ_id, self.categ_home | self.categ_electro)


def test_rfm_segment_map_covers_every_cell():
    r, fm = np.meshgrid(np.arange(1, 6), np.arange(1, 6))
    segments = rfm_segment(r.ravel(), fm.ravel())
    assert set(segments) == {
        "champions",
        "loyal",
        "potential",
        "new",
        "at_risk",
        "cant_lose",
        "hibernating",
        "lost",
    }
    assert rfm_segment(np.array([5]), np.array([5]))[0] == "champions"
    assert rfm_segment(np.array([1]), np.array([1]))[0] == "lost"


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestScoreAccess(CrmAnalyticsCase):
    def test_scores_of_another_company_are_hidden(self):
        self.env["crm.analytics.scheduler"]._refresh_company(self.company)
        other = self.env["res.company"].create({"name": "Otra Tienda Test"})
        outsider = new_test_user(
            self.env,
            login="ana_outsider",
            groups="crm_analytics.group_manager",
            company_id=other.id,
            company_ids=[other.id],
        )
        Score = (
            self.env["crm.customer.score"]
            .with_user(outsider)
            .with_context(allowed_company_ids=[other.id])
        )
        self.assertFalse(Score.search([("partner_id", "in", self.customers.ids)]))
        Model = (
            self.env["crm.clv.model"]
            .with_user(outsider)
            .with_context(allowed_company_ids=[other.id])
        )
        self.assertFalse(Model.search([("company_id", "=", self.company.id)]))
