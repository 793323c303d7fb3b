"""Pure rules of the points ledger: FIFO allocation, lot expiry dates, tier choice.

No Odoo import: these functions are unit-tested alone and called by the models.
"""

import calendar
import datetime
import decimal
import itertools
import math

# Points beyond this are a typing or overflow mistake, not a balance (a million times the
# largest real balances; still exact to the cent in a float).
MAX_POINTS = 1e12


class PointsValueError(ValueError):
    """A points amount that cannot be stored; ``code`` says why (for a translated message)."""

    def __init__(self, code, value):
        super().__init__(f"{code}: {value!r}")
        self.code = code
        self.value = value


def clean_points(value, digits=2, allow_zero=False):
    """Return ``value`` as a finite float rounded to ``digits`` decimals.

    Accepts int, float and numeric strings; refuses booleans, None, other types, NaN,
    infinities, magnitudes above ``MAX_POINTS`` and non-zero values that round to zero.

    :raises PointsValueError: with ``code`` one of ``type``, ``not_finite``, ``too_large``,
        ``too_small``, ``zero``
    """
    if isinstance(value, bool) or value is None:
        raise PointsValueError("type", value)
    if isinstance(value, str):
        try:
            number = float(value.strip().replace(",", "."))
        except ValueError:
            raise PointsValueError("type", value) from None
    elif isinstance(value, (int, float)):
        number = float(value)
    else:
        raise PointsValueError("type", value)
    if not math.isfinite(number):
        raise PointsValueError("not_finite", value)
    if abs(number) > MAX_POINTS:
        raise PointsValueError("too_large", value)
    rounded = round_points(number, digits)
    if rounded == 0 and not allow_zero:
        raise PointsValueError("too_small" if number else "zero", value)
    return rounded


def round_points(value, digits=2):
    """``value`` rounded half away from zero to ``digits`` decimals, as written (0.005 and
    99.995 go up, like a person rounds them, whatever their binary approximation)."""
    quantum = decimal.Decimal(1).scaleb(-digits)
    rounded = decimal.Decimal(repr(float(value))).quantize(quantum, decimal.ROUND_HALF_UP)
    return float(rounded) + 0.0  # + 0.0 turns -0.0 into 0.0


def shown_decimals(value, digits=2):
    """Decimals needed to show ``value`` at ``digits`` precision without trailing zeros
    (``0`` for whole points), as the suite's points widget shows them."""
    value = round_points(value, digits)
    return next(d for d in range(digits + 1) if round_points(value, d) == value)


def allocate_fifo(amount, lots, digits=2):
    """Consume ``amount`` points from ``lots`` in the order given.

    Works in whole units of ``10 ** -digits`` so that takes, what is left of each lot and
    the uncovered part are exact at that precision and add up to ``amount``.

    :param amount: points to consume (>= 0)
    :param lots: iterable of ``(lot_key, remaining)`` already in consumption order
    :return: ``(takes, uncovered)``: ``takes`` is a list of ``(lot_key, points)``
        with points > 0; ``uncovered`` the part no lot could cover (>= 0)
    """
    if amount < 0:
        raise ValueError("amount must not be negative")
    factor = 10**digits
    left = round(amount * factor)
    takes = []
    for key, remaining in lots:
        if left <= 0:
            break
        units = round(remaining * factor)
        if units <= 0:
            continue
        take = min(left, units)
        takes.append((key, take / factor))
        left -= take
    return takes, max(left, 0) / factor


def add_months(day, months):
    """Return ``day`` plus ``months`` calendar months, clamped to the month's last day."""
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return datetime.date(year, month, min(day.day, last))


def lot_expiry_date(earned_on, mode, months):
    """Expiry date of a lot earned on ``earned_on``.

    :param mode: ``'none'`` (never), ``'months'`` (``months`` after earning) or
        ``'year_end'`` (31 December of the year it was earned)
    :return: a ``date`` or ``None`` when points never expire
    """
    if mode == "months":
        if months <= 0:
            raise ValueError("the validity must be at least one month")
        return add_months(earned_on, months)
    if mode == "year_end":
        return datetime.date(earned_on.year, 12, 31)
    return None


def check_tier_table(tiers):
    """Validate a tier table given as ``[(sequence, threshold, name)]``.

    Thresholds must strictly increase with the sequence (no overlap, no disorder).
    :return: ``None`` or the name of the first tier that breaks the order
    """
    ordered = sorted(tiers, key=lambda tier: (tier[0], tier[1]))
    for previous, current in itertools.pairwise(ordered):
        if current[1] <= previous[1]:
            return current[2]
    return None


def qualifying_tier(tiers, value):
    """Key of the highest tier whose threshold ``value`` reaches.

    :param tiers: ``[(key, threshold)]`` in any order
    :return: the key, or ``None`` when no threshold is reached
    """
    best = None
    best_threshold = None
    for key, threshold in tiers:
        if value >= threshold and (best_threshold is None or threshold > best_threshold):
            best, best_threshold = key, threshold
    return best
