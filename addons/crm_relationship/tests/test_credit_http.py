import re
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase
from odoo.tests import new_test_user
from odoo.tests import tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from .common import offer_spanish_on_the_portal


@tagged("post_install", "-at_install")
class TestCreditHttp(HttpCase):
    """House credit as the browser sees it: the salesperson's blocked confirmation (a tour),
    the portal customer's request, JSON-RPC callers refused, a credit manager limited to one
    of two companies."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.ref("base.main_company")
        cls.company.account_use_credit_limit = True
        cls.other_company = cls.env["res.company"].create({"name": "Tienda Sur Test"})
        cls.debtor = cls.env["res.partner"].create({"name": "Deudor Tour SpA", "is_company": True})
        today = fields.Date.context_today(cls.env["res.partner"])
        invoice = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": cls.debtor.id,
                "company_id": cls.company.id,
                "invoice_date": today - timedelta(days=200),
                "invoice_date_due": today - timedelta(days=170),
                "invoice_line_ids": [
                    (0, 0, {"name": "Cocina", "quantity": 1, "price_unit": 500000, "tax_ids": []})
                ],
            }
        )
        invoice.action_post()
        cls.env["crm.customer.metric"]._refresh_metrics(cls.debtor.ids, cls.company.ids)
        cls.salesman = new_test_user(
            cls.env,
            login="credit_tour_salesman",
            groups="sales_team.group_sale_salesman",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.south_manager = new_test_user(
            cls.env,
            login="credit_south_manager",
            groups="crm_relationship.group_credit_manager",
            company_id=cls.other_company.id,
            company_ids=[cls.other_company.id],
        )
        cls.customer = cls.env["res.partner"].create(
            {"name": "Cliente Portal Crédito", "email": "portal.credito@example.com"}
        )
        cls.portal_user = new_test_user(
            cls.env,
            login="credit_portal",
            groups="base.group_portal",
            partner_id=cls.customer.id,
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        product = cls.env["product.product"].create(
            {"name": "Cocina a gas Tour", "list_price": 1000}
        )
        cls.order = (
            cls.env["sale.order"]
            .with_user(cls.salesman)
            .create(
                {
                    "partner_id": cls.debtor.id,
                    "payment_term_id": cls.env.ref("account.account_payment_term_30days").id,
                    "order_line": [
                        (
                            0,
                            0,
                            {
                                "product_id": product.id,
                                "price_unit": 1000,
                                "tax_ids": [],
                            },
                        )
                    ],
                }
            )
        )

    def test_the_salesperson_sees_why_the_confirmation_is_refused(self):
        self.start_tour(
            f"/odoo/action-sale.action_quotations_with_onboarding/{self.order.id}",
            "crm_credit_blocked_tour",
            login=self.salesman.login,
        )
        self.assertEqual(self.order.state, "draft")

    def _csrf(self, path):
        page = self.url_open(path)
        self.assertEqual(page.status_code, 200)
        return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)

    def test_a_portal_customer_requests_more_credit_for_themselves_only(self):
        self.authenticate(self.portal_user.login, self.portal_user.login)
        token = self._csrf("/my/credit")
        Request = self.env["crm.credit.request"].sudo()
        # a forged partner_id is ignored: the request is for the session's customer
        response = self.url_open(
            "/my/credit/request",
            data={
                "amount": "250000",
                "reason": "Compras de fin de año",
                "partner_id": self.debtor.id,
                "csrf_token": token,
            },
        )
        self.assertEqual(response.status_code, 200)
        request = Request.search([("channel", "=", "portal")])
        self.assertEqual(request.partner_id, self.customer)
        self.assertEqual(request.company_id, self.company)
        self.assertEqual(request.requested_limit, 250000)
        # no payment history: left for a credit manager
        self.assertEqual(request.state, "review")
        self.assertIn("250,000", self.url_open("/my/credit").text)
        # nonsense amounts: a message, nothing saved
        for amount in ("mucho", "-5", "nan", "inf", "1e400", ""):
            with self.subTest(amount=amount):
                page = self.url_open(
                    "/my/credit/request", data={"amount": amount, "csrf_token": token}
                )
                self.assertIn("o_crm_credit_error", page.text)
        self.assertEqual(Request.search_count([("channel", "=", "portal")]), 1)

    def test_the_portal_home_leads_a_customer_without_requests_to_house_credit(self):
        self.assertFalse(
            self.env["crm.credit.request"].sudo().search([("partner_id", "=", self.customer.id)])
        )
        self.authenticate(self.portal_user.login, self.portal_user.login)
        page = self.url_open("/my")
        self.assertEqual(page.status_code, 200)
        tile = re.search(
            r'<div class="o_portal_index_card ([^"]*)">\s*<a href="/my/credit"', page.text
        )
        self.assertTrue(tile, "no House credit entry on the portal home")
        self.assertNotIn("d-none", tile.group(1))
        page = self.url_open("/my/credit")
        self.assertRegex(page.text, r'<li class="breadcrumb-item active">\s*House credit\s*</li>')
        # no limit of their own: not "$ 0", which read as no credit at all
        self.assertRegex(page.text, r'<strong class="o_crm_credit_limit">\s*none set\s*</strong>')

    def test_the_portal_shows_the_customers_own_credit_limit(self):
        self.customer.with_company(self.company).credit_limit = 250000
        self.authenticate(self.portal_user.login, self.portal_user.login)
        page = self.url_open("/my/credit")
        limit = re.search(
            r'<strong class="o_crm_credit_limit"[^>]*>(.*?)</strong>', page.text, re.S
        )
        self.assertTrue(limit)
        self.assertIn("250,000", limit.group(1))

    def test_portal_pages_are_in_the_customers_spanish(self):
        """A Spanish customer reads the portal home, the pages and their breadcrumbs in
        Spanish (the web shop's website offering Spanish)."""
        offer_spanish_on_the_portal(self.env, ["portal", "crm_relationship"])
        self.portal_user.lang = "es_CL"
        self.authenticate("credit_portal", "credit_portal")
        home = self.url_open("/my")
        self.assertEqual(home.status_code, 200)
        self.assertIn("Crédito de la casa", home.text)
        self.assertIn("Preferencias de contacto", home.text)
        credit = self.url_open("/my/credit")
        self.assertEqual(credit.status_code, 200)
        self.assertRegex(
            credit.text, r'<li class="breadcrumb-item active">\s*Crédito de la casa\s*</li>'
        )
        self.assertNotIn("House credit", credit.text)
        self.assertRegex(
            credit.text, r'<strong class="o_crm_credit_limit">\s*sin fijar\s*</strong>'
        )
        consent = self.url_open("/my/consent")
        self.assertEqual(consent.status_code, 200)
        self.assertRegex(
            consent.text, r'<li class="breadcrumb-item active">\s*Preferencias de contacto\s*</li>'
        )

    def test_another_customer_s_credit_is_not_shown_on_the_portal(self):
        self.env["crm.credit.request"]._submit(self.debtor, self.company, 1000, "", "backoffice")
        self.authenticate(self.portal_user.login, self.portal_user.login)
        self.assertNotIn("Deudor Tour", self.url_open("/my/credit").text)

    def _rpc(self, login, model, method, args):
        self.authenticate(login, login)
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": args, "kwargs": {"context": {}}},
        )

    def test_json_rpc_callers_cannot_decide_or_override(self):
        request = self.env["crm.credit.request"]._submit(
            self.customer, self.company, 99999999, "", "backoffice"
        )
        self.assertEqual(request.state, "review")
        with mute_logger("odoo.http"):
            # a salesperson approving a request, writing its state, overriding an order
            for method, args in (
                ("action_approve", [request.ids]),
                ("write", [request.ids, {"state": "approved", "granted_limit": 1}]),
            ):
                with self.subTest(method=method), self.assertRaises(JsonRpcException):
                    self._rpc(self.salesman.login, "crm.credit.request", method, args)
            with self.assertRaises(JsonRpcException):
                self._rpc(
                    self.salesman.login,
                    "sale.order",
                    "action_crm_override_credit",
                    [self.order.ids],
                )
            # a credit manager of the other company: neither the request nor the order
            with self.assertRaises(JsonRpcException):
                self._rpc(
                    self.south_manager.login, "crm.credit.request", "action_approve", [request.ids]
                )
            with self.assertRaises(JsonRpcException):
                self._rpc(
                    self.south_manager.login,
                    "crm.credit.override.wizard",
                    "create",
                    [{"order_id": self.order.id, "reason": "otra empresa"}],
                )
        request.invalidate_recordset()
        self.assertEqual(request.state, "review")
        self.assertFalse(self.customer.with_company(self.company).credit_limit)
        self.assertEqual(self.order.state, "draft")
        # the other company's manager reads none of this company's decisions
        Decision = (
            self.env["crm.credit.decision"]
            .with_user(self.south_manager)
            .with_context(allowed_company_ids=self.other_company.ids)
        )
        self.assertFalse(Decision.search([]))
