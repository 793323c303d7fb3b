import math
from unittest.mock import patch

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.exceptions import ValidationError
from odoo.tests import new_test_user
from odoo.tests import tagged
from odoo.tools.misc import formatLang

from .common import CrmRelationshipCommon


@freeze_time("2026-06-30 12:00:00")
@tagged("post_install", "-at_install")
class TestCredit(CrmRelationshipCommon):
    """House credit on hand-built payment histories (today 2026-06-30; default policy: grant
    from 70, review from 40, 60 days overdue at most, limit 2 months of purchases)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.account_use_credit_limit = True
        Partner = cls.env["res.partner"]
        cls.punctual = Partner.create({"name": "Puntual Test SpA", "is_company": True})
        cls.late = Partner.create({"name": "Atrasado Test SpA", "is_company": True})
        cls.overdue = Partner.create({"name": "Moroso Test SpA", "is_company": True})
        cls.newcomer = Partner.create({"name": "Nuevo Test SpA", "is_company": True})
        with freeze_time("2026-06-30 12:00:00"):
            # always on time: 3 invoices, paid on or before the due date
            for day, amount, due, paid in (
                ("2025-05-01", 100000, "2025-05-31", "2025-05-20"),
                ("2026-01-01", 300000, "2026-01-31", "2026-01-31"),
                ("2026-04-01", 200000, "2026-05-01", "2026-04-30"),
            ):
                cls._pay(cls._invoice(cls.punctual, amount, day, due), amount, paid)
            # always 40 days late
            for day, due, paid in (
                ("2025-08-01", "2025-08-31", "2025-10-10"),
                ("2026-02-01", "2026-03-03", "2026-04-12"),
            ):
                cls._pay(cls._invoice(cls.late, 100000, day, due), 100000, paid)
            # one on time, one large invoice unpaid 181 days after its due date
            cls._pay(
                cls._invoice(cls.overdue, 100000, "2025-11-01", "2025-12-01"), 100000, "2025-11-25"
            )
            cls.unpaid = cls._invoice(cls.overdue, 500000, "2025-12-01", "2025-12-31")
        cls.customers = cls.punctual | cls.late | cls.overdue | cls.newcomer
        cls.salesman = new_test_user(
            cls.env,
            login="credit_salesman",
            groups="sales_team.group_sale_salesman",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.credit_manager = new_test_user(
            cls.env,
            login="credit_manager",
            groups="sales_team.group_sale_salesman,crm_relationship.group_credit_manager",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.accountant = new_test_user(
            cls.env,
            login="credit_accountant",
            groups="account.group_account_readonly",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.immediate = cls.env.ref("account.account_payment_term_immediate")
        cls.thirty_days = cls.env.ref("account.account_payment_term_30days")

    def _metrics(self):
        metrics = self._refresh(self.customers)
        return {metric.partner_id: metric for metric in metrics}

    def _quotation(self, partner, price, term, user=None):
        env = self.env(user=user or self.salesman)
        return env["sale.order"].create(
            {
                "partner_id": partner.id,
                "payment_term_id": term.id,
                "order_line": [
                    (0, 0, {"product_id": self.product_a.id, "price_unit": price, "tax_ids": []})
                ],
            }
        )

    # ------------------------------------------------------------------ score and decision
    def test_score_decision_and_limit_of_each_history(self):
        m = self._metrics()
        punctual, late, overdue, new = (m[p] for p in self.customers)
        # On time, 13 months of history: no penalty. Invoiced in the last 12 months 500,000
        # (the May 2025 invoice is older): limit 2 x 500,000 / 12 x 100 %.
        self.assertEqual((punctual.credit_score, punctual.credit_decision), (100, "grant"))
        self.assertAlmostEqual(punctual.credit_limit_suggested, 83333.33, places=2)
        # 40 days late (penalty capped at 30), never on time (25), 10 months (10 x 2/12):
        # 100 - 30 - 25 - 1.67 = 43 -> review; limit 2 x 200,000 / 10 x 43 %.
        self.assertEqual((late.credit_score, late.credit_decision), (43, "review"))
        self.assertAlmostEqual(late.credit_limit_suggested, 17200.0, places=2)
        # Half the invoices on time (12.5), 181 days overdue (25), 500,000 overdue of 600,000
        # invoiced (8.33), 7 months (4.17): score 50, denied for the age of the debt anyway.
        self.assertEqual(overdue.oldest_overdue_days, 181)
        self.assertEqual((overdue.credit_score, overdue.credit_decision), (50, "deny"))
        self.assertEqual(overdue.credit_limit_suggested, 0)
        # No history: no score, a credit manager decides.
        self.assertFalse(new.credit_has_history)
        self.assertEqual((new.credit_decision, new.credit_limit_suggested), ("review", 0))

    def test_decision_and_limit_at_the_policy_thresholds(self):
        # A score equal to a threshold reaches it; overdue days equal to the maximum pass.
        self.company.write(
            {
                "crm_credit_review_score": 43,
                "crm_credit_grant_score": 100,
                "crm_credit_max_overdue_days": 181,
            }
        )
        m = self._metrics()
        self.assertEqual(m[self.punctual].credit_decision, "grant")
        self.assertEqual(m[self.late].credit_decision, "review")
        self.assertAlmostEqual(m[self.late].credit_limit_suggested, 17200.0, places=2)
        # score 50, 600,000 invoiced in the last 12 months, 7 months: 2 x 600,000 / 7 x 50 %
        self.assertEqual(m[self.overdue].credit_decision, "review")
        self.assertAlmostEqual(m[self.overdue].credit_limit_suggested, 85714.29, places=2)
        # one point or one day further: denied, no limit
        self.company.write({"crm_credit_review_score": 44, "crm_credit_max_overdue_days": 180})
        m = self._metrics()
        for partner in (self.late, self.overdue):
            self.assertEqual(
                (m[partner].credit_decision, m[partner].credit_limit_suggested), ("deny", 0)
            )

    def test_the_refresh_writes_each_column_by_name(self):
        # an extension may list its columns anywhere: the refresh matches them by name
        def credit(metrics):
            return {
                p: (m.revenue_12m, m.credit_score, m.credit_decision) for p, m in metrics.items()
            }

        expected = credit(self._metrics())
        Metric = self.env["crm.customer.metric"]
        columns = Metric._metric_columns()
        moved = [*columns[:2], "credit_score", *(c for c in columns[2:] if c != "credit_score")]
        with patch.object(type(Metric), "_metric_columns", lambda self: moved):
            self.assertEqual(credit(self._metrics()), expected)

    def test_reasons_in_plain_words(self):
        m = self._metrics()
        self.assertIn("Pays 40 days late on average.", m[self.late].credit_reasons)
        self.assertIn("0 % of the invoices paid on time.", m[self.late].credit_reasons)
        reasons = m[self.overdue].credit_reasons
        self.assertIn("1 overdue invoice(s) for $\xa0500,000.00, the oldest 181 days", reasons)
        self.assertIn("longer than the 60 days the policy allows", reasons)
        self.assertIn("No payment history yet", m[self.newcomer].credit_reasons)
        self.assertIn("Pays on time on average.", m[self.punctual].credit_reasons)
        # never paid anything, one invoice overdue: not "pays on time"
        debtor = self.env["res.partner"].create({"name": "Nunca Pagó Test", "is_company": True})
        self._invoice(debtor, 1000, "2026-04-01", "2026-05-01")
        never_paid = self._refresh(debtor).credit_reasons
        self.assertIn("No payment received yet.", never_paid)
        self.assertNotIn("on time on average", never_paid)
        # the 360° page shows them to a CRM user
        partner = self.overdue.with_user(self.crm_user)
        self.assertEqual(partner.crm_credit_decision, "deny")
        self.assertEqual(partner.crm_credit_reasons, reasons)

    def test_a_rejected_payment_lowers_the_score(self):
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": self.punctual.id,
                "amount": 50000,
                "date": "2026-06-01",
            }
        )
        payment.action_post()
        payment.action_reject()
        metric = self._metrics()[self.punctual]
        self.assertEqual(metric.rejected_payment_count, 1)
        self.assertEqual(metric.credit_score, 95)
        self.assertIn("1 rejected payment(s).", metric.credit_reasons)

    def test_decisions_are_recorded_once_and_again_when_they_change(self):
        Decision = self.env["crm.credit.decision"]
        self._metrics()
        self._metrics()
        history = Decision.search([("partner_id", "=", self.overdue.id)])
        self.assertEqual(history.mapped("decision"), ["deny"])
        self._pay(self.unpaid, 500000, "2026-06-30")
        metric = self._metrics()[self.overdue]
        self.assertEqual(metric.credit_decision, "review")
        latest = Decision.search([("partner_id", "=", self.overdue.id)], limit=1)
        self.assertEqual((latest.previous_decision, latest.decision), ("deny", "review"))
        self.assertEqual(metric.credit_decision_id, latest)
        # the accountant reads the history; a salesperson does not
        self.assertEqual(
            len(Decision.with_user(self.accountant).search([("partner_id", "=", self.overdue.id)])),
            2,
        )
        with self.assertRaises(AccessError):
            Decision.with_user(self.salesman).search([])

    def test_limits_are_written_on_the_customer_when_the_company_applies_them(self):
        self._metrics()
        self.assertEqual(self.punctual.with_company(self.company).credit_limit, 0)
        self.company.crm_credit_apply_limit = True
        self.company.crm_credit_limit_cap = 50000
        # a new decision is due only once the review period has passed
        with freeze_time("2026-08-15 12:00:00"):
            metric = self._metrics()[self.punctual]
        self.assertEqual(metric.credit_limit_suggested, 50000)
        self.punctual.invalidate_recordset(["credit_limit"])
        self.assertEqual(self.punctual.with_company(self.company).credit_limit, 50000)
        self.assertTrue(metric.credit_decision_id.limit_applied)

    def test_a_segment_rule_reads_the_credit_decision(self):
        segment = self._segment("Sin crédito", "[('credit_decision', '=', 'deny')]")
        m = self._metrics()
        self.assertEqual(m[self.overdue].segment_id, segment)
        self.assertFalse(m[self.punctual].segment_id == segment)

    def test_bad_policies_are_refused_and_nothing_is_saved(self):
        for values in (
            {"crm_credit_grant_score": 30, "crm_credit_review_score": 40},
            {"crm_credit_grant_score": 101},
            {"crm_credit_review_score": -1},
            {"crm_credit_limit_months": 0},
            {"crm_credit_limit_months": -2},
            {"crm_credit_limit_cap": -1},
            {"crm_credit_review_days": 0},
            {"crm_credit_max_overdue_days": -5},
        ):
            with self.subTest(values=values), self.assertRaises(ValidationError):
                with self.env.cr.savepoint():
                    self.company.write(values)
        self.company.invalidate_recordset()
        self.assertEqual(
            (self.company.crm_credit_grant_score, self.company.crm_credit_review_score),
            (70, 40),
        )

    # ------------------------------------------------------------------ at confirmation
    def test_a_denied_customer_cannot_buy_on_credit_but_can_pay_at_once(self):
        self._metrics()
        order = self._quotation(self.overdue, 1000, self.thirty_days)
        self.assertIn("House credit is denied", order.crm_credit_block)
        with self.assertRaisesRegex(UserError, "House credit is denied to Moroso Test SpA"):
            order.action_confirm()
        self.assertEqual(order.state, "draft")
        order.payment_term_id = self.immediate
        order.action_confirm()
        self.assertEqual(order.state, "sale")

    def test_a_customer_to_review_can_buy_on_credit_and_the_salesperson_is_told(self):
        self._metrics()
        order = self._quotation(self.late, 30000, self.thirty_days)
        self.assertFalse(order.crm_credit_block)
        exposure = formatLang(
            self.env, order._crm_credit_exposure()[0], currency_obj=self.company.currency_id
        )
        self.assertEqual(
            order.crm_credit_notice,
            "House credit of Atrasado Test SpA is to be reviewed by a credit manager (credit "
            "score 43): Pays 40 days late on average. 0 % of the invoices paid on time. "
            "Customer for 10 month(s) only. The policy suggests a limit of "
            f"$\N{NO-BREAK SPACE}17,200.00; with this order they would owe {exposure}.",
        )
        # a new customer: no history to quote
        new = self._quotation(self.newcomer, 1000, self.thirty_days)
        self.assertIn("No payment history yet", new.crm_credit_notice)
        # nothing to say when the order is paid at once, or the credit granted
        self.assertFalse(self._quotation(self.late, 1000, self.immediate).crm_credit_notice)
        self.assertFalse(self._quotation(self.punctual, 1000, self.thirty_days).crm_credit_notice)
        order.action_confirm()
        self.assertEqual(order.state, "sale")
        self.assertFalse(order.crm_credit_notice)

    def test_over_the_limit_the_error_names_the_amounts(self):
        self._metrics()
        self.punctual.with_company(self.company).credit_limit = 100000
        order = self._quotation(self.punctual, 150000, self.thirty_days)
        with self.assertRaises(UserError) as error:
            order.action_confirm()
        message = str(error.exception)
        self.assertIn("$\xa0150,000.00", message)
        self.assertIn("credit limit of $\xa0100,000.00 by $\xa050,000.00", message)
        # within the limit: confirmed
        small = self._quotation(self.punctual, 90000, self.thirty_days)
        small.action_confirm()
        self.assertEqual(small.state, "sale")
        # the confirmed 90,000 now counts: 90,000 + 20,000 > 100,000
        with self.assertRaises(UserError):
            self._quotation(self.punctual, 20000, self.thirty_days).action_confirm()

    def test_a_credit_manager_overrides_with_a_reason_the_accountant_reads_it(self):
        self._metrics()
        order = self._quotation(self.overdue, 1000, self.thirty_days)
        # the salesperson may not override, by the button or the wizard
        with self.assertRaises(AccessError):
            order.action_crm_override_credit()
        with self.assertRaises(AccessError):
            self.env["crm.credit.override.wizard"].with_user(self.salesman).create(
                {"order_id": order.id, "reason": "forged"}
            )
        action = order.with_user(self.credit_manager).action_crm_override_credit()
        wizard = (
            self.env[action["res_model"]]
            .with_user(self.credit_manager)
            .with_context(action["context"])
            .create({"reason": "Pagó la factura vencida en caja hoy"})
        )
        wizard.action_confirm_order()
        self.assertEqual(order.state, "sale")
        override = (
            self.env["crm.credit.override"]
            .with_user(self.accountant)
            .search([("order_id", "=", order.id)])
        )
        self.assertEqual(override.user_id, self.credit_manager)
        self.assertEqual(override.reason, "Pagó la factura vencida en caja hoy")
        self.assertIn("House credit is denied", override.block_reason)
        with self.assertRaises(AccessError):
            self.env["crm.credit.override"].with_user(self.salesman).search([])
        # nobody writes the log
        with self.assertRaises(AccessError):
            override.with_user(self.credit_manager).write({"reason": "changed"})

    def test_an_override_covers_the_amount_accepted_only(self):
        self._metrics()
        order = self._quotation(self.overdue, 1000, self.thirty_days)
        self.env["crm.credit.override"].sudo().create(
            {
                "order_id": order.id,
                "partner_id": self.overdue.id,
                "company_id": self.company.id,
                "currency_id": order.currency_id.id,
                "amount": 500,
                "user_id": self.credit_manager.id,
                "reason": "half",
            }
        )
        with self.assertRaises(UserError):
            order.action_confirm()

    # ------------------------------------------------------------------ credit requests
    def test_a_request_within_the_suggested_limit_is_approved_by_the_policy(self):
        self._metrics()
        wizard = (
            self.env["crm.credit.request.wizard"]
            .with_user(self.salesman)
            .create({"partner_id": self.punctual.id, "requested_limit": 80000, "reason": "Navidad"})
        )
        action = wizard.action_submit()
        request = self.env["crm.credit.request"].browse(action["res_id"])
        self.assertEqual((request.state, request.granted_limit), ("approved", 80000))
        self.assertEqual(self.punctual.with_company(self.company).credit_limit, 80000)
        self.assertEqual(request.decision_id.source, "request")
        # the customer is told by e-mail
        self.assertTrue(request.message_ids.filtered(lambda m: "80,000.00" in (m.body or "")))

    def test_a_request_is_for_the_user_s_company_whatever_the_wizard_says(self):
        self._metrics()
        other = self.env["res.company"].create({"name": "Otra Tienda Test"})
        wizard = (
            self.env["crm.credit.request.wizard"]
            .with_user(self.salesman)
            .create(
                {"partner_id": self.punctual.id, "requested_limit": 1000, "company_id": other.id}
            )
        )
        request = self.env["crm.credit.request"].browse(wizard.action_submit()["res_id"])
        self.assertEqual(request.company_id, self.company)
        self.assertFalse(self.punctual.with_company(other).credit_limit)

    def test_a_request_above_the_suggestion_waits_for_a_credit_manager(self):
        self._metrics()
        request = (
            self.env["crm.credit.request"]
            .with_user(self.salesman)
            ._submit(self.punctual, self.company, 500000, "", "backoffice")
        )
        self.assertEqual(request.state, "review")
        self.assertTrue(request.sudo().activity_ids)
        with self.assertRaises(AccessError):
            request.with_user(self.salesman).action_approve()
        as_manager = request.with_user(self.credit_manager)
        # only the granted limit and the note are editable
        with self.assertRaises(UserError):
            as_manager.write({"state": "approved"})
        as_manager.write({"granted_limit": 300000, "decision_note": "Hasta 300.000"})
        as_manager.action_approve()
        self.assertEqual((request.state, request.granted_limit), ("approved", 300000))
        self.assertEqual(request.decided_by_id, self.credit_manager)
        self.assertEqual(self.punctual.with_company(self.company).credit_limit, 300000)
        with self.assertRaises(UserError):
            as_manager.action_refuse()

    def test_a_denied_customer_s_request_is_refused(self):
        self._metrics()
        request = (
            self.env["crm.credit.request"]
            .with_user(self.salesman)
            ._submit(self.overdue, self.company, 10000, "", "backoffice")
        )
        self.assertEqual((request.state, request.granted_limit), ("refused", 0))
        self.assertEqual(self.overdue.with_company(self.company).credit_limit, 0)

    def test_bad_amounts_are_refused_and_nothing_is_saved(self):
        Request = self.env["crm.credit.request"].with_user(self.salesman)
        before = Request.sudo().search_count([])
        for amount in (math.nan, math.inf, -math.inf, -5, 0, 1e15, "mucho", None, "1e400"):
            with self.subTest(amount=amount), self.assertRaises(ValidationError):
                Request._submit(self.punctual, self.company, amount, "", "backoffice")
        self.assertEqual(Request.sudo().search_count([]), before)

    def test_a_refused_amount_is_written_as_the_user_reads_money(self):
        Request = self.env["crm.credit.request"].with_user(self.salesman)
        symbol = self.company.currency_id.symbol
        for amount, shown in ((0, "0.00"), (-5000, "-5,000.00"), (math.nan, "nan")):
            with self.subTest(amount=amount), self.assertRaises(ValidationError) as caught:
                Request._submit(self.punctual, self.company, amount, "", "backoffice")
            message = str(caught.exception)
            self.assertIn(shown, message)
            if amount == amount:  # a number: with the currency, never Python's "0.0"
                self.assertIn(symbol, message)
                self.assertNotIn(f"{float(amount)})", message)

    def test_the_request_wizard_starts_at_the_suggested_limit(self):
        metric = self._metrics()[self.punctual]
        self.assertGreater(metric.credit_limit_suggested, 0)
        wizard = (
            self.env["crm.credit.request.wizard"]
            .with_user(self.salesman)
            .create({"partner_id": self.punctual.id})
        )
        self.assertEqual(wizard.requested_limit, metric.credit_limit_suggested)
        # the salesperson may still ask for another amount
        wizard.requested_limit = 5000
        request = self.env["crm.credit.request"].browse(wizard.action_submit()["res_id"])
        self.assertEqual(request.requested_limit, 5000)

    def test_the_credit_manager_reads_the_request_s_activity_in_their_language(self):
        self.env["res.lang"]._activate_lang("es_CL")
        self.env.ref("base.module_crm_relationship")._update_translations(["es_CL"])
        self.env.ref("crm_relationship.group_credit_manager").user_ids.write({"lang": "es_CL"})
        self.assertEqual(self.salesman.lang, "en_US")
        self._metrics()
        request = (
            self.env["crm.credit.request"]
            .with_user(self.salesman)
            ._submit(self.punctual, self.company, 500000, "", "backoffice")
        )
        activity = request.sudo().activity_ids
        self.assertEqual(activity.user_id.lang, "es_CL")
        self.assertEqual(activity.summary, "Decidir una solicitud de línea de crédito")
