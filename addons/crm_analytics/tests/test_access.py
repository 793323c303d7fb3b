from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import TODAY
from .common import CrmAnalyticsCase

SYSTEM_MODELS = (
    "crm.customer.score",
    "crm.clv.model",
    "crm.product.affinity",
    "crm.category.affinity",
    "crm.customer.propensity",
)


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestAnalyticsRoles(CrmAnalyticsCase):
    """What each role may do with the analytics: every flow as that user, every refusal
    raises and leaves the data as it was."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_roles()
        cls.fit = cls.env["crm.analytics.scheduler"]._refresh_company(cls.company)
        cls.score = cls._score_of(cls.customers[0])
        # Company B has its own fit and a score of the same (shared) customer.
        cls.fit_b = cls.env["crm.clv.model"].create(
            {
                "company_id": cls.company_b.id,
                "state": "done",
                "date_from": "2024-01-01",
                "date_to": "2026-06-30",
            }
        )
        cls.score_b = cls.env["crm.customer.score"].create(
            {
                "partner_id": cls.customers[0].id,
                "company_id": cls.company_b.id,
                "model_id": cls.fit_b.id,
                "clv": 123.0,
            }
        )

    def _snapshot(self):
        """Row count and last write of every system table, and the fits (as superuser)."""
        env = self.env(su=True)
        state = {}
        for model in SYSTEM_MODELS:
            rows = env[model].with_context(active_test=False).search([])
            state[model] = (len(rows), max(rows.mapped("write_date"), default=None))
        state["score"] = (self.score.clv, self.score_b.clv, self.score.rfm_code)
        return state

    def _env_of(self, user, *companies):
        companies = companies or (self.company,)
        return self.env(user=user, context={"allowed_company_ids": [c.id for c in companies]})

    def _assert_refused(self, call, exception=AccessError):
        before = self._snapshot()
        with mute_logger("odoo.models", "odoo.addons.base.models.ir_rule"):
            with self.assertRaises(exception):
                call()
        self.env.invalidate_all()
        self.assertEqual(self._snapshot(), before)

    # ------------------------------------------------------------------------------------------
    # analytics manager

    def test_manager_recomputes_the_scores_of_their_company(self):
        env = self._env_of(self.manager)
        self.assertFalse(self.manager.has_group("base.group_system"))
        action = env["crm.clv.model"].action_recompute()
        fit = self.env["crm.clv.model"].browse(action["res_id"])
        self.assertNotEqual(fit, self.fit)
        self.assertEqual((fit.company_id, fit.state, fit.scored_count), (self.company, "done", 40))
        self.assertEqual(self._score_of(self.customers[0]).model_id, fit)
        self.assertEqual(self.score_b.clv, 123.0, "the other company's score is untouched")

    def test_manager_recomputes_from_the_form_of_a_fit(self):
        action = self.fit.with_env(self._env_of(self.manager)).action_recompute()
        fit = self.env["crm.clv.model"].browse(action["res_id"])
        self.assertEqual((fit.company_id, fit.state), (self.company, "done"))

    def test_manager_cannot_create_score_rows_by_hand(self):
        Score = self._env_of(self.manager)["crm.customer.score"]
        self._assert_refused(
            lambda: Score.create(
                {"partner_id": self.customers[1].id, "company_id": self.company.id, "clv": 1e9}
            )
        )

    def test_manager_cannot_edit_or_delete_system_rows(self):
        env = self._env_of(self.manager)
        for model in SYSTEM_MODELS:
            row = env[model].search([("company_id", "=", self.company.id)], limit=1)
            self.assertTrue(row, model)
            with self.subTest(model=model):
                self._assert_refused(lambda row=row: row.write({"company_id": self.company.id}))
                self._assert_refused(row.unlink)
                self._assert_refused(
                    lambda model=model: env[model].create({"company_id": self.company.id})
                )

    def test_manager_configures_service_levels_of_their_company(self):
        Level = self._env_of(self.manager)["crm.service.level"]
        level = Level.create({"name": "Oro Test", "min_clv": 1000})
        self.assertEqual(level.company_id, self.company)
        level.write({"priority": "2"})
        self.assertEqual(level.priority, "2")
        level.unlink()
        self.assertFalse(level.exists())

    def test_manager_of_one_company_cannot_create_a_service_level_in_the_other(self):
        Level = self._env_of(self.manager)["crm.service.level"]
        self._assert_refused(
            lambda: Level.create({"name": "Fuera", "company_id": self.company_b.id})
        )

    # ------------------------------------------------------------------------------------------
    # analytics user

    def test_analytics_user_reads_scores_and_the_360_page(self):
        env = self._env_of(self.analyst)
        self.assertEqual(env["crm.customer.score"].browse(self.score.id).clv, self.score.clv)
        partner = self.customers[0].with_env(env)
        self.assertEqual(partner.crm_clv, self.score.clv)
        self.assertEqual(partner.action_open_crm_score()["res_id"], self.score.id)

    def test_analytics_user_cannot_recompute(self):
        Model = self._env_of(self.analyst)["crm.clv.model"]
        self._assert_refused(Model.action_recompute)
        self._assert_refused(self.fit.with_env(Model.env).action_recompute)

    def test_analytics_user_cannot_write_scores(self):
        score = self.score.with_env(self._env_of(self.analyst))
        self._assert_refused(lambda: score.write({"clv": 1e9}))

    # ------------------------------------------------------------------------------------------
    # salesperson (Sales / User only)

    def test_salesperson_cannot_read_scores_nor_recompute(self):
        env = self._env_of(self.salesperson)
        self.assertFalse(self.salesperson.has_group("crm_analytics.group_user"))
        self._assert_refused(lambda: env["crm.customer.score"].search([]))
        self._assert_refused(env["crm.clv.model"].action_recompute)
        self._assert_refused(self.customers[0].with_env(env).action_open_crm_score)

    def _quotation(self, user, customer):
        """A quotation of ``user`` for ``customer``, who already bought P1."""
        self.env["sale.order"].create(
            self._order_vals(customer, TODAY.replace(day=1), [self.products[0]])
        )
        return self._env_of(user)["sale.order"].create(
            {"partner_id": customer.id, "company_id": self.company.id}
        )

    def test_salesperson_adds_a_suggested_product_to_their_quotation(self):
        customer = self.env["res.partner"].create({"name": "Cliente Vendedor Test"})
        quotation = self._quotation(self.salesperson, customer)
        suggested = quotation.crm_suggested_product_ids
        self.assertTrue(suggested)
        self.assertNotIn(self.products[0], suggested, "already bought")
        suggested[0].with_context(crm_order_id=quotation.id).action_crm_add_to_order()
        self.assertEqual(quotation.order_line.product_id, suggested[0])
        self.assertEqual(quotation.order_line.product_uom_qty, 1.0)

    def test_salesperson_cannot_add_a_suggestion_to_another_salespersons_order(self):
        customer = self.env["res.partner"].create({"name": "Cliente Ajeno Test"})
        theirs = self._quotation(self.other_salesperson, customer)
        product = self.products[1].with_env(self._env_of(self.salesperson))
        lines = self.env["sale.order.line"].search_count([])
        self._assert_refused(product.with_context(crm_order_id=theirs.id).action_crm_add_to_order)
        self.assertFalse(theirs.order_line)
        self.assertEqual(self.env["sale.order.line"].search_count([]), lines)

    def test_a_suggestion_needs_a_saved_order_of_the_context(self):
        product = self.products[1].with_env(self._env_of(self.salesperson))
        for order_id in (False, None, 0, -1, "12", [1], True, 10**9):
            with self.subTest(order_id=order_id):
                self._assert_refused(
                    product.with_context(crm_order_id=order_id).action_crm_add_to_order,
                    UserError,
                )

    def test_a_product_not_for_sale_cannot_be_added(self):
        customer = self.env["res.partner"].create({"name": "Cliente No Venta Test"})
        quotation = self._quotation(self.salesperson, customer)
        self.products[5].sale_ok = False
        product = self.products[5].with_env(quotation.env)
        with self.assertRaisesRegex(UserError, "is not for sale"):
            product.with_context(crm_order_id=quotation.id).action_crm_add_to_order()
        self.assertFalse(quotation.order_line)

    # ------------------------------------------------------------------------------------------
    # portal customer

    def test_portal_user_is_refused_every_analytics_action(self):
        env = self._env_of(self.portal_user)
        own = self.portal_contact.with_env(env)
        self.assertEqual(own.commercial_partner_id, self.customers[5])
        self._assert_refused(env["crm.clv.model"].action_recompute)
        self._assert_refused(own.action_open_crm_score)
        self._assert_refused(lambda: env["crm.customer.score"].search([]))
        order = self.orders.filtered(lambda o: o.partner_id == self.customers[5])[0]
        order.state = "draft"
        product = self.products[0].with_env(env).with_context(crm_order_id=order.id)
        self._assert_refused(product.action_crm_add_to_order)

    # ------------------------------------------------------------------------------------------
    # two companies

    def test_manager_of_one_company_cannot_recompute_the_other(self):
        self.assertEqual(self.manager.company_ids, self.company)
        env = self.env(user=self.manager, context={"allowed_company_ids": [self.company_b.id]})
        self._assert_refused(env["crm.clv.model"].action_recompute)
        self._assert_refused(self.fit_b.with_env(self._env_of(self.manager)).action_recompute)
        self.assertEqual(
            self.env["crm.clv.model"].search_count([("company_id", "=", self.company_b.id)]), 1
        )

    def test_manager_of_one_company_cannot_read_the_scores_of_the_other(self):
        env = self._env_of(self.manager)
        scores = env["crm.customer.score"].search([("partner_id", "=", self.customers[0].id)])
        self.assertEqual(scores, self.score)
        with self.assertRaises(AccessError):
            self.score_b.with_env(env).clv  # noqa: B018
        with self.assertRaises(AccessError):
            self.fit_b.with_env(env).avg_clv  # noqa: B018
        self.assertEqual(self.customers[0].with_env(env).crm_clv, self.score.clv)

    def test_manager_of_both_companies_recomputes_the_current_one_only(self):
        env = self._env_of(self.manager_ab, self.company, self.company_b)
        action = env["crm.clv.model"].action_recompute()
        self.assertEqual(
            self.env["crm.clv.model"].browse(action["res_id"]).company_id, self.company
        )
        self.assertEqual(self.score_b.clv, 123.0)
        # a fit of B is recomputed only while B is one of the active companies
        self._assert_refused(self.fit_b.with_env(self._env_of(self.manager_ab)).action_recompute)
        with self.assertRaisesRegex(UserError, "no confirmed sales"):
            self.fit_b.with_env(env).action_recompute()

    def test_recompute_of_fits_of_two_companies_at_once_is_refused(self):
        env = self._env_of(self.manager_ab, self.company, self.company_b)
        fits = (self.fit | self.fit_b).with_env(env)
        self._assert_refused(fits.action_recompute, UserError)
