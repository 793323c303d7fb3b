from datetime import date

from freezegun import freeze_time

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import LoyaltyLedgerCase


@tagged("post_install", "-at_install")
class TestTiers(LoyaltyLedgerCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program.write({"crm_tier_window_months": 12, "crm_tier_retention_months": 6})
        Tier = cls.env["crm.loyalty.tier"]
        cls.classic = Tier.create({"name": "Classic", "sequence": 1, "program_id": cls.program.id})
        cls.silver = Tier.create(
            {
                "name": "Silver",
                "sequence": 2,
                "program_id": cls.program.id,
                "threshold": 300,
                "multiplier": 1.5,
            }
        )
        cls.gold = Tier.create(
            {
                "name": "Gold",
                "sequence": 3,
                "program_id": cls.program.id,
                "threshold": 1000,
                "multiplier": 2,
            }
        )

    def test_unordered_thresholds_are_refused(self):
        with self.assertRaises(ValidationError):
            self.env["crm.loyalty.tier"].create(
                {"name": "Premium", "sequence": 4, "program_id": self.program.id, "threshold": 500}
            )

    def test_overlapping_thresholds_are_refused(self):
        with self.assertRaises(ValidationError):
            self.env["crm.loyalty.tier"].create(
                {
                    "name": "Silver bis",
                    "sequence": 5,
                    "program_id": self.program.id,
                    "threshold": 300,
                }
            )

    def test_upgrade_happens_at_once_when_the_threshold_is_crossed(self):
        self._confirmed_order(qty=2)
        self.assertEqual(self.card.crm_tier_id, self.classic)
        self._confirmed_order(qty=1)
        self.assertEqual(self.card.crm_tier_id, self.silver)
        change = self.card.crm_tier_history_ids[0]
        self.assertEqual(
            (change.old_tier_id, change.new_tier_id, change.reason),
            (self.classic, self.silver, "upgrade"),
        )

    def test_tier_multiplier_applies_to_every_accrual(self):
        self._confirmed_order(qty=3)
        self.assertEqual(self.card.crm_tier_id, self.silver)
        self._confirmed_order(qty=2)
        self.assertEqual(self._entries(kind="earn")[-1].points, 300)
        self.assertLedgerInvariant()

    def test_downgrade_waits_for_the_end_of_the_retention_period(self):
        with freeze_time("2025-01-15"):
            self._confirmed_order(qty=3)
        self.assertEqual(self.card.crm_tier_review_date, date(2025, 7, 15))
        scheduler = self.env["crm.loyalty.scheduler"]
        with freeze_time("2026-03-01"):
            scheduler._review_tiers()
            self.assertEqual(self.card.crm_tier_id, self.classic)
        self.assertEqual(self.card.crm_tier_history_ids[0].reason, "downgrade")

    def test_no_downgrade_before_the_review_date(self):
        with freeze_time("2025-01-15"):
            self._confirmed_order(qty=3)
        with freeze_time("2025-06-01"):
            self.env["crm.loyalty.scheduler"]._review_tiers()
            self.card._crm_update_tiers()
        self.assertEqual(self.card.crm_tier_id, self.silver)

    def test_review_as_of_a_past_day_counts_that_day_s_window(self):
        """The review of a given day (a missed month-end, the demo's history) counts the 12
        months up to that day and dates its change on it, whatever today is."""
        with freeze_time("2025-01-15"):
            self._confirmed_order(qty=3)
        scheduler = self.env["crm.loyalty.scheduler"]
        with freeze_time("2026-03-01"):
            # As of 2025-08-01 the retention has ended but the purchase is in the window: kept,
            # reviewed again six months after that day.
            scheduler._review_tiers(date(2025, 8, 1))
            self.assertEqual(self.card.crm_tier_id, self.silver)
            self.assertEqual(self.card.crm_tier_review_date, date(2026, 2, 1))
            self.assertNotIn("downgrade", self.card.crm_tier_history_ids.mapped("reason"))
            # As of 2026-02-01 the purchase has left the window: down, dated that day.
            scheduler._review_tiers(date(2026, 2, 1))
        self.assertEqual(self.card.crm_tier_id, self.classic)
        change = self.card.crm_tier_history_ids.filtered(lambda h: h.reason == "downgrade")
        self.assertEqual((change.date, change.qualifying_value), (date(2026, 2, 1), 0.0))

    def test_review_as_of_a_day_ignores_later_purchases(self):
        with freeze_time("2025-01-15"):
            self._confirmed_order(qty=2)
        with freeze_time("2025-09-01"):
            self._confirmed_order(qty=2)
        self.assertEqual(self.card.crm_tier_id, self.silver)
        self.assertEqual(self.card._crm_qualifying_values(date(2025, 8, 31)), {self.card.id: 200})
        self.assertEqual(self.card._crm_qualifying_values(date(2025, 9, 1)), {self.card.id: 400})

    def test_tier_rewards_are_claimable_only_from_that_tier(self):
        extra = self.env["loyalty.reward"].create(
            {
                "program_id": self.program.id,
                "reward_type": "discount",
                "discount": 5,
                "discount_mode": "per_order",
                "required_points": 10,
            }
        )
        self.gold.reward_ids = extra
        self._earn(self.card, 50)
        order = self._order(qty=1)
        self.assertNotIn(extra, order._get_claimable_rewards().get(self.card, extra.browse()))
        self.card.crm_tier_id = self.gold
        self.assertIn(extra, order._get_claimable_rewards()[self.card])
