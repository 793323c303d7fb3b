from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.tests import HttpCase
from odoo.tests import new_test_user
from odoo.tests import tagged
from odoo.tests.common import JsonRpcException

from .common import CrmRelationshipCommon


class CrmRolesCommon(CrmRelationshipCommon):
    """Two companies, a customer shared by both, and one user per role: salesperson (Sales /
    User only), CRM user, CRM manager of A only (crm_manager), CRM manager of both, portal."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_other_company(name="Filial Roles Test")["company"]
        both = (cls.company | cls.company_b).ids
        cls.salesperson = new_test_user(
            cls.env,
            login="crm_role_salesperson",
            groups="sales_team.group_sale_salesman",
            company_id=cls.company.id,
            company_ids=cls.company.ids,
        )
        cls.manager_ab = new_test_user(
            cls.env,
            login="crm_role_manager_ab",
            groups="base.group_user,crm_relationship.group_manager",
            company_id=cls.company.id,
            company_ids=both,
        )
        cls.portal = new_test_user(
            cls.env, login="crm_role_portal", groups="base.group_portal", company_id=cls.company.id
        )
        cls.partner_b = cls.env["res.partner"].create(
            {"name": "Cliente Solo Filial Test", "company_id": cls.company_b.id}
        )
        cls._invoice(cls.customer, 700, "2026-05-01", "2026-05-31")
        cls.segment = cls.Segment.create({"name": "Test Roles A", "sequence": 10})
        cls.segment_b = cls.Segment.with_company(cls.company_b).create(
            {"name": "Test Roles B", "company_id": cls.company_b.id}
        )

    def _metric_count(self, partner=None, company=None):
        domain = [("partner_id", "=", (partner or self.customer).id)]
        if company:
            domain.append(("company_id", "=", company.id))
        return self.Metric.sudo().search_count(domain)

    def _state(self):
        """What a refused call must leave as it was."""
        self.env.invalidate_all()
        metrics = self.Metric.sudo().search([])
        return (
            len(metrics),
            sorted(metrics.mapped(lambda m: (m.id, m.segment_id.id, m.pinned_segment_id.id))),
            self.History.sudo().search_count([]),
        )


@tagged("post_install", "-at_install")
class TestRoleActions(CrmRolesCommon):
    # ------------------------------------------------------------ refresh metrics
    def test_crm_user_refreshes_a_customer(self):
        self.customer.with_user(self.crm_user).action_crm_refresh_metrics()
        metric = self.Metric.search(
            [("partner_id", "=", self.customer.id), ("company_id", "=", self.company.id)]
        )
        self.assertEqual(metric.revenue_total, 700)
        self.assertEqual(metric.segment_id, self.segment)

    def test_salesperson_cannot_refresh_metrics(self):
        with self.assertRaises(AccessError):
            self.customer.with_user(self.salesperson).action_crm_refresh_metrics()
        self.assertEqual(self._metric_count(), 0)

    def test_portal_user_cannot_refresh_own_metrics(self):
        partner = self.portal.partner_id
        with self.assertRaises(AccessError):
            partner.with_user(self.portal).action_crm_refresh_metrics()
        self.assertEqual(self._metric_count(partner), 0)

    def test_refresh_in_a_company_the_user_does_not_work_in_is_refused(self):
        customer = self.customer.with_user(self.crm_user).with_context(
            allowed_company_ids=self.company_b.ids
        )
        with self.assertRaises(AccessError):
            customer.action_crm_refresh_metrics()
        self.assertEqual(self._metric_count(company=self.company_b), 0)

    # ------------------------------------------------------------ reclassify
    def _moved_rule(self):
        """Customer in "Test Roles A"; then a first segment it matches (not applied yet)."""
        self._refresh(self.customer)
        return self.Segment.create(
            {"name": "Test Roles First", "sequence": 1, "domain": "[('revenue_total', '>', 500)]"}
        )

    def test_crm_user_cannot_reclassify(self):
        self._moved_rule()
        before = self._state()
        with self.assertRaises(AccessError):
            self.segment.with_user(self.crm_user).action_reclassify()
        self.assertEqual(self._state(), before)

    def test_crm_manager_reclassifies_their_company(self):
        first = self._moved_rule()
        self.segment.with_user(self.crm_manager).action_reclassify()
        self.assertEqual(self.customer.crm_metric_id.segment_id, first)

    def test_manager_of_one_company_cannot_reclassify_the_other(self):
        self.Metric._refresh_metrics(self.customer.ids, self.company_b.ids)
        before = self._state()
        with self.assertRaises(AccessError):
            self.segment_b.with_user(self.crm_manager).action_reclassify()
        # a manager of both, working in A only at the moment
        with self.assertRaises(AccessError):
            self.segment_b.with_user(self.manager_ab).with_context(
                allowed_company_ids=self.company.ids
            ).action_reclassify()
        self.assertEqual(self._state(), before)
        # and working in B
        self.segment_b.with_user(self.manager_ab).with_context(
            allowed_company_ids=self.company_b.ids
        ).action_reclassify()

    # ------------------------------------------------------------ pin wizard
    def _pin_wizard(self, user, company, partner=None):
        return (
            self.env["crm.segment.pin.wizard"]
            .with_user(user)
            .create(
                {
                    "partner_id": (partner or self.customer).id,
                    "company_id": company.id,
                    "reason": "Acuerdo Test",
                }
            )
        )

    def test_manager_of_one_company_cannot_pin_in_the_other(self):
        before = self._state()
        wizard = self._pin_wizard(self.crm_manager, self.company_b)
        with self.assertRaises(AccessError):
            wizard.action_apply()
        self.assertEqual(self._state(), before)
        self.assertEqual(self._metric_count(company=self.company_b), 0)

    def test_manager_working_in_one_company_cannot_pin_in_the_other(self):
        wizard = self._pin_wizard(self.manager_ab, self.company_b)
        with self.assertRaises(AccessError):
            wizard.with_context(allowed_company_ids=self.company.ids).action_apply()
        self.assertEqual(self._metric_count(company=self.company_b), 0)

    def test_manager_cannot_pin_a_customer_of_another_company(self):
        before = self._state()
        with self.assertRaises(UserError):
            self._pin_wizard(self.crm_manager, self.company, self.partner_b).action_apply()
        self.assertEqual(self._state(), before)

    def test_manager_pins_in_their_company(self):
        wizard = self._pin_wizard(self.crm_manager, self.company)
        wizard.segment_id = self.segment
        wizard.action_apply()
        metric = self.customer.crm_metric_id
        self.assertEqual(metric.pinned_segment_id, self.segment)
        self.assertEqual(metric.pinned_by_id, self.crm_manager)
        self.assertEqual(self._metric_count(company=self.company_b), 0)

    # ------------------------------------------------------------ other buttons
    def test_segment_lists_are_for_crm_users(self):
        for method in ("action_view_members", "action_view_matching"):
            with self.assertRaises(AccessError):
                getattr(self.segment.with_user(self.salesperson), method)()
            action = getattr(self.segment.with_user(self.crm_user), method)()
            self.assertEqual(action["res_model"], "crm.customer.metric")

    def test_pin_button_is_for_crm_managers(self):
        with self.assertRaises(AccessError):
            self.customer.with_user(self.crm_user).action_crm_pin_segment()
        action = self.customer.with_user(self.crm_manager).action_crm_pin_segment()
        self.assertEqual(action["res_model"], "crm.segment.pin.wizard")

    def test_payments_button_is_for_invoicing_users(self):
        with self.assertRaises(AccessError):
            self.customer.with_user(self.crm_user).action_crm_view_payments()
        billing = new_test_user(
            self.env,
            login="crm_role_billing",
            groups="account.group_account_invoice",
            company_id=self.company.id,
            company_ids=self.company.ids,
        )
        action = self.customer.with_user(billing).action_crm_view_payments()
        self.assertEqual(action["res_model"], "account.payment")


@tagged("post_install", "-at_install")
class TestRoleRefusalsOverRpc(CrmRolesCommon, HttpCase):
    """The refusals hold when the methods are called as the web client (or anyone) can: over
    JSON-RPC, with every context key crm_relationship reads set by the caller."""

    def _forged_context(self, companies):
        return {
            "allowed_company_ids": companies.ids,
            "active_test": False,
            "default_company_id": self.company_b.id,
            "default_partner_id": self.partner_b.id,
            "default_segment_id": self.segment_b.id,
            "tz": "Pacific/Kiritimati",
        }

    def _call(self, login, model, method, args, companies=None):
        self.authenticate(login, login)
        context = self._forged_context(companies or self.company)
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": args, "kwargs": {"context": context}},
        )

    def assertRefused(self, login, model, method, args, companies=None):
        before = self._state()
        with self.assertRaises(JsonRpcException) as caught:
            self._call(login, model, method, args, companies)
        self.assertIn(
            str(caught.exception), ("odoo.exceptions.AccessError", "odoo.exceptions.UserError")
        )
        self.assertEqual(self._state(), before)

    def test_salesperson_and_portal_are_refused_over_rpc(self):
        self._refresh(self.customer)
        login = self.salesperson.login
        self.assertRefused(login, "res.partner", "action_crm_refresh_metrics", [self.customer.ids])
        self.assertRefused(login, "crm.customer.segment", "action_reclassify", [self.segment.ids])
        self.assertRefused(
            login, "crm.customer.segment", "action_view_matching", [self.segment.ids]
        )
        self.assertRefused(login, "res.partner", "action_crm_pin_segment", [self.customer.ids])
        portal_partner = self.portal.partner_id
        self.assertRefused(
            self.portal.login, "res.partner", "action_crm_refresh_metrics", [portal_partner.ids]
        )
        self.assertEqual(self._metric_count(portal_partner), 0)

    def test_crm_user_cannot_reclassify_over_rpc(self):
        self._refresh(self.customer)
        self.assertRefused(
            self.crm_user.login, "crm.customer.segment", "action_reclassify", [self.segment.ids]
        )

    def test_manager_of_one_company_cannot_pin_in_the_other_over_rpc(self):
        self._refresh(self.customer)
        login = self.crm_manager.login
        wizard_id = self._call(
            login,
            "crm.segment.pin.wizard",
            "create",
            [{"partner_id": self.customer.id, "company_id": self.company_b.id, "reason": "x"}],
        )
        self.assertRefused(login, "crm.segment.pin.wizard", "action_apply", [[wizard_id]])
        # claiming company B in the context does not make it one of the manager's companies
        self.assertRefused(
            login,
            "crm.segment.pin.wizard",
            "action_apply",
            [[wizard_id]],
            companies=self.company | self.company_b,
        )
        self.assertEqual(self._metric_count(company=self.company_b), 0)

    def test_crm_manager_cannot_forge_the_rule_author_over_rpc(self):
        self.assertRefused(
            self.crm_manager.login,
            "crm.customer.segment",
            "write",
            [self.segment.ids, {"rule_user_id": self.manager_ab.id}],
        )
        self.env.invalidate_all()
        self.assertEqual(self.segment.rule_user_id, self.env.user)

    def test_crm_user_refreshes_over_rpc(self):
        self._call(
            self.crm_user.login, "res.partner", "action_crm_refresh_metrics", [self.customer.ids]
        )
        self.assertEqual(self._metric_count(company=self.company), 1)
        self.assertEqual(self._metric_count(company=self.company_b), 0)
