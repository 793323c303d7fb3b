import math
import unittest

from odoo.addons.crm_loyalty.lib.ifrs15 import AT_EXPIRY
from odoo.addons.crm_loyalty.lib.ifrs15 import Ifrs15ValueError
from odoo.addons.crm_loyalty.lib.ifrs15 import allocate
from odoo.addons.crm_loyalty.lib.ifrs15 import cumulative_release
from odoo.addons.crm_loyalty.lib.ifrs15 import observed_rate
from odoo.addons.crm_loyalty.lib.ifrs15 import points_ssp


class TestIfrs15Lib(unittest.TestCase):
    """IFRS 15, illustrative example 52 (IE267-IE270), with the issue's figures: sales of
    100,000 earn 10,000 points worth 1 each, 97 % then 99 % expected to be redeemed."""

    def test_the_standard_rounds_the_ratio_to_whole_percents(self):
        ssp = points_ssp(10_000, 1.0, 0.97)
        self.assertAlmostEqual(ssp, 9_700)
        goods, points = allocate(100_000, ssp, percent_digits=0)
        # 9,700 / 109,700 = 8.84 %, rounded to 9 %
        self.assertAlmostEqual(points, 9_000)
        self.assertAlmostEqual(goods, 91_000)
        year2, _breakage = cumulative_release(points, 10_000, 0.97, 4_500, 0)
        self.assertEqual(round(year2), 4_175)
        year3, _breakage = cumulative_release(points, 10_000, 0.99, 8_500, 0)
        self.assertEqual(round(year3 - year2), 3_552)

    def test_the_exact_ratio(self):
        goods, points = allocate(100_000, points_ssp(10_000, 1.0, 0.97))
        self.assertEqual((round(goods), round(points)), (91_158, 8_842))
        self.assertAlmostEqual(goods + points, 100_000)
        year2, breakage2 = cumulative_release(points, 10_000, 0.97, 4_500, 0)
        self.assertEqual((round(year2), breakage2), (4_102, 0))
        year3, breakage3 = cumulative_release(points, 10_000, 0.99, 8_500, 0)
        self.assertEqual((round(year3 - year2), breakage3), (3_490, 0))

    def test_a_refund_takes_back_a_share_of_the_same_sign_rule(self):
        goods, points = allocate(-1_000, points_ssp(100, 1.0, 1.0))
        self.assertAlmostEqual(points, -1_000 * 100 / 1_100)
        self.assertAlmostEqual(goods + points, -1_000)

    def test_two_programs_on_one_sale_share_its_price(self):
        """100,000 of goods earning 10,000 points in each of two programs (each 9,700 of
        stand-alone selling price): each gets 100,000 x 9,700 / 119,400, not / 109,700."""
        _goods, first = allocate(100_000, 9_700, other_ssp=9_700)
        _goods, second = allocate(100_000, 9_700, other_ssp=9_700)
        self.assertAlmostEqual(first + second, 2 * 100_000 * 9_700 / 119_400)
        self.assertEqual(round(first + second, 2), 16_247.91)

    def test_no_points_or_no_price_defers_nothing(self):
        self.assertEqual(allocate(0, 50), (0, 0.0))
        self.assertEqual(allocate(500, 0), (500, 0.0))

    def test_every_point_closed_releases_the_whole_liability(self):
        # estimate 97 %, but only 60 % were redeemed and the rest expired: the unreachable
        # part of the estimate is breakage, and nothing is left in the liability
        revenue, breakage = cumulative_release(8_842, 10_000, 0.97, 6_000, 4_000)
        self.assertAlmostEqual(revenue + breakage, 8_842)
        self.assertAlmostEqual(revenue, 8_842 * 6_000 / 9_700)
        # every point expired
        self.assertEqual(cumulative_release(900, 1_000, 0.9, 0, 1_000), (0.0, 900))

    def test_expiry_beyond_the_estimate_releases_breakage_early(self):
        # 4,000 expired already: at most 6,000 can still be redeemed, fewer than 9,700
        revenue, breakage = cumulative_release(8_842, 10_000, 0.97, 3_000, 4_000)
        self.assertAlmostEqual(revenue, 8_842 * 3_000 / 9_700)
        self.assertAlmostEqual(revenue + breakage, 8_842 * 3_000 / 6_000)

    def test_at_expiry_mode_releases_each_point_when_it_closes(self):
        revenue, breakage = cumulative_release(1_000, 100, 0.5, 30, 20, mode=AT_EXPIRY)
        self.assertAlmostEqual(revenue, 300)
        self.assertAlmostEqual(breakage, 200)

    def test_never_more_than_the_liability(self):
        # more redeemed than issued (points earned before the accounting started)
        revenue, breakage = cumulative_release(1_000, 100, 0.9, 500, 0)
        self.assertAlmostEqual(revenue + breakage, 1_000)
        self.assertEqual(cumulative_release(1_000, 0, 0.9, 10, 0), (0.0, 1_000))

    def test_bad_rates_are_refused(self):
        for rate in (-0.1, 1.5, math.nan, math.inf, "0.9", None, True):
            with self.subTest(rate=rate), self.assertRaises(Ifrs15ValueError):
                points_ssp(10, 1, rate)

    def test_observed_rate(self):
        self.assertIsNone(observed_rate(0, 0))
        self.assertAlmostEqual(observed_rate(97, 3), 0.97)
