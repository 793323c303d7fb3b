"""Plain pytest tests (no database) of the vectorised affinity rules and next best offers:
every expected value counted by hand."""

import numpy as np
import pytest

from odoo.addons.crm_analytics.models.crm_affinity_mixin import association_rules
from odoo.addons.crm_analytics.models.crm_affinity_mixin import sorted_unique
from odoo.addons.crm_analytics.models.crm_product_affinity import rank_offers


def _baskets(baskets):
    """(orders, items) arrays of {order: [items]}."""
    pairs = [(order, item) for order, items in baskets.items() for item in items]
    return np.array([o for o, _i in pairs]), np.array([i for _o, i in pairs])


def _rules(rules):
    return {
        (x, y): (c, s, conf, lift)
        for x, y, c, s, conf, lift in zip(
            rules["x"].tolist(),
            rules["y"].tolist(),
            rules["count"].tolist(),
            rules["support"].tolist(),
            rules["confidence"].tolist(),
            rules["lift"].tolist(),
            strict=True,
        )
    }


def test_rules_count_each_order_once_and_drop_rare_pairs():
    # 4 orders: a in 3, b in 3, c in 2; a+b in orders 1 and 2, b+c in 2 and 4, a+c only in 2.
    # Order 1 has b twice (two lines): it counts once. Min support 0.5 -> 2 orders.
    orders, items = _baskets({1: [10, 20, 20], 2: [10, 20, 30], 3: [10], 4: [20, 30]})
    rules = _rules(association_rules(orders, items, 0.5))
    assert set(rules) == {(10, 20), (20, 10), (20, 30), (30, 20)}
    count, support, confidence, lift = rules[(10, 20)]
    assert (count, support) == (2, 0.5)
    assert confidence == pytest.approx(2 / 3)
    assert lift == pytest.approx(2 * 4 / (3 * 3))
    assert rules[(30, 20)][2:] == pytest.approx((1.0, 2 * 4 / (2 * 3)))


def test_min_count_is_exact_on_the_decimal_support():
    # 100 orders, 7 of them with both 1 and 2: 0.07 x 100 is 7 (in floats 7.000000000000001,
    # whose ceiling 8 would drop the pair).
    baskets = {order: [1, 2] if order < 7 else [3] for order in range(100)}
    rules = _rules(association_rules(*_baskets(baskets), 0.07))
    assert rules[(1, 2)][0] == 7
    assert rules[(1, 2)][1] == 0.07


def test_orders_with_more_than_fifty_frequent_items_do_not_count_for_pairs():
    # 4 orders, min support 0.01 -> 2 orders. Orders 1 and 2 hold items 1-50, order 3 items
    # 1-51, order 4 item 51 alone: every item is frequent (1-50 in 3 orders, 51 in 2). Order 3
    # has 51 of them: left out of the pairs (1 + 2 would count 3), not of the item counts.
    baskets = {1: list(range(1, 51)), 2: list(range(1, 51)), 3: list(range(1, 52)), 4: [51]}
    rules = _rules(association_rules(*_baskets(baskets), 0.01))
    count, support, confidence, lift = rules[(1, 2)]
    assert (count, support) == (2, 0.5)
    assert confidence == pytest.approx(2 / 3)
    assert lift == pytest.approx(2 * 4 / (3 * 3))
    assert not any(51 in pair for pair in rules)


def test_lines_without_item_are_left_out():
    # Item 0 is "none" (a product without category): its order does not count at all.
    orders, items = _baskets({1: [5, 6], 2: [5, 6], 3: [0, 0]})
    rules = _rules(association_rules(orders, items, 0.5))
    assert rules[(5, 6)][:2] == (2, 1.0)
    assert not _rules(association_rules(*_baskets({1: [0]}), 0.5))


def test_sorted_unique_drops_repeats_and_sorts():
    keys = np.array([5 << 32 | 3, 1 << 32 | 9, 5 << 32 | 3, 1 << 32 | 2], dtype=np.int64)
    assert sorted_unique(keys).tolist() == [1 << 32 | 2, 1 << 32 | 9, 5 << 32 | 3]
    assert sorted_unique(np.zeros(0, dtype=np.int64)).tolist() == []


def _offer_rules(rows):
    rows = sorted(rows)
    return {
        "product_id": np.array([r[0] for r in rows], dtype=np.int64),
        "related_product_id": np.array([r[1] for r in rows], dtype=np.int64),
        "lift": np.array([r[2] for r in rows], dtype=float),
        "confidence": np.array([r[3] for r in rows], dtype=float),
    }


def _bought(pairs):
    return sorted_unique(np.array([c << 32 | p for c, p in pairs], dtype=np.int64))


# Customer 7 bought 1 and 2. Candidate 3 gets the best lift of one rule (2.0, from 1) and the
# best confidence of another (0.9, from 2); 4 and 5 tie on (2.0, 0.85): the lower id first; 2
# is already bought. Customer 8 bought 1 to 5: every candidate, nothing to offer.
RULES = [
    (1, 3, 2.0, 0.5),
    (2, 3, 1.5, 0.9),
    (1, 4, 2.0, 0.85),
    (2, 5, 2.0, 0.85),
    (1, 2, 5.0, 0.99),
    (2, 1, 5.0, 0.99),
]


def test_offers_rank_by_best_lift_then_best_confidence_then_product_id():
    customer, product, rank = rank_offers(
        _bought([(7, 1), (7, 2), *((8, p) for p in range(1, 6))]), _offer_rules(RULES), limit=5
    )
    assert list(zip(customer.tolist(), product.tolist(), rank.tolist(), strict=True)) == [
        (7, 3, 1),
        (7, 4, 2),
        (7, 5, 3),
    ]


def test_best_offer_only_and_no_rules():
    bought = _bought([(7, 1), (7, 2), (9, 2)])
    customer, product, _rank = rank_offers(bought, _offer_rules(RULES), limit=1)
    # customer 9 bought 2 only: 1 (lift 5.0) comes before 5 (2.0) and 3 (1.5)
    assert dict(zip(customer.tolist(), product.tolist(), strict=True)) == {7: 3, 9: 1}
    customer, product, rank = rank_offers(bought, _offer_rules([]), limit=1)
    assert len(customer) == len(product) == len(rank) == 0
