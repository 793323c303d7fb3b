from unittest.mock import patch

from odoo import SUPERUSER_ID
from odoo import Command
from odoo.exceptions import AccessError
from odoo.exceptions import ValidationError
from odoo.tests import Form
from odoo.tests import new_test_user
from odoo.tests import tagged
from odoo.tools import SQL

from .common import CrmRelationshipCommon

ORDERS_OVER_1000 = "[('partner_id.sale_order_ids.amount_untaxed', '>', 1000)]"


@tagged("post_install", "-at_install")
class TestSegmentRuleCompany(CrmRelationshipCommon):
    """A rule runs in its segment's company only: a customer shared by two companies is
    classified in each on that company's documents."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_other_company(name="Filial Sur Test")["company"]
        both = (cls.company | cls.company_b).ids
        # managers who may read orders (a rule on orders needs it), in both companies or in A
        groups = "crm_relationship.group_manager,sales_team.group_sale_salesman_all_leads"
        cls.manager_ab = new_test_user(
            cls.env,
            login="crm_rule_manager_ab",
            groups=groups,
            company_id=cls.company.id,
            company_ids=both,
        )
        cls.manager_a = new_test_user(
            cls.env,
            login="crm_rule_manager_a",
            groups=groups,
            company_id=cls.company.id,
            company_ids=cls.company.ids,
        )
        # the shared customer buys 100 in A and 5,000 in B
        cls._order(cls.customer, 100, "2026-05-01")
        order_b = (
            cls.env["sale.order"]
            .with_company(cls.company_b)
            .create(
                {
                    "partner_id": cls.customer.id,
                    "company_id": cls.company_b.id,
                    "order_line": [
                        Command.create(
                            {"product_id": cls.product_a.id, "price_unit": 5000, "tax_ids": []}
                        )
                    ],
                }
            )
        )
        order_b.action_confirm()
        # the other customer buys in B only
        cls.order_b_other = order_b.copy({"partner_id": cls.other_customer.id})
        cls.order_b_other.action_confirm()
        cls.Segment_ab = cls.Segment.with_user(cls.manager_ab)
        # the same rule in both companies, saved by a manager working in both
        cls.big_a = cls.Segment_ab.create(
            {"name": "Test Big Orders A", "sequence": 1, "domain": ORDERS_OVER_1000}
        )
        cls.rest_a = cls.Segment_ab.create({"name": "Test Rest A", "sequence": 99})
        Segment_b = cls.Segment_ab.with_company(cls.company_b)
        cls.big_b = Segment_b.create(
            {
                "name": "Test Big Orders B",
                "sequence": 1,
                "domain": ORDERS_OVER_1000,
                "company_id": cls.company_b.id,
            }
        )
        cls.rest_b = Segment_b.create(
            {"name": "Test Rest B", "sequence": 99, "company_id": cls.company_b.id}
        )

    def _classify_customer(self):
        self.Metric._refresh_metrics(self.customer.ids, (self.company | self.company_b).ids)
        metrics = self.Metric.sudo().search([("partner_id", "=", self.customer.id)])
        return {metric.company_id: metric.segment_id for metric in metrics}

    def test_rule_on_orders_reads_only_the_segments_company(self):
        self.assertEqual(self.big_a.rule_user_id, self.manager_ab)
        segments = self._classify_customer()
        # A's rule does not see the 5,000 order of B, though its author may read both
        self.assertEqual(segments, {self.company: self.rest_a, self.company_b: self.big_b})
        self.assertFalse(any((self.big_a | self.big_b).mapped("rule_error")))

    def test_rules_on_having_orders_see_only_the_segments_company(self):
        # Odoo reads "has orders" and "has order n" on the orders table as superuser: the rule
        # searches the orders with its rights instead
        has_that_order = self.Segment_ab.create(
            {
                "name": "Test That Order A",
                "sequence": 2,
                "domain": f"[('partner_id.sale_order_ids', 'in', [{self.order_b_other.id}])]",
            }
        )
        buyers = self.Segment_ab.create(
            {
                "name": "Test Buyers A",
                "sequence": 3,
                "domain": "[('partner_id.sale_order_ids', '!=', False)]",
            }
        )
        partners = self.customer | self.other_customer
        metrics = self.Metric._refresh_metrics(partners.ids, self.company.ids)
        self.assertEqual(
            {metric.partner_id: metric.segment_id for metric in metrics},
            {self.customer: buyers, self.other_customer: self.rest_a},
        )
        self.assertFalse(any((has_that_order | buyers).mapped("rule_error")))

    def test_rule_skipping_record_rules_is_refused(self):
        for domain in (
            "[('partner_id.sale_order_ids', 'any!', [('amount_untaxed', '>', 1000)])]",
            "[('partner_id', 'child_of', %d)]" % self.customer.id,
        ):
            with self.assertRaises(ValidationError):
                self.big_a.with_user(self.manager_ab).domain = domain

    def test_matching_count_reads_only_the_segments_company(self):
        self._classify_customer()
        big_a, big_b = (self.big_a | self.big_b).with_user(self.manager_ab)
        self.assertEqual((big_a.matching_count, big_b.matching_count), (0, 1))

    def test_forged_context_does_not_widen_a_rule(self):
        # the caller's companies (B first) and active_test do not reach the rule
        Metric = self.Metric.with_context(
            allowed_company_ids=[self.company_b.id, self.company.id], active_test=False
        )
        Metric._refresh_metrics(self.customer.ids, self.company.ids)
        self.assertEqual(self.customer.with_company(self.company).crm_segment_id, self.rest_a)

    def test_rule_on_orders_by_a_manager_who_cannot_read_orders_is_refused(self):
        # crm_manager has the CRM manager right but no Sales right
        with self.assertRaises(ValidationError) as caught:
            self.Segment.with_user(self.crm_manager).create(
                {"name": "Test No Orders Right", "domain": ORDERS_OVER_1000}
            )
        self.assertIn("cannot be run", str(caught.exception))
        self.assertFalse(self.Segment.search([("name", "=", "Test No Orders Right")]))

    def test_rule_on_orders_saved_as_superuser_is_skipped_and_marked(self):
        # server code (or a data file) saving a rule that reads orders: nobody's rights to run
        # it with, so the classification skips it rather than run it as superuser
        self.big_a.sudo().write({"domain": ORDERS_OVER_1000})
        self.assertFalse(self.big_a.rule_user_id)
        self.assertEqual(self._classify_customer()[self.company], self.rest_a)
        self.assertIn("must save them again", self.big_a.rule_error)

    def test_rule_of_an_author_who_left_the_company_is_skipped_and_marked(self):
        self.manager_ab.write(
            {"company_id": self.company_b.id, "company_ids": [Command.unlink(self.company.id)]}
        )
        self.assertEqual(self._classify_customer()[self.company], self.rest_a)
        self.assertIn("no longer works in", self.big_a.rule_error)
        # saved again by a manager of A: it runs with their rights, and the mark goes away
        self.big_a.with_user(self.manager_a).domain = ORDERS_OVER_1000
        self.assertEqual(self.big_a.rule_user_id, self.manager_a)
        self.assertFalse(self.big_a.rule_error)

    def test_rule_author_cannot_be_forged(self):
        with self.assertRaises(AccessError) as caught:
            self.rest_a.with_user(self.manager_a).write({"rule_user_id": self.manager_ab.id})
        self.assertIn("set by the system", str(caught.exception))
        self.assertEqual(self.rest_a.rule_user_id, self.manager_ab)


@tagged("post_install", "-at_install")
class TestBrokenSegmentRule(CrmRelationshipCommon):
    """A rule that fails is refused when saved; one that fails later is skipped and marked,
    and the classification of the other segments and companies goes on."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_other_company(name="Filial Norte Test")["company"]
        cls._invoice(cls.customer, 5000, "2026-05-01", "2026-05-31")
        cls._invoice(cls.other_customer, 500, "2026-05-01", "2026-05-31")
        cls.first = cls._segment_in(cls.company, "Test First", "[('revenue_12m', '>', 1000)]", 5)
        cls.middle = cls._segment_in(cls.company, "Test Middle", "[('revenue_12m', '>', 100)]", 10)
        cls.rest = cls._segment_in(cls.company, "Test Rest", "[]", 99)
        cls.first_b = cls._segment_in(
            cls.company_b, "Test First B", "[('order_count', '>=', 0)]", 5
        )
        cls.all_b = cls._segment_in(cls.company_b, "Test All B", "[]", 10)

    @classmethod
    def _segment_in(cls, company, name, domain, sequence):
        return cls.Segment.with_company(company).create(
            {"name": name, "domain": domain, "sequence": sequence, "company_id": company.id}
        )

    def _break(self, segment, domain):
        """Store `domain` as the rule without the check made on saving (as when a field it
        reads is later removed or changes type)."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL("UPDATE crm_customer_segment SET domain = %s WHERE id = %s", domain, segment.id)
        )
        segment.invalidate_recordset(["domain"])

    def _segments(self, company):
        metrics = self.Metric.sudo().search(
            [
                ("partner_id", "in", (self.customer | self.other_customer).ids),
                ("company_id", "=", company.id),
            ]
        )
        return {metric.partner_id: metric.segment_id for metric in metrics}

    def test_rule_failing_in_the_database_is_refused_on_save(self):
        with self.assertRaises(ValidationError) as caught:
            self._segment("Test Typo", "[('order_count', '=', 'abc')]")
        self.assertIn("Test Typo", str(caught.exception))
        self.assertFalse(self.Segment.search([("name", "=", "Test Typo")]))
        with self.assertRaises(ValidationError):
            self.middle.domain = "[('order_count', '=', 'abc')]"
        self.middle.invalidate_recordset()
        self.assertEqual(self.middle.domain, "[('revenue_12m', '>', 100)]")

    def test_broken_rule_is_skipped_and_the_others_classify(self):
        self._break(self.first, "[('order_count', '=', 'abc')]")
        self._break(self.first_b, "[('shoe_size', '>', 40)]")  # a field since removed
        partners = self.customer | self.other_customer
        self.Metric._refresh_metrics(partners.ids, (self.company | self.company_b).ids)
        # A: "First" is skipped, its customer goes on to "Middle"
        self.assertEqual(
            self._segments(self.company),
            {self.customer: self.middle, self.other_customer: self.middle},
        )
        # B: classified by its next segment
        self.assertEqual(
            self._segments(self.company_b),
            {self.customer: self.all_b, self.other_customer: self.all_b},
        )
        self.assertIn("cannot be run", self.first.rule_error)
        self.assertIn("not a valid rule", self.first_b.rule_error)
        self.assertFalse(any((self.middle | self.rest | self.all_b).mapped("rule_error")))

    def test_members_of_a_broken_segment_stay_in_it(self):
        self._refresh()
        self.assertEqual(self.customer.crm_segment_id, self.first)
        rows_before = self.History.search_count([("partner_id", "=", self.customer.id)])
        self._break(self.first, "[('order_count', '=', 'abc')]")
        self._refresh()
        self.assertEqual(
            self._segments(self.company),
            {self.customer: self.first, self.other_customer: self.middle},
        )
        self.assertEqual(
            self.History.search_count([("partner_id", "=", self.customer.id)]), rows_before
        )

    def test_fixing_the_rule_clears_the_mark_and_classifies_again(self):
        self._break(self.first, "[('order_count', '=', 'abc')]")
        self._refresh()
        self.assertTrue(self.first.rule_error)
        self.first.domain = "[('revenue_12m', '>', 4000)]"
        self.assertFalse(self.first.rule_error)
        self._refresh()
        self.assertEqual(self._segments(self.company)[self.customer], self.first)

    def test_hourly_cron_goes_on_past_a_broken_rule(self):
        self._break(self.first, "[('order_count', '=', 'abc')]")
        self._break(self.first_b, "[('shoe_size', '>', 40)]")
        # the customers have documents in A only: give them a row in B, refreshed two days
        # ago (the cron brings it forward to today, and classifies it)
        partners = self.customer | self.other_customer
        self.Metric._refresh_metrics(partners.ids, self.company_b.ids, classify=False)
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """UPDATE crm_customer_metric SET refreshed_at = refreshed_at - interval '2 days',
                          facts_date = facts_date - 2
                    WHERE company_id = %s""",
                self.company_b.id,
            )
        )
        Cron = type(self.env["ir.cron"])
        with patch.object(Cron, "_commit_progress", return_value=60.0):
            self.Metric._cron_refresh_metrics()
        self.assertEqual(
            self._segments(self.company),
            {self.customer: self.middle, self.other_customer: self.middle},
        )
        self.assertEqual(
            self._segments(self.company_b),
            {self.customer: self.all_b, self.other_customer: self.all_b},
        )
        self.assertTrue(self.first.rule_error)
        self.assertTrue(self.first_b.rule_error)


@tagged("post_install", "-at_install")
class TestSegmentRuleAuthorOnUpdate(CrmRelationshipCommon):
    """Segments saved before rules had an author keep classifying after the update: their
    author becomes the user who saved them last."""

    def test_the_last_writer_becomes_the_author_of_old_rules(self):
        manager = new_test_user(
            self.env,
            login="crm_rule_old_writer",
            groups="crm_relationship.group_manager,sales_team.group_sale_salesman_all_leads",
        )
        segment = self.Segment.with_user(manager).create(
            {"name": "Test Old Rule", "domain": ORDERS_OVER_1000}
        )
        # as a data file does: the superuser, in superuser mode
        by_data = (
            self.Segment.with_user(SUPERUSER_ID)
            .sudo()
            .create({"name": "Test Data Rule", "domain": "[]"})
        )
        # as a database updated from the version without authors
        self.env.execute_query(
            SQL(
                "UPDATE crm_customer_segment SET rule_user_id = NULL WHERE id IN %s",
                (segment | by_data)._ids,
            )
        )
        (segment | by_data).invalidate_recordset()
        (segment | by_data)._set_rule_author_from_last_writer()
        self.assertEqual(segment.rule_user_id, manager)
        self.assertFalse(by_data.rule_user_id, "the superuser is no author")


@tagged("post_install", "-at_install")
class TestSegmentRuleTypedInTheForm(CrmRelationshipCommon):
    def test_a_bad_rule_typed_in_the_form_is_refused_not_replaced(self):
        # the form's onchange runs the criteria (matching count): it must keep what was typed
        form = Form(self.Segment.with_user(self.crm_manager))
        form.name = "Test Regla Mala"
        form.domain = "[('order_count', '=', 'abc')]"
        self.assertEqual(form.domain, "[('order_count', '=', 'abc')]")
        with self.assertRaises(ValidationError):
            form.save()
        self.assertFalse(self.Segment.search([("name", "=", "Test Regla Mala")]))
