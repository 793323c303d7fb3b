from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.tests import HttpCase
from odoo.tests import tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from .common import CrmAnalyticsCase


@tagged("post_install", "-at_install")
class TestAnalyticsRpc(HttpCase, CrmAnalyticsCase):
    """The public methods of crm_analytics called as a browser would, through JSON-RPC, with
    a forged context: every key crm_analytics reads set to what an attacker would choose."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_roles()
        date_to = fields.Date.today()
        cls.env["crm.product.affinity"]._refresh(
            cls.company, date_to - relativedelta(years=3), date_to
        )
        cls.score = cls.env["crm.customer.score"].create(
            {"partner_id": cls.customers[5].id, "company_id": cls.company.id, "clv": 500.0}
        )
        cls.victim_order = (
            cls.env["sale.order"]
            .with_user(cls.other_salesperson)
            .create({"partner_id": cls.customers[5].id, "company_id": cls.company.id})
        )

    def _call(self, login, model, method, args, context):
        self.authenticate(login, login)
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": args, "kwargs": {"context": context}},
        )

    def _forged(self, companies=None):
        """Every context key crm_analytics reads, pointing where the caller may not go."""
        return {
            "crm_order_id": self.victim_order.id,
            "allowed_company_ids": (companies or self.company).ids,
        }

    def _state(self):
        env = self.env(su=True)
        env.invalidate_all()
        return {
            "fits": env["crm.clv.model"].search_read([], ["state", "company_id"]),
            "scores": env["crm.customer.score"].search_read([], ["clv", "company_id"]),
            "victim_lines": len(self.victim_order.order_line),
        }

    def _assert_refused(self, login, model, method, args, context=None):
        before = self._state()
        with (
            mute_logger("odoo.http", "odoo.models", "odoo.addons.base.models.ir_rule"),
            self.assertRaises(JsonRpcException) as caught,
        ):
            self._call(login, model, method, args, context or self._forged())
        self.assertEqual(str(caught.exception), "odoo.exceptions.AccessError")
        self.assertEqual(self._state(), before)

    def test_every_public_method_is_refused_to_a_salesperson_and_a_portal_user(self):
        calls = [
            ("crm.clv.model", "action_recompute", [[]]),
            ("crm.clv.model", "action_recompute", [self.env["crm.clv.model"].search([]).ids]),
            ("product.product", "action_crm_add_to_order", [self.products[1].ids]),
            ("res.partner", "action_open_crm_score", [self.customers[5].ids]),
        ]
        for login in ("ana_salesperson", "ana_portal_user"):
            for model, method, args in calls:
                with self.subTest(login=login, method=method):
                    self._assert_refused(login, model, method, args)

    def test_nobody_writes_score_rows_through_rpc(self):
        values = {"partner_id": self.customers[1].id, "company_id": self.company.id, "clv": 1e9}
        for login in ("ana_manager", "ana_user", "ana_salesperson", "ana_portal_user"):
            with self.subTest(login=login):
                self._assert_refused(login, "crm.customer.score", "create", [values])
                self._assert_refused(
                    login, "crm.customer.score", "write", [self.score.ids, {"clv": 1e9}]
                )
                self._assert_refused(login, "crm.customer.score", "unlink", [self.score.ids])

    def test_manager_of_one_company_cannot_recompute_the_other_through_rpc(self):
        forged = self._forged(self.company_b)
        self._assert_refused("ana_manager", "crm.clv.model", "action_recompute", [[]], forged)

    def test_private_pipeline_methods_are_not_callable(self):
        before = self._state()
        self.authenticate("ana_manager", "ana_manager")
        for model, method in (
            ("crm.analytics.scheduler", "_refresh_company"),
            ("crm.analytics.scheduler", "_cron_refresh_scores"),
            ("crm.clv.model", "_check_recompute_access"),
        ):
            with (
                self.subTest(method=method),
                mute_logger("odoo.http"),
                self.assertRaises(JsonRpcException),
            ):
                self.make_jsonrpc_request(
                    f"/web/dataset/call_kw/{model}/{method}",
                    {"model": model, "method": method, "args": [[]], "kwargs": {}},
                )
        self.assertEqual(self._state(), before)

    def test_first_add_of_a_suggestion_on_a_new_quotation_adds_it(self):
        customer = self.env["res.partner"].create({"name": "Cliente Sugerencia Tour"})
        self.env["sale.order"].create(
            self._order_vals(customer, fields.Datetime.now(), [self.products[0]])
        )
        offers = self.env["crm.product.affinity"]._next_offers(self.company, customer.ids, 8)
        self.assertTrue(offers.get(customer.id), "the tour needs a suggestion to click")
        self.start_tour(
            "/odoo/action-sale.action_quotations_with_onboarding/new",
            "crm_analytics_add_suggestion_tour",
            login="ana_salesperson",
        )
        self.env.invalidate_all()
        order = self.env["sale.order"].search(
            [("partner_id", "=", customer.id), ("state", "=", "draft")]
        )
        self.assertEqual(order.user_id, self.salesperson)
        self.assertEqual(len(order.order_line), 1)
        self.assertIn(order.order_line.product_id.id, offers[customer.id][:5])
