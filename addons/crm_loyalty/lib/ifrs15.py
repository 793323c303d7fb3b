"""IFRS 15 rules for loyalty points (a material right, IFRS 15 B39-B43 and B46).

No Odoo import: the models feed these functions with amounts in the company currency and
points, and book what they return.

The points a sale earns are a separate performance obligation. The transaction price of the
sale is split between the goods and the points by relative stand-alone selling price
(``allocate``); the points' share is a contract liability. The liability is released to revenue
as points are redeemed, in proportion to the points redeemed over the points expected to be
redeemed, with a cumulative catch-up whenever the estimate changes (``cumulative_release``).
Points that will never be redeemed (breakage) are recognised in the same proportion, or at
expiry when the business has no reliable estimate.
"""

import math

ESTIMATE = "estimate"
AT_EXPIRY = "expiry"


class Ifrs15ValueError(ValueError):
    """An input the rules cannot account for; ``code`` says why (for a translated message)."""

    def __init__(self, code, value):
        super().__init__(f"{code}: {value!r}")
        self.code = code
        self.value = value


def check_rate(rate):
    """Return ``rate`` (a fraction of points expected to be redeemed) as a float in [0, 1].

    :raises Ifrs15ValueError: ``type`` for a non-number, ``rate`` outside 0-1 or not finite
    """
    if isinstance(rate, bool) or not isinstance(rate, (int, float)):
        raise Ifrs15ValueError("type", rate)
    if not math.isfinite(rate) or rate < 0 or rate > 1:
        raise Ifrs15ValueError("rate", rate)
    return float(rate)


def points_ssp(points, point_value, rate):
    """Stand-alone selling price of ``points``: their value times the likelihood of redemption
    (IFRS 15 B42), e.g. 10,000 points worth 1 with 97 % expected to be redeemed: 9,700."""
    return points * point_value * check_rate(rate)


def allocate(price, ssp_points, *, other_ssp=0.0, percent_digits=None):
    """Split ``price`` (the transaction price) between goods and points.

    The goods' stand-alone selling price is the price itself (a retailer's ordinary price);
    the points' share is ``price * ssp_points / (price + ssp_points + other_ssp)``, where
    ``other_ssp`` is the stand-alone selling price of the other material rights the same sale
    grants (points of another program), which take their own shares. The standard's own
    example (IE267-IE270) rounds that ratio to whole percents: ``percent_digits=0`` does the
    same, ``None`` keeps the exact ratio. A refund (negative price) gives a negative share.

    :returns: ``(goods and other rights, points)``, adding up to ``price``
    """
    if not price or ssp_points <= 0:
        return price, 0.0
    ratio = ssp_points / (abs(price) + ssp_points + max(other_ssp, 0.0))
    if percent_digits is not None:
        ratio = round(ratio * 100, percent_digits) / 100
    share = price * ratio
    return price - share, share


def cumulative_release(deferred, issued, rate, redeemed, expired, *, mode=ESTIMATE):
    """Revenue and breakage to have recognised so far out of ``deferred``.

    :param deferred: the liability allocated to the points so far (net of refunds)
    :param issued: the points that liability is for
    :param rate: fraction of issued points expected to be redeemed (the current estimate)
    :param redeemed: points redeemed so far (net of redemptions given back)
    :param expired: points expired so far
    :param mode: ``ESTIMATE`` recognises breakage in proportion to redemptions (B46);
        ``AT_EXPIRY`` releases a point's share when it is redeemed or when it expires
    :returns: ``(revenue, breakage)``, cumulative; the amount to book for a period is the
        difference with what was booked before (the cumulative catch-up)

    With the estimate, the expected redemptions are ``issued * rate``, but never fewer than the
    points already redeemed nor more than those redeemed plus those still outstanding: once
    every point is redeemed or expired, the whole liability is released, whatever the
    estimate said. The part released because points expired beyond the estimate is breakage.
    """
    if deferred == 0:
        return 0.0, 0.0
    if issued <= 0:
        # nothing left that the liability could be honoured with
        return 0.0, deferred
    redeemed = max(redeemed, 0.0)
    expired = max(expired, 0.0)
    outstanding = max(issued - redeemed - expired, 0.0)
    if mode == AT_EXPIRY:
        revenue = deferred * min(redeemed / issued, 1.0)
        used = min((redeemed + expired) / issued, 1.0)
        return revenue, deferred * used - revenue
    expected = max(issued * check_rate(rate), redeemed)
    revenue = deferred * redeemed / expected if expected else 0.0
    reachable = min(expected, redeemed + outstanding)
    total = deferred * redeemed / reachable if reachable else deferred
    return revenue, total - revenue


def observed_rate(redeemed, expired):
    """The redemption rate the closed points show: redeemed over redeemed plus expired, or
    ``None`` when no point was closed yet."""
    closed = redeemed + expired
    if closed <= 0:
        return None
    return redeemed / closed
