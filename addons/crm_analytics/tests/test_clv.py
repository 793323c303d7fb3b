"""Plain pytest tests of lib/clv.py (no database): recovery, closed forms, degenerate data."""

import numpy as np
import pytest

from odoo.addons.crm_analytics.lib import clv

TRUE_BG = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
TRUE_GG = {"p": 6.0, "q": 4.0, "gamma": 15.0}


@pytest.fixture(scope="module")
def simulated():
    rng = np.random.default_rng(2026)
    T = rng.uniform(10, 104, 20_000)
    x, t_x, future, alive = clv.simulate_bgnbd(**TRUE_BG, T=T, rng=rng, horizon=26)
    spend = clv.simulate_gamma_gamma(**TRUE_GG, frequency=x, rng=rng)
    return {"x": x, "t_x": t_x, "T": T, "future": future, "alive": alive, "spend": spend}


@pytest.fixture(scope="module")
def bg_fit(simulated):
    return clv.fit_bgnbd(simulated["x"], simulated["t_x"], simulated["T"])


def test_bgnbd_recovers_the_simulated_parameters(bg_fit):
    # Sampling error on 20,000 customers: a few percent on r/alpha, more on the beta pair.
    assert bg_fit.r == pytest.approx(TRUE_BG["r"], rel=0.1)
    assert bg_fit.alpha == pytest.approx(TRUE_BG["alpha"], rel=0.15)
    assert bg_fit.a == pytest.approx(TRUE_BG["a"], rel=0.3)
    assert bg_fit.b == pytest.approx(TRUE_BG["b"], rel=0.3)


def test_bgnbd_maximum_beats_the_true_parameters(simulated, bg_fit):
    args = (simulated["x"], simulated["t_x"], simulated["T"])
    at_truth = clv.bgnbd_loglik(tuple(TRUE_BG.values()), *args).sum()
    assert bg_fit.loglik >= at_truth
    assert np.isfinite(bg_fit.loglik)


def test_gamma_gamma_recovers_the_simulated_parameters(simulated):
    fit = clv.fit_gamma_gamma(simulated["x"], simulated["spend"])
    assert fit.p == pytest.approx(TRUE_GG["p"], rel=0.2)
    assert fit.q == pytest.approx(TRUE_GG["q"], rel=0.2)
    assert fit.gamma == pytest.approx(TRUE_GG["gamma"], rel=0.3)


def test_gamma_gamma_is_invariant_to_the_currency_unit(simulated):
    small = clv.fit_gamma_gamma(simulated["x"], simulated["spend"])
    pesos = clv.fit_gamma_gamma(simulated["x"], simulated["spend"] * 1000)
    assert pesos.p == pytest.approx(small.p, rel=1e-3)
    assert pesos.gamma == pytest.approx(small.gamma * 1000, rel=1e-3)


def test_conditional_expected_purchases_match_simulated_future(simulated):
    model = clv.BetaGeoFit(**TRUE_BG, loglik=0.0, n_customers=0)
    predicted = clv.conditional_expected_purchases(
        model, 26, simulated["x"], simulated["t_x"], simulated["T"]
    )
    # Law of total expectation: the mean forecast equals the mean simulated future count.
    stderr = simulated["future"].std() / np.sqrt(len(predicted))
    assert abs(predicted.mean() - simulated["future"].mean()) < 4 * stderr


def test_probability_alive_matches_simulated_share_of_active_customers(simulated):
    model = clv.BetaGeoFit(**TRUE_BG, loglik=0.0, n_customers=0)
    p_alive = clv.probability_alive(model, simulated["x"], simulated["t_x"], simulated["T"])
    assert abs(p_alive.mean() - simulated["alive"].mean()) < 0.01
    assert np.all((p_alive > 0) & (p_alive <= 1))


def test_expected_purchases_of_a_new_customer_match_simulation():
    rng = np.random.default_rng(7)
    T = np.full(50_000, 52.0)
    x, *_ = clv.simulate_bgnbd(**TRUE_BG, T=T, rng=rng)
    model = clv.BetaGeoFit(**TRUE_BG, loglik=0.0, n_customers=0)
    stderr = x.std() / np.sqrt(len(x))
    assert abs(float(clv.expected_purchases_new(model, 52.0)) - x.mean()) < 4 * stderr


def test_expected_spend_of_one_time_buyer_is_the_population_mean():
    model = clv.GammaGammaFit(**TRUE_GG, loglik=0.0, n_customers=0)
    spend = clv.expected_average_spend(model, [0], [0])
    assert spend[0] == pytest.approx(TRUE_GG["p"] * TRUE_GG["gamma"] / (TRUE_GG["q"] - 1))


def test_clv_grows_with_horizon_and_shrinks_with_discount(simulated, bg_fit):
    gg = clv.fit_gamma_gamma(simulated["x"], simulated["spend"])
    args = (bg_fit, gg, simulated["x"][:500], simulated["t_x"][:500], simulated["T"][:500])
    spend = simulated["spend"][:500]
    short = clv.discounted_clv(*args, spend, horizon_months=6, discount_rate=0.1)
    long = clv.discounted_clv(*args, spend, horizon_months=24, discount_rate=0.1)
    dear = clv.discounted_clv(*args, spend, horizon_months=24, discount_rate=0.5)
    assert np.all(long >= short) and long.sum() > short.sum()
    assert dear.sum() < long.sum()
    assert np.all(np.isfinite(long))


def test_one_time_buyers_only_are_refused_with_a_message():
    with pytest.raises(clv.CLVFitError, match="bought more than once"):
        clv.fit_bgnbd(np.zeros(50), np.zeros(50), np.full(50, 30.0))


def test_a_single_customer_is_refused_with_a_message():
    with pytest.raises(clv.CLVFitError, match="At least 10 customers"):
        clv.fit_bgnbd([3], [10], [20])
    with pytest.raises(clv.CLVFitError, match="repeat buyers"):
        clv.fit_gamma_gamma([3], [1000])


def test_all_zeros_are_refused_with_a_message():
    with pytest.raises(clv.CLVFitError):
        clv.fit_bgnbd(np.zeros(20), np.zeros(20), np.zeros(20))
    with pytest.raises(clv.CLVFitError, match="repeat buyers"):
        clv.fit_gamma_gamma(np.zeros(20), np.zeros(20))


def test_identical_spends_are_refused_with_a_message():
    with pytest.raises(clv.CLVFitError, match="exactly the same"):
        clv.fit_gamma_gamma(np.full(20, 2.0), np.full(20, 5000.0))


def test_inconsistent_histories_are_refused():
    with pytest.raises(clv.CLVDataError, match="recency cannot be greater"):
        clv.fit_bgnbd([1] * 20, [40] * 20, [30] * 20)
    with pytest.raises(clv.CLVDataError, match="missing or infinite"):
        clv.fit_bgnbd([np.nan] * 20, [1] * 20, [30] * 20)
    with pytest.raises(clv.CLVDataError, match="same length"):
        clv.fit_bgnbd([1, 2], [1], [3])


@pytest.mark.parametrize(("horizon", "rate"), [(0, 0.1), (121, 0.1), (12, -0.1), (12, 1.0)])
def test_horizon_and_discount_rate_out_of_range_are_refused(bg_fit, horizon, rate):
    gg = clv.GammaGammaFit(**TRUE_GG, loglik=0.0, n_customers=0)
    with pytest.raises(clv.CLVDataError):
        clv.discounted_clv(bg_fit, gg, [1], [5], [10], [100], horizon, rate)


def test_logistic_fit_separates_buyers_and_auc_is_ranked():
    from odoo.addons.crm_analytics.lib import propensity

    rng = np.random.default_rng(3)
    X = rng.normal(size=(5000, 2))
    p = 1 / (1 + np.exp(-(-1 + 2 * X[:, 0])))
    y = rng.random(5000) < p
    fit = propensity.fit_logistic(X, y)
    assert fit.weights[1] > 0.5 and abs(fit.weights[2]) < 0.2
    assert propensity.auc(fit.predict(X), y) > 0.75
    assert propensity.auc([0.1, 0.2, 0.3, 0.4], [0, 0, 1, 1]) == 1.0
    assert propensity.auc([0.5, 0.5], [0, 1]) == 0.5


def test_logistic_fit_refuses_a_single_class():
    from odoo.addons.crm_analytics.lib import propensity

    with pytest.raises(propensity.PropensityError, match="only buyers or only non-buyers"):
        propensity.fit_logistic(np.ones((10, 2)), np.zeros(10))


def test_undiscounted_clv_is_expected_purchases_times_expected_spend(simulated, bg_fit):
    gg = clv.fit_gamma_gamma(simulated["x"], simulated["spend"])
    x, t_x, T, m = (simulated[k][:200] for k in ("x", "t_x", "T", "spend"))
    value = clv.discounted_clv(bg_fit, gg, x, t_x, T, m, horizon_months=12, discount_rate=0.0)
    weeks = 12 * clv.DAYS_PER_MONTH / 7
    expected = clv.conditional_expected_purchases(bg_fit, weeks, x, t_x, T)
    np.testing.assert_allclose(value, expected * clv.expected_average_spend(gg, x, m), rtol=1e-9)
