from datetime import date
from datetime import datetime
from math import exp
from math import log
from unittest.mock import patch

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import TransactionCase
from odoo.tests import new_test_user
from odoo.tests import tagged
from odoo.tools import SQL
from odoo.tools import mute_logger

from odoo.addons.crm_analytics.lib import propensity

AS_OF = date(2026, 6, 30)


@tagged("post_install", "-at_install")
@freeze_time("2026-06-30 12:00:00")
class TestPropensity(TransactionCase):
    """Category propensities of a small store, as of 2026-06-30 (period 90 days, window 36
    months: training as of 2026-04-01 on [2023-04-01, 2026-04-01), scoring on [2023-06-30,
    2026-06-30)).

    Customer 1 buys Hogar (A) on 2025-01-10 (with Electro, B), 2025-10-01 and 2026-05-01;
    customer 2 buys Electro on 2025-03-01 and Electro with Jardín (C) on 2026-06-01;
    customer 3 buys Jardín on 2024-06-01; customer 4 bought Hogar in 2022 only (before the
    window). Another company sells Hogar to customer 3.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env["res.company"].create({"name": "Tienda Propensión Test"})
        cls.company_b = cls.env["res.company"].create({"name": "Otra Tienda Propensión Test"})
        cls.env = cls.env(context=dict(cls.env.context, allowed_company_ids=[cls.company.id]))
        cls.analyst = new_test_user(
            cls.env,
            login="prop_analyst",
            groups="base.group_user,crm_analytics.group_user",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.salesperson = new_test_user(
            cls.env,
            login="prop_salesperson",
            groups="sales_team.group_sale_salesman",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        Category = cls.env["product.category"]
        cls.categ_a = Category.create({"name": "Hogar Propensión Test"})
        cls.categ_b = Category.create({"name": "Electro Propensión Test"})
        cls.categ_c = Category.create({"name": "Jardín Propensión Test"})
        cls.product_a, cls.product_b, cls.product_c = cls.env["product.product"].create(
            [
                {"name": f"Producto Propensión {categ.name}", "categ_id": categ.id}
                for categ in (cls.categ_a, cls.categ_b, cls.categ_c)
            ]
        )
        cls.c1, cls.c2, cls.c3, cls.c4 = cls.env["res.partner"].create(
            [{"name": f"Cliente Propensión {i}", "is_company": True} for i in range(1, 5)]
        )
        a, b, c = cls.product_a, cls.product_b, cls.product_c
        cls.env["sale.order"].create(
            [
                cls._order(cls.c1, "2025-01-10", a, b),
                cls._order(cls.c1, "2025-10-01", a),
                cls._order(cls.c1, "2026-05-01", a),
                cls._order(cls.c2, "2025-03-01", b),
                cls._order(cls.c2, "2026-06-01", b, c),
                cls._order(cls.c3, "2024-06-01", c),
                cls._order(cls.c4, "2022-01-01", a),
                cls._order(cls.c3, "2026-06-15", a, company=cls.company_b),
            ]
        )
        cls.Propensity = cls.env["crm.customer.propensity"]

    @classmethod
    def _order(cls, customer, day, *products, company=None):
        return {
            "partner_id": customer.id,
            "company_id": (company or cls.company).id,
            "state": "sale",
            "date_order": datetime.fromisoformat(f"{day} 12:00:00"),
            "order_line": [(0, 0, {"product_id": p.id, "product_uom_qty": 1.0}) for p in products],
        }

    def _rows(self, company=None):
        rows = self.Propensity.search([("company_id", "=", (company or self.company).id)])
        return {(row.partner_id, row.rank): row for row in rows}

    def _refresh(self):
        self.assertTrue(self.Propensity._refresh(self.company, AS_OF))

    # ------------------------------------------------------------------------------------------
    # features and rows

    def test_features_of_today_match_a_count_by_hand(self):
        _fit, train, today = self.Propensity._predict(self.company, AS_OF)
        pairs = dict(
            zip(
                zip(today.partner.tolist(), today.categ.tolist(), strict=True),
                today.features,
                strict=True,
            )
        )
        self.assertEqual(
            set(pairs),
            {
                (self.c1.id, self.categ_a.id),
                (self.c1.id, self.categ_b.id),
                (self.c2.id, self.categ_b.id),
                (self.c2.id, self.categ_c.id),
                (self.c3.id, self.categ_c.id),
            },
        )
        # customer 1, Hogar: 3 orders, the last one 60 days ago; of the 3 customers of the
        # window, customer 1 bought Hogar in the last 90 days.
        expected = [log(4), 1, exp(-60 / 180), log(4), 60 / 365, 0, 1 / 3]
        for value, hand in zip(pairs[(self.c1.id, self.categ_a.id)], expected, strict=True):
            self.assertAlmostEqual(value, hand, places=12)
        # training as of 2026-04-01: who bought what in the 90 days after
        labels = dict(
            zip(
                zip(train.partner.tolist(), train.categ.tolist(), strict=True),
                train.bought,
                strict=True,
            )
        )
        self.assertEqual(
            labels,
            {
                (self.c1.id, self.categ_a.id): True,
                (self.c1.id, self.categ_b.id): False,
                (self.c2.id, self.categ_b.id): True,
                (self.c3.id, self.categ_c.id): False,
            },
        )

    def test_refresh_keeps_the_ranked_categories_of_each_customer(self):
        self._refresh()
        rows = self._rows()
        self.assertEqual(
            {key: row.categ_id for key, row in rows.items()},
            {
                (self.c1, 1): self.categ_a,
                (self.c1, 2): self.categ_b,
                (self.c2, 1): self.categ_b,
                (self.c2, 2): self.categ_c,
                (self.c3, 1): self.categ_c,
            },
        )
        for customer in (self.c1, self.c2):
            self.assertGreaterEqual(rows[customer, 1].probability, rows[customer, 2].probability)
        # four training pairs that a weight separates: the probabilities reach 0 and 1
        self.assertTrue(all(0 <= row.probability <= 1 for row in rows.values()))
        self.assertEqual({row.period_days for row in rows.values()}, {90})
        self.assertTrue(0.5 <= self.company.crm_propensity_auc <= 1)

    def test_customer_without_history_in_the_window_gets_no_propensity(self):
        self._refresh()
        self.assertFalse(self.Propensity.search([("partner_id", "=", self.c4.id)]))

    def test_category_with_nothing_left_for_sale_is_not_proposed(self):
        self.product_b.product_tmpl_id.active = False
        self._refresh()
        rows = self._rows()
        self.assertNotIn(self.categ_b, self.Propensity.search([]).categ_id)
        self.assertEqual(rows[self.c2, 1].categ_id, self.categ_c)
        self.assertNotIn((self.c2, 2), rows)
        # its sales still count: customer 2 has 2 orders, one of them Electro only
        _fit, _train, today = self.Propensity._predict(self.company, AS_OF)
        row = (today.partner == self.c2.id) & (today.categ == self.categ_c.id)
        self.assertAlmostEqual(today.features[row, 3][0], log(3))

    def test_category_sold_by_another_company_only_is_not_on_sale_here(self):
        categ = self.env["product.category"].create({"name": "Piscina Propensión Test"})
        self.env["product.product"].create(
            {"name": "Bomba Propensión Test", "categ_id": categ.id, "company_id": self.company_b.id}
        )
        self.assertNotIn(categ.id, self.Propensity._categories_on_sale(self.company))
        self.assertIn(categ.id, self.Propensity._categories_on_sale(self.company_b))
        self.assertIn(self.categ_a.id, self.Propensity._categories_on_sale(self.company))

    def test_failed_training_keeps_the_previous_propensities(self):
        self._refresh()
        before = {key: (row.id, row.probability) for key, row in self._rows().items()}
        error = propensity.PropensityError("nothing to learn from")
        with patch.object(propensity, "fit_logistic", side_effect=error):
            self.assertFalse(self.Propensity._refresh(self.company, AS_OF))
        self.Propensity.invalidate_model()
        self.assertEqual({k: (r.id, r.probability) for k, r in self._rows().items()}, before)

    def test_planner_settings_end_with_the_history_query(self):
        def setting():
            query = SQL("SELECT current_setting('parallel_tuple_cost')")
            return self.env.execute_query(query)[0][0]

        before = setting()
        self.Propensity._history(self.company, date(2023, 1, 1), AS_OF)
        self.assertEqual(setting(), before)

    # ------------------------------------------------------------------------------------------
    # what a refresh writes

    def _mark(self, value):
        self.env.flush_all()
        self.env.execute_query(SQL("UPDATE crm_customer_propensity SET refreshed_at = %s", value))
        self.Propensity.invalidate_model()

    def test_rerun_rewrites_no_row(self):
        self._refresh()
        ids = {key: row.id for key, row in self._rows().items()}
        self._mark(datetime(2000, 1, 1))
        self._refresh()
        rows = self._rows()
        self.assertEqual({key: row.id for key, row in rows.items()}, ids)
        self.assertEqual({row.refreshed_at for row in rows.values()}, {datetime(2000, 1, 1)})

    def test_changed_row_is_updated_in_place(self):
        self._refresh()
        row = self._rows()[self.c1, 1]
        probability = row.probability
        self._mark(datetime(2000, 1, 1))
        self.env.execute_query(
            SQL("UPDATE crm_customer_propensity SET probability = 0.999 WHERE id = %s", row.id)
        )
        self.Propensity.invalidate_model()
        self._refresh()
        again = self._rows()[self.c1, 1]
        self.assertEqual(again.id, row.id)
        self.assertEqual(again.probability, probability)
        self.assertEqual(again.refreshed_at, datetime(2026, 6, 30, 12, 0))
        self.assertEqual(self._rows()[self.c1, 2].refreshed_at, datetime(2000, 1, 1))

    def test_rows_no_longer_computed_are_deleted(self):
        self._refresh()
        stale = self.Propensity.create(
            [
                {"partner_id": self.c4.id, "company_id": self.company.id, "rank": 1,
                 "categ_id": self.categ_a.id, "probability": 0.5},
                {"partner_id": self.c1.id, "company_id": self.company.id, "rank": 4,
                 "categ_id": self.categ_c.id, "probability": 0.1},
            ]
        )  # fmt: skip
        self._refresh()
        self.assertFalse(stale.exists())
        self.assertEqual(len(self._rows()), 5)

    # ------------------------------------------------------------------------------------------
    # companies and access

    def test_refresh_leaves_other_companies_alone(self):
        other = self.Propensity.create(
            {
                "partner_id": self.c1.id,
                "company_id": self.company_b.id,
                "categ_id": self.categ_c.id,
                "probability": 0.5,
                "rank": 1,
            }
        )
        self._refresh()
        self.assertEqual(
            (other.exists(), other.probability, other.categ_id), (other, 0.5, self.categ_c)
        )
        # customer 3 bought Hogar from the other company only: no Hogar here
        self.assertEqual(self._rows()[self.c3, 1].categ_id, self.categ_c)
        self.assertNotIn((self.c3, 2), self._rows())

    def test_analyst_reads_the_propensities_of_their_company_only(self):
        self._refresh()
        other = self.Propensity.create(
            {
                "partner_id": self.c1.id,
                "company_id": self.company_b.id,
                "categ_id": self.categ_c.id,
                "probability": 0.5,
                "rank": 1,
            }
        )
        as_analyst = self.env(user=self.analyst)["crm.customer.propensity"]
        self.assertEqual(len(as_analyst.search([])), 5)
        self.assertFalse(as_analyst.search([("id", "=", other.id)]))
        with mute_logger("odoo.addons.base.models.ir_rule"), self.assertRaises(AccessError):
            as_analyst.browse(other.id).read(["probability"])
        panel = self.c1.with_user(self.analyst).crm_propensity_ids
        self.assertEqual(panel.categ_id.ids, [self.categ_a.id, self.categ_b.id])

    def test_analyst_cannot_change_a_propensity(self):
        self._refresh()
        row = self._rows()[self.c1, 1].with_user(self.analyst)
        with self.assertRaises(AccessError):
            row.write({"probability": 0.9})
        with self.assertRaises(AccessError):
            row.unlink()

    def test_salesperson_without_analytics_cannot_read_propensities(self):
        self._refresh()
        with self.assertRaises(AccessError):
            self.env(user=self.salesperson)["crm.customer.propensity"].search([])
        with self.assertRaises(AccessError):
            self.c1.with_user(self.salesperson).read(["crm_propensity_ids"])
