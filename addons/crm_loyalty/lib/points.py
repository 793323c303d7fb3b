"""Pure rules of the points ledger: FIFO allocation, lot expiry dates, tier choice.

No Odoo import: these functions are unit-tested alone and called by the models.
"""

import calendar
import datetime
import itertools


def allocate_fifo(amount, lots):
    """Consume ``amount`` points from ``lots`` in the order given.

    :param amount: points to consume (>= 0)
    :param lots: iterable of ``(lot_key, remaining)`` already in consumption order
    :return: ``(takes, uncovered)``: ``takes`` is a list of ``(lot_key, points)``
        with points > 0; ``uncovered`` the part no lot could cover (>= 0)
    """
    if amount < 0:
        raise ValueError("amount must not be negative")
    takes = []
    left = amount
    for key, remaining in lots:
        if left <= 0:
            break
        if remaining <= 0:
            continue
        take = min(left, remaining)
        takes.append((key, take))
        left -= take
    return takes, max(left, 0)


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
