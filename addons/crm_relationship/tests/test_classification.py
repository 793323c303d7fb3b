from freezegun import freeze_time

from odoo.tests import tagged

from .common import CrmRelationshipCommon


@freeze_time("2026-06-30 12:00:00")
@tagged("post_install", "-at_install")
class TestClassification(CrmRelationshipCommon):
    """First-match classification by sequence, manual pins and the segment history."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with freeze_time("2026-06-30 12:00:00"):
            cls._invoice(cls.customer, 1_500_000, "2026-05-01", "2026-05-31")
            cls._invoice(cls.other_customer, 200_000, "2026-05-01", "2026-05-31")
        cls.big = cls.Segment.create(
            {
                "name": "Test Big Spender",
                "sequence": 10,
                "domain": "[('revenue_12m', '>', 1000000)]",
            }
        )
        cls.debtor = cls.Segment.create(
            {
                "name": "Test Debtor",
                "sequence": 20,
                "domain": "[('overdue_amount', '>', 0)]",
            }
        )
        cls.rest = cls.Segment.create({"name": "Test Everyone", "sequence": 99, "domain": "[]"})

    def test_customer_gets_the_first_matching_segment_by_sequence(self):
        metrics = self._refresh()
        by_partner = {m.partner_id: m.segment_id for m in metrics}
        # the big customer also matches "Debtor" (overdue), but "Big Spender" comes first
        self.assertEqual(by_partner[self.customer], self.big)
        self.assertEqual(by_partner[self.other_customer], self.debtor)

    def test_sequence_change_changes_the_winning_segment(self):
        self._refresh()
        self.debtor.sequence = 5
        metrics = self._refresh()
        self.assertEqual(set(metrics.segment_id), {self.debtor})

    def test_catch_all_segment_takes_the_customers_no_rule_matches(self):
        customer = self.env["res.partner"].create({"name": "Tienda Sin Compras Test"})
        metric = self._refresh(customer)
        self.assertEqual(metric.segment_id, self.rest)

    def test_partner_segment_is_mirrored_and_searchable(self):
        self._refresh()
        self.assertEqual(self.customer.crm_segment_id, self.big)
        found = self.env["res.partner"].search([("crm_segment_id", "=", self.big.id)])
        self.assertIn(self.customer, found)
        self.assertNotIn(self.other_customer, found)

    def test_partner_segment_is_groupable(self):
        self._refresh()
        groups = self.env["res.partner"]._read_group(
            [("id", "in", (self.customer | self.other_customer).ids)],
            ["crm_segment_id"],
            ["__count"],
        )
        self.assertEqual(dict(groups), {self.big: 1, self.debtor: 1})

    def test_every_segment_change_writes_one_rule_history_row(self):
        self._refresh()
        self._refresh()  # nothing changed: no new row
        rows = self.History.search([("partner_id", "=", self.customer.id)])
        self.assertEqual(len(rows), 1)
        self.assertFalse(rows.old_segment_id)
        self.assertEqual(rows.new_segment_id, self.big)
        self.assertEqual(rows.reason, "rule")
        self.big.domain = "[('revenue_12m', '>', 2000000)]"
        self._refresh()
        last = self.History.search([("partner_id", "=", self.customer.id)], limit=1)
        self.assertEqual((last.old_segment_id, last.new_segment_id), (self.big, self.debtor))

    def test_manual_pin_wins_over_the_rules_and_is_logged(self):
        self._refresh()
        wizard = self.env["crm.segment.pin.wizard"].create(
            {
                "partner_id": self.contact.id,
                "segment_id": self.rest.id,
                "reason": "Cuenta estratégica",
            }
        )
        wizard.action_apply()
        metric = self.customer.crm_metric_id
        self.assertEqual(metric.segment_id, self.rest)
        self.assertEqual(metric.pinned_by_id, self.env.user)
        self.assertEqual(metric.pin_reason, "Cuenta estratégica")
        last = self.History.search([("partner_id", "=", self.customer.id)], limit=1)
        self.assertEqual(
            (last.old_segment_id, last.new_segment_id, last.reason, last.note),
            (self.big, self.rest, "manual", "Cuenta estratégica"),
        )
        self._refresh()  # the rules run again: the pin still wins
        self.assertEqual(metric.segment_id, self.rest)

    def test_releasing_the_pin_gives_the_customer_back_to_the_rules(self):
        self._refresh()
        Wizard = self.env["crm.segment.pin.wizard"]
        Wizard.create(
            {"partner_id": self.customer.id, "segment_id": self.rest.id, "reason": "x"}
        ).action_apply()
        Wizard.create({"partner_id": self.customer.id, "reason": "Fin del acuerdo"}).action_apply()
        metric = self.customer.crm_metric_id
        self.assertFalse(metric.pinned_segment_id)
        self.assertEqual(metric.segment_id, self.big)
        last = self.History.search([("partner_id", "=", self.customer.id)], limit=1)
        self.assertEqual((last.new_segment_id, last.reason), (self.big, "manual"))

    def test_segment_counts_members_matches_and_revenue(self):
        self._refresh()
        self.assertEqual(self.big.member_count, 1)
        self.assertAlmostEqual(self.big.member_revenue_12m, 1_500_000)
        # "Debtor" matches both customers even though only one is a member
        self.assertEqual(self.debtor.member_count, 1)
        self.assertGreaterEqual(self.debtor.matching_count, 2)

    def test_archived_segment_no_longer_classifies(self):
        self._refresh()
        self.big.action_archive()
        metric = self._refresh(self.customer)
        self.assertEqual(metric.segment_id, self.debtor)
