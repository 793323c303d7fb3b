"""Plain pytest tests of lib/propensity.py (no database): the candidates and their features
computed by hand, the related categories, the ranking, the logistic fit against a generic
optimiser and the AUC against a count of pairs. Runs inside the Odoo test run
(scripts/test.sh) and alone, without Odoo:
    .venv/bin/python addons/crm_analytics/tests/test_propensity_lib.py -q
"""

import importlib.util
import sys
from math import exp
from math import log
from pathlib import Path

import numpy as np
import pytest
from scipy import optimize

try:
    from odoo.addons.crm_analytics.lib import propensity
except ImportError:  # without Odoo: load lib/ as a package of its own (it imports no Odoo)
    _LIB = Path(__file__).resolve().parents[1] / "lib"
    _spec = importlib.util.spec_from_file_location(
        "crm_analytics_lib", _LIB / "__init__.py", submodule_search_locations=[str(_LIB)]
    )
    sys.modules["crm_analytics_lib"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["crm_analytics_lib"])
    from crm_analytics_lib import propensity

# (order, customer, day, category) rows; the cut-off is day 100, the window starts on day 0,
# the period is 30 days.
ROWS = [
    (1, 11, 10, 100),
    (1, 11, 10, 200),
    (2, 11, 60, 100),
    (2, 11, 60, 100),  # the same category twice in an order counts once
    (3, 12, 80, 200),
    (4, 13, 95, 300),
    (5, 11, 105, 200),  # after the cut-off: customer 11 buys category 200 in the period
    (6, 14, 110, 100),  # after the cut-off only: customer 14 is no candidate
    (7, 15, -5, 100),  # before the window: customer 15 is no candidate
    (8, 13, 140, 300),  # after the period: no label
]


def _history(rows=ROWS):
    return propensity.History.from_rows(*np.array(rows).T)


def test_candidates_and_features_match_a_count_by_hand():
    found = propensity.candidates(_history(), as_of=100, start=0, period=30)
    assert list(zip(found.partner.tolist(), found.categ.tolist(), strict=True)) == [
        (11, 100),
        (11, 200),
        (12, 200),
        (13, 300),
    ]
    # customer 11: orders 1 and 2, last on day 60; 100 in both, 200 in order 1 (day 10).
    # Base rate: of the 3 customers of the window, one bought 200 (day 80) and one 300
    # (day 95) in the last 30 days; nobody bought 100 since day 70.
    expected = [
        [log(3), 1, exp(-40 / 180), log(3), 40 / 365, 0, 0],
        [log(2), 1, exp(-90 / 180), log(3), 40 / 365, 0, 1 / 3],
        [log(2), 1, exp(-20 / 180), log(2), 20 / 365, 0, 1 / 3],
        [log(2), 1, exp(-5 / 180), log(2), 5 / 365, 0, 1 / 3],
    ]
    np.testing.assert_allclose(found.features, expected, rtol=1e-12)
    assert found.bought.tolist() == [False, True, False, False]


def test_candidates_read_ids_far_apart_the_same_way():
    # ids spread over a range much larger than the rows: the sorting branch of the indexing
    far = [(o * 10**9, p * 10**9, d, c * 10**9) for o, p, d, c in ROWS]
    near = propensity.candidates(_history(), 100, 0, 30)
    spread = propensity.candidates(_history(far), 100, 0, 30)
    np.testing.assert_array_equal(spread.partner, near.partner * 10**9)
    np.testing.assert_array_equal(spread.categ, near.categ * 10**9)
    np.testing.assert_array_equal(spread.features, near.features)
    np.testing.assert_array_equal(spread.bought, near.bought)


def test_the_window_start_leaves_older_customers_out():
    found = propensity.candidates(_history(), as_of=100, start=70, period=30)
    # only customers 12 (day 80) and 13 (day 95) bought in [70, 100)
    assert found.partner.tolist() == [12, 13]
    assert propensity.candidates(_history(), as_of=0, start=-3, period=30) is None


def test_training_and_scoring_cut_offs_share_one_history():
    history = _history()
    later = propensity.candidates(history, as_of=130, start=30, period=30)
    # window [30, 130): customer 11 (orders 2 and 5), 12, 13 and 14; order 1 is too old
    assert later.partner.tolist() == [11, 11, 12, 13, 14]
    assert later.categ.tolist() == [100, 200, 200, 300, 100]
    assert later.bought.tolist() == [False, False, False, True, False]
    np.testing.assert_allclose(later.features[:2, 0], [log(2), log(2)])


# baskets: {0, 1} x 3, {0, 2} x 4, {2}, {3} x 6: 14 orders; 0 is in 7, 1 in 3, 2 in 5.
BASKETS = [[0, 1]] * 3 + [[0, 2]] * 4 + [[2]] + [[3]] * 6


def _basket_rows():
    order = [i for i, basket in enumerate(BASKETS) for _categ in basket]
    categ = [c for basket in BASKETS for c in basket]
    return np.array(order), np.array(categ)


def test_related_categories_keep_the_best_lifts_above_one():
    order, categ = _basket_rows()
    # lift(0, 1) = 3 * 14 / (7 * 3) = 2; lift(0, 2) = 4 * 14 / (7 * 5) = 1.6
    x, y, lift = propensity.related_categories(order, categ, 4, related=5)
    assert x.tolist() == [0, 0, 1, 2] and y.tolist() == [1, 2, 0, 0]
    np.testing.assert_allclose(lift, [2, 1.6, 2, 1.6])
    x, y, lift = propensity.related_categories(order, categ, 4, related=1)
    assert x.tolist() == [0, 1, 2] and y.tolist() == [1, 0, 0]
    # pairs bought together in fewer orders than required are left out
    x, _y, _lift = propensity.related_categories(order, categ, 4, min_orders=4)
    assert x.tolist() == [0, 2]


def test_related_categories_below_lift_one_are_dropped():
    # {0, 1} once, {0} x 3, {1} x 3: lift(0, 1) = 1 * 7 / (4 * 4) < 1
    order = np.array([0, 0, 1, 2, 3, 4, 5, 6])
    categ = np.array([0, 1, 0, 0, 0, 1, 1, 1])
    x, _y, _lift = propensity.related_categories(order, categ, 2, min_orders=1)
    assert not len(x)


def test_a_related_category_becomes_a_candidate_with_its_lift():
    order, categ = _basket_rows()
    # customer 1 made every order, customer 2 one order of category 1 on day 50
    rows = [(o, 1, 10, c) for o, c in zip(order, categ, strict=True)] + [(99, 2, 50, 1)]
    found = propensity.candidates(_history(rows), as_of=100, start=0, period=30)
    keys = zip(found.partner.tolist(), found.categ.tolist(), strict=True)
    pairs = dict(zip(keys, found.features, strict=True))
    # 15 orders now: category 1 is in 4; lift(1, 0) = 3 * 15 / (7 * 4)
    assert set(pairs) == {(1, 0), (1, 1), (1, 2), (1, 3), (2, 0), (2, 1)}
    np.testing.assert_allclose(pairs[(2, 0)], [0, 0, 0, log(2), 50 / 365, log(45 / 28), 0])
    assert pairs[(2, 1)][1] == 1 and pairs[(2, 1)][5] == 0  # 1 is related to 0 only


def test_top_per_customer_ranks_by_probability_ties_first():
    partner = np.array([5, 5, 5, 5, 7, 7])
    probability = np.array([0.1, 0.4, 0.3, 0.4, 0.2, 0.9])
    index, rank = propensity.top_per_customer(partner, probability, 3)
    assert index.tolist() == [1, 3, 2, 5, 4]
    assert rank.tolist() == [1, 2, 3, 1, 2]


def test_newton_fit_reaches_the_optimum_of_the_penalised_log_loss():
    rng = np.random.default_rng(11)
    X = np.column_stack([rng.normal(size=3000), rng.exponential(size=3000), np.full(3000, 2.0)])
    y = rng.random(3000) < 1 / (1 + np.exp(-(-2 + X[:, 0] - 0.5 * X[:, 1])))
    fit = propensity.fit_logistic(X, y, l2=1e-3)
    # the same objective minimised by a generic optimiser (the constant column left out)
    Z = np.column_stack([np.ones(3000), (X[:, :2] - X[:, :2].mean(0)) / X[:, :2].std(0)])

    def objective(w):
        eta = Z @ w
        return np.mean(np.logaddexp(0, eta) - y * eta) + 1e-3 * (w[1:] @ w[1:])

    reference = optimize.minimize(objective, np.zeros(3), method="BFGS", options={"gtol": 1e-10})
    np.testing.assert_allclose(fit.weights[:3], reference.x, atol=1e-5)
    assert fit.weights[3] == 0.0  # a constant feature carries no weight
    assert fit.loglik == pytest.approx(-reference.fun * 3000, rel=1e-9)


def test_auc_counts_ties_as_half_a_pair():
    rng = np.random.default_rng(5)
    scores = rng.integers(0, 6, 400).astype(float)
    labels = rng.random(400) < 0.3
    pos, neg = scores[labels], scores[~labels]
    by_pairs = ((pos[:, None] > neg).sum() + 0.5 * (pos[:, None] == neg).sum()) / (
        len(pos) * len(neg)
    )
    assert propensity.auc(scores, labels) == pytest.approx(by_pairs, rel=1e-12)
    with pytest.raises(propensity.PropensityError, match="both buyers and non-buyers"):
        propensity.auc([0.1, 0.2], [True, True])


def test_history_refuses_columns_of_different_lengths():
    with pytest.raises(propensity.PropensityError, match="one order, customer, day, category"):
        propensity.History.from_rows([1, 2], [1], [1, 2], [1, 2])


if __name__ == "__main__":
    # pytest imports this file as crm_analytics.tests.test_propensity_lib, which would run the
    # addon's and the tests' __init__ (Odoo models): stand in empty packages for them.
    import types

    _TESTS = Path(__file__).resolve().parent
    for _name, _path in (("crm_analytics", _TESTS.parent), ("crm_analytics.tests", _TESTS)):
        sys.modules[_name] = types.ModuleType(_name)
        sys.modules[_name].__path__ = [str(_path)]
    sys.exit(pytest.main(["-p", "no:odoo", "-p", "no:cacheprovider", __file__, *sys.argv[1:]]))
