import datetime
import unittest

from odoo.addons.crm_loyalty.lib.points import PointsValueError
from odoo.addons.crm_loyalty.lib.points import add_months
from odoo.addons.crm_loyalty.lib.points import allocate_fifo
from odoo.addons.crm_loyalty.lib.points import check_tier_table
from odoo.addons.crm_loyalty.lib.points import clean_points
from odoo.addons.crm_loyalty.lib.points import lot_expiry_date
from odoo.addons.crm_loyalty.lib.points import qualifying_tier
from odoo.addons.crm_loyalty.lib.points import round_points
from odoo.addons.crm_loyalty.lib.points import shown_decimals


class TestPointsLib(unittest.TestCase):
    def test_fifo_allocation_takes_lots_in_order_and_reports_the_uncovered_rest(self):
        self.assertEqual(
            allocate_fifo(120, [("a", 50), ("b", 0), ("c", 100)]), ([("a", 50), ("c", 70)], 0)
        )
        self.assertEqual(allocate_fifo(30, [("a", 10)]), ([("a", 10)], 20))

    def test_add_months_clamps_to_the_last_day_of_the_month(self):
        self.assertEqual(add_months(datetime.date(2026, 1, 31), 1), datetime.date(2026, 2, 28))
        self.assertEqual(add_months(datetime.date(2026, 11, 24), -3), datetime.date(2026, 8, 24))

    def test_lot_expiry_by_months_year_end_or_never(self):
        day = datetime.date(2026, 3, 15)
        self.assertEqual(lot_expiry_date(day, "months", 12), datetime.date(2027, 3, 15))
        self.assertEqual(lot_expiry_date(day, "year_end", 0), datetime.date(2026, 12, 31))
        self.assertIsNone(lot_expiry_date(day, "none", 0))
        with self.assertRaises(ValueError):
            lot_expiry_date(day, "months", 0)

    def test_tier_table_must_increase_with_the_sequence(self):
        self.assertIsNone(check_tier_table([(1, 0, "Classic"), (2, 100, "Silver")]))
        self.assertEqual(
            check_tier_table([(1, 0, "Classic"), (2, 500, "Gold"), (3, 100, "Silver")]), "Silver"
        )

    def test_qualifying_tier_is_the_highest_reached(self):
        tiers = [("classic", 0), ("gold", 500), ("silver", 100)]
        self.assertEqual(qualifying_tier(tiers, 250), "silver")
        self.assertEqual(qualifying_tier(tiers, 500), "gold")
        self.assertIsNone(qualifying_tier([("silver", 100)], 5))

    def test_fifo_allocation_is_exact_at_the_precision(self):
        takes, uncovered = allocate_fifo(0.3, [("a", 0.1), ("b", 0.1), ("c", 0.1)])
        self.assertEqual(takes, [("a", 0.1), ("b", 0.1), ("c", 0.1)])
        self.assertEqual(uncovered, 0)
        self.assertEqual(allocate_fifo(3, [("a", 2.4)], digits=0), ([("a", 2)], 1))

    def test_points_round_half_up_as_written(self):
        self.assertEqual(round_points(99.995), 100.0)
        self.assertEqual(round_points(0.005), 0.01)
        self.assertEqual(round_points(-0.005), -0.01)
        self.assertEqual(round_points(2.5, 0), 3.0)
        self.assertEqual(str(round_points(-0.004)), "0.0")

    def test_points_are_shown_without_trailing_zeros(self):
        self.assertEqual(shown_decimals(6930.0), 0)
        self.assertEqual(shown_decimals(12.5), 1)
        self.assertEqual(shown_decimals(12.345), 2)
        self.assertEqual(shown_decimals(12.5, 0), 0)

    def test_clean_points_accepts_numbers_and_numeric_text(self):
        self.assertEqual(clean_points(12), 12.0)
        self.assertEqual(clean_points("12,5"), 12.5)
        self.assertEqual(clean_points(" 7.25 "), 7.25)
        self.assertEqual(clean_points(0, allow_zero=True), 0.0)
        self.assertEqual(clean_points(1e12), 1e12)

    def test_clean_points_refuses_what_is_not_a_storable_amount(self):
        cases = [
            (float("nan"), "not_finite"),
            (float("inf"), "not_finite"),
            ("-inf", "not_finite"),
            (1e12 + 1, "too_large"),
            ("1e300", "too_large"),
            (0.004, "too_small"),
            (0, "zero"),
            ("abc", "type"),
            (None, "type"),
            (True, "type"),
            ([1], "type"),
        ]
        for value, code in cases:
            with self.subTest(value=value), self.assertRaises(PointsValueError) as caught:
                clean_points(value)
            self.assertEqual(caught.exception.code, code)
