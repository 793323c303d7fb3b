"""Plain pytest tests of lib/clv.py and lib/validation.py (no database).

Recovery from simulated data, closed forms against brute force, the published CDNOW estimates,
analytic gradients against finite differences, MAP on small data, holdout validation and bad
input. Runs inside the Odoo test run (scripts/test.sh) and alone, without Odoo or a database
(see the end of the file):
    .venv/bin/python addons/crm_analytics/tests/test_clv.py -q
"""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

try:
    from odoo.addons.crm_analytics.lib import clv
    from odoo.addons.crm_analytics.lib import propensity
    from odoo.addons.crm_analytics.lib import validation
except ImportError:  # without Odoo: load lib/ as a package of its own (it imports no Odoo)
    _LIB = Path(__file__).resolve().parents[1] / "lib"
    _spec = importlib.util.spec_from_file_location(
        "crm_analytics_lib", _LIB / "__init__.py", submodule_search_locations=[str(_LIB)]
    )
    sys.modules["crm_analytics_lib"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["crm_analytics_lib"])
    from crm_analytics_lib import clv
    from crm_analytics_lib import propensity
    from crm_analytics_lib import validation

DATA = Path(__file__).resolve().parent / "data"
TRUE_BG = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
TRUE_GG = {"p": 6.0, "q": 4.0, "gamma": 15.0}
# MBG/NBD with real dropout after the first purchase (mean p = 1/3): BG/NBD cannot fit it.
TRUE_MBG = {"r": 1.0, "alpha": 8.0, "a": 2.0, "b": 4.0}
HOLDOUT = 26.0


def _cdnow():
    lines = [line for line in (DATA / "cdnow_summary.csv").open() if not line.startswith("#")]
    assert lines[0].strip() == "x,t_x,T,zbar"
    x, t_x, T, zbar = np.loadtxt(lines[1:], delimiter=",").T
    return x, t_x, T, zbar


@pytest.fixture(scope="module")
def cdnow():
    return _cdnow()


@pytest.fixture(scope="module")
def simulated():
    rng = np.random.default_rng(2026)
    T = rng.uniform(10, 104, 20_000)
    x, t_x, future, alive = clv.simulate_bgnbd(**TRUE_BG, T=T, rng=rng, horizon=26)
    spend = clv.simulate_gamma_gamma(**TRUE_GG, frequency=x, rng=rng)
    return {"x": x, "t_x": t_x, "T": T, "future": future, "alive": alive, "spend": spend}


@pytest.fixture(scope="module")
def simulated_mbg():
    rng = np.random.default_rng(11)
    T = rng.uniform(10, 104, 20_000)
    x, t_x, future, alive = clv.simulate_mbgnbd(**TRUE_MBG, T=T, rng=rng, horizon=HOLDOUT)
    return {"x": x, "t_x": t_x, "T": T, "future": future, "alive": alive}


@pytest.fixture(scope="module")
def bg_fit(simulated):
    return clv.fit_bgnbd(simulated["x"], simulated["t_x"], simulated["T"])


@pytest.fixture(scope="module")
def mbg_fit(simulated_mbg):
    return clv.fit_mbgnbd(simulated_mbg["x"], simulated_mbg["t_x"], simulated_mbg["T"])


def _rft(data):
    return data["x"], data["t_x"], data["T"]


# ---------------------------------------------------------------------------------------------
# BG/NBD and Gamma-Gamma on simulated data


def test_bgnbd_recovers_the_simulated_parameters(bg_fit):
    # Sampling error on 20,000 customers: a few percent on r/alpha, more on the beta pair.
    assert bg_fit.r == pytest.approx(TRUE_BG["r"], rel=0.1)
    assert bg_fit.alpha == pytest.approx(TRUE_BG["alpha"], rel=0.15)
    assert bg_fit.a == pytest.approx(TRUE_BG["a"], rel=0.3)
    assert bg_fit.b == pytest.approx(TRUE_BG["b"], rel=0.3)
    assert bg_fit.kind == "bgnbd" and bg_fit.method == "mle" and bg_fit.diagnostics == ()


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


def test_undiscounted_clv_is_expected_purchases_times_expected_spend(simulated, bg_fit):
    gg = clv.fit_gamma_gamma(simulated["x"], simulated["spend"])
    x, t_x, T, m = (simulated[k][:200] for k in ("x", "t_x", "T", "spend"))
    value = clv.discounted_clv(bg_fit, gg, x, t_x, T, m, horizon_months=12, discount_rate=0.0)
    weeks = 12 * clv.DAYS_PER_MONTH / 7
    expected = clv.conditional_expected_purchases(bg_fit, weeks, x, t_x, T)
    np.testing.assert_allclose(value, expected * clv.expected_average_spend(gg, x, m), rtol=1e-9)


# ---------------------------------------------------------------------------------------------
# the published CDNOW estimates (plain maximum likelihood)


def test_bgnbd_reproduces_the_published_cdnow_estimates(cdnow):
    x, t_x, T, _zbar = cdnow
    fit = clv.fit_bgnbd(x, t_x, T)
    # Fader, Hardie & Lee (2005), "Counting your customers the easy way", section 4.
    assert fit.n_customers == 2357
    assert fit.r == pytest.approx(0.243, rel=0.01)
    assert fit.alpha == pytest.approx(4.414, rel=0.01)
    assert fit.a == pytest.approx(0.793, rel=0.01)
    assert fit.b == pytest.approx(2.426, rel=0.01)
    assert fit.loglik == pytest.approx(-9582.4, abs=0.1)
    assert fit.diagnostics == ()


def test_gamma_gamma_reproduces_the_published_cdnow_estimates(cdnow):
    x, _t_x, _T, zbar = cdnow
    fit = clv.fit_gamma_gamma(x, zbar)
    # Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves", on the 946 repeaters.
    assert fit.n_customers == 946
    assert fit.p == pytest.approx(6.25, rel=0.01)
    assert fit.q == pytest.approx(3.74, rel=0.01)
    assert fit.gamma == pytest.approx(15.44, rel=0.01)
    assert fit.diagnostics == ()


def test_mbgnbd_on_cdnow_matches_lifetimes_modified_fitter(cdnow):
    x, t_x, T, _zbar = cdnow
    fit = clv.fit_mbgnbd(x, t_x, T)
    # lifetimes 0.11.3 ModifiedBetaGeoFitter on the same file: 0.524838, 6.182988, 0.891356,
    # 1.614000 (no published MBG/NBD estimate exists for CDNOW).
    assert fit.kind == "mbgnbd"
    np.testing.assert_allclose(fit.params, (0.524838, 6.182988, 0.891356, 1.614000), rtol=1e-4)
    assert fit.loglik == pytest.approx(clv.mbgnbd_loglik(fit.params, x, t_x, T).sum())


# ---------------------------------------------------------------------------------------------
# analytic gradients


@pytest.mark.parametrize("kind", ["bgnbd", "mbgnbd"])
@pytest.mark.parametrize(
    "params", [(0.243, 4.414, 0.793, 2.426), (2.0, 0.5, 5.0, 0.3), (0.05, 40.0, 0.2, 30.0)]
)
def test_purchase_gradient_matches_finite_differences(cdnow, kind, params):
    x, t_x, T, _zbar = cdnow
    reference = {"bgnbd": clv.bgnbd_loglik, "mbgnbd": clv.mbgnbd_loglik}[kind]

    def total(theta):
        return reference(np.exp(theta), x, t_x, T).sum()

    ll, grad = clv.purchase_loglik_grad(kind, params, x, t_x, T)
    theta, h = np.log(params), 1e-5
    numeric = [(total(theta + h * e) - total(theta - h * e)) / (2 * h) for e in np.eye(4)]
    assert ll == pytest.approx(total(theta), rel=1e-12)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-4)


@pytest.mark.parametrize("params", [(6.25, 3.74, 15.44), (0.5, 20.0, 300.0), (50.0, 1.2, 2.0)])
def test_gamma_gamma_gradient_matches_finite_differences(cdnow, params):
    x, _t_x, _T, zbar = cdnow
    repeat = x > 0

    def total(theta):
        return clv.gamma_gamma_loglik(np.exp(theta), x[repeat], zbar[repeat]).sum()

    ll, grad = clv.gamma_gamma_loglik_grad(params, x, zbar)
    theta, h = np.log(params), 1e-5
    numeric = [(total(theta + h * e) - total(theta - h * e)) / (2 * h) for e in np.eye(3)]
    assert ll == pytest.approx(total(theta), rel=1e-12)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-4)


# ---------------------------------------------------------------------------------------------
# MBG/NBD


def test_mbgnbd_recovers_the_simulated_parameters(mbg_fit):
    assert mbg_fit.kind == "mbgnbd"
    assert mbg_fit.r == pytest.approx(TRUE_MBG["r"], rel=0.1)
    assert mbg_fit.alpha == pytest.approx(TRUE_MBG["alpha"], rel=0.1)
    assert mbg_fit.a == pytest.approx(TRUE_MBG["a"], rel=0.15)
    assert mbg_fit.b == pytest.approx(TRUE_MBG["b"], rel=0.15)
    # The true values lie within three of the reported standard errors.
    errors = np.abs(np.array(mbg_fit.params) - list(TRUE_MBG.values()))
    assert np.all(errors < 3 * np.array(mbg_fit.std_errors))


def test_mbgnbd_probability_alive_matches_simulation_also_for_one_time_buyers(simulated_mbg):
    model = clv.ModifiedBetaGeoFit(**TRUE_MBG, loglik=0.0, n_customers=0)
    p_alive = model.probability_alive(*_rft(simulated_mbg))
    once = simulated_mbg["x"] == 0
    assert abs(p_alive.mean() - simulated_mbg["alive"].mean()) < 0.01
    assert abs(p_alive[once].mean() - simulated_mbg["alive"][once].mean()) < 0.015
    assert p_alive[once].max() < 1


def test_one_time_buyer_is_alive_for_bgnbd_and_not_for_mbgnbd():
    # r = alpha = a = 1, b = 3, x = t_x = 0, T = 1: MBG/NBD P(alive) = 1 / (1 + 1/3 * 2^1) = 3/5.
    bg = clv.make_purchase_fit("bgnbd", 1.0, 1.0, 1.0, 3.0)
    mbg = clv.make_purchase_fit("mbgnbd", 1.0, 1.0, 1.0, 3.0)
    assert bg.probability_alive([0], [0], [1])[0] == 1.0
    assert mbg.probability_alive([0], [0], [1])[0] == pytest.approx(0.6, rel=1e-12)


def test_mbgnbd_conditional_expected_purchases_match_simulated_future(simulated_mbg):
    model = clv.ModifiedBetaGeoFit(**TRUE_MBG, loglik=0.0, n_customers=0)
    predicted = clv.conditional_expected_purchases(model, HOLDOUT, *_rft(simulated_mbg))
    future = simulated_mbg["future"]
    assert abs(predicted.mean() - future.mean()) < 4 * future.std() / np.sqrt(len(future))


@pytest.mark.parametrize("kind", ["bgnbd", "mbgnbd"])
def test_probability_of_no_purchase_matches_simulated_share(kind):
    rng = np.random.default_rng(5)
    T = rng.uniform(10, 104, 20_000)
    simulate = clv.simulate_bgnbd if kind == "bgnbd" else clv.simulate_mbgnbd
    x, t_x, future, _alive = simulate(**TRUE_MBG, T=T, rng=rng, horizon=HOLDOUT)
    model = clv.make_purchase_fit(kind, **TRUE_MBG)
    quiet = model.probability_no_purchase(HOLDOUT, x, t_x, T)
    share = (future == 0).mean()
    assert abs(quiet.mean() - share) < 4 * np.sqrt(share * (1 - share) / len(x))
    assert np.all((quiet >= 0) & (quiet <= 1))


def test_expected_purchases_of_a_new_mbgnbd_customer_match_simulation():
    rng = np.random.default_rng(8)
    x, *_ = clv.simulate_mbgnbd(**TRUE_MBG, T=np.full(50_000, 52.0), rng=rng)
    model = clv.make_purchase_fit("mbgnbd", **TRUE_MBG)
    stderr = x.std() / np.sqrt(len(x))
    assert abs(float(clv.expected_purchases_new(model, 52.0)) - x.mean()) < 4 * stderr


@pytest.mark.parametrize("kind", ["bgnbd", "mbgnbd"])
def test_expected_purchases_are_continuous_at_a_equal_one(kind):
    # The closed form is 0/0 at a = 1: the value there is the limit from both sides.
    def forecast(a):
        fit = clv.make_purchase_fit(kind, 0.5, 5.0, a, 2.0)
        return fit.conditional_expected_purchases(10.0, [0, 3], [0, 20], [30, 30])

    at_one = forecast(1.0)
    assert np.all(np.isfinite(at_one))
    np.testing.assert_allclose(at_one, (forecast(1 - 1e-3) + forecast(1 + 1e-3)) / 2, rtol=1e-5)


def test_model_kind_is_rebuilt_from_stored_parameters_and_methods_match_functions():
    fit = clv.make_purchase_fit("mbgnbd", 0.5, 6.0, 0.9, 1.6, loglik=-1.0, n_customers=3)
    assert isinstance(fit, clv.ModifiedBetaGeoFit) and fit.kind == "mbgnbd"
    args = ([0, 2], [0, 10], [20, 30])
    np.testing.assert_array_equal(fit.probability_alive(*args), clv.probability_alive(fit, *args))
    np.testing.assert_array_equal(
        fit.conditional_expected_purchases(8, *args),
        clv.conditional_expected_purchases(fit, 8, *args),
    )
    with pytest.raises(clv.CLVDataError, match="Unknown purchase model"):
        clv.make_purchase_fit("pareto", 1, 1, 1, 1)
    with pytest.raises(clv.CLVDataError, match="Unknown purchase model"):
        clv.fit_purchase_model("pareto", [1] * 20, [1] * 20, [2] * 20)


def test_discounted_clv_accepts_an_mbgnbd_fit(mbg_fit, simulated_mbg):
    gg = clv.GammaGammaFit(**TRUE_GG, loglik=0.0, n_customers=0)
    x, t_x, T = (v[:300] for v in _rft(simulated_mbg))
    m = np.where(x > 0, 20.0, 0.0)
    value = clv.discounted_clv(mbg_fit, gg, x, t_x, T, m, horizon_months=12, discount_rate=0.0)
    weeks = 12 * clv.DAYS_PER_MONTH / 7
    expected = mbg_fit.conditional_expected_purchases(weeks, x, t_x, T)
    np.testing.assert_allclose(value, expected * clv.expected_average_spend(gg, x, m), rtol=1e-9)


# ---------------------------------------------------------------------------------------------
# small data: MAP and diagnostics

# Sixteen customers over two years: regular buyers who all bought recently but one (36 weeks
# silent), and three one-time buyers. Nothing in these data shows anyone dropping out.
SMALL_X = np.array([14, 10, 8, 12, 6, 5, 9, 7, 11, 4, 3, 13, 3, 0, 0, 0.0])
SMALL_T = np.array([104, 104, 100, 96, 90, 104, 80, 70, 104, 60, 50, 104, 104, 40, 30, 20.0])
SMALL_TX = np.where(
    SMALL_X > 0, SMALL_T - np.array([1, 2, 3, 1, 4, 6, 2, 5, 1, 3, 8, 2, 36, 0, 0, 0.0]), 0.0
)


@pytest.mark.parametrize("fit_model", [clv.fit_bgnbd, clv.fit_mbgnbd])
def test_maximum_likelihood_on_sixteen_customers_is_degenerate_and_says_so(fit_model):
    fit = fit_model(SMALL_X, SMALL_TX, SMALL_T)
    assert fit.a / (fit.a + fit.b) < 1e-6
    assert any("never drop out" in note for note in fit.diagnostics)
    assert any("not stable" in note for note in fit.diagnostics)


@pytest.mark.parametrize("fit_model", [clv.fit_bgnbd, clv.fit_mbgnbd])
def test_map_on_sixteen_customers_keeps_dropout_and_says_what_the_data_leave_open(fit_model):
    mle = fit_model(SMALL_X, SMALL_TX, SMALL_T)
    fit = fit_model(SMALL_X, SMALL_TX, SMALL_T, prior=clv.WEAK_PURCHASE_PRIOR)
    assert fit.method == "map"
    assert 0.001 < fit.a / (fit.a + fit.b) < 0.5
    assert all(0.01 < value < 1000 for value in fit.params)
    assert not any("never drop out" in note or "not stable" in note for note in fit.diagnostics)
    assert any(note.startswith("b is poorly determined") for note in fit.diagnostics)
    assert fit.loglik <= mle.loglik + 1e-6
    p_alive = fit.probability_alive(SMALL_X, SMALL_TX, SMALL_T)
    # The customer silent for 36 weeks is the least likely to be alive among repeat buyers.
    assert np.argmin(np.where(SMALL_X > 0, p_alive, 2.0)) == 12
    assert p_alive[12] < 0.95


@pytest.mark.parametrize("prior", [None, clv.WEAK_PURCHASE_PRIOR])
@pytest.mark.parametrize("fit_model", [clv.fit_bgnbd, clv.fit_mbgnbd])
def test_fit_is_the_same_in_days_and_in_weeks(cdnow, fit_model, prior):
    x, t_x, T, _zbar = cdnow
    weeks = fit_model(x, t_x, T, prior=prior)
    days = fit_model(x, t_x * 7, T * 7, prior=prior)
    np.testing.assert_allclose(days.params, (weeks.r, weeks.alpha * 7, weeks.a, weeks.b), rtol=1e-5)


def test_map_on_thousands_of_customers_stays_close_to_maximum_likelihood(cdnow):
    x, t_x, T, zbar = cdnow
    for fit_model in (clv.fit_bgnbd, clv.fit_mbgnbd):
        mle = fit_model(x, t_x, T)
        fit = fit_model(x, t_x, T, prior=clv.WEAK_PURCHASE_PRIOR)
        np.testing.assert_allclose(fit.params, mle.params, rtol=0.03)
        assert fit.diagnostics == ()
    mle = clv.fit_gamma_gamma(x, zbar)
    fit = clv.fit_gamma_gamma(x, zbar, prior=clv.WEAK_SPEND_PRIOR)
    np.testing.assert_allclose((fit.p, fit.q, fit.gamma), (mle.p, mle.q, mle.gamma), rtol=0.05)


def test_gamma_gamma_with_constant_spend_per_customer_is_reported_and_map_tames_it():
    rng = np.random.default_rng(0)
    x = rng.integers(1, 8, 16).astype(float)
    spend = clv.simulate_gamma_gamma(2000.0, 4.0, 5000.0, x, rng)
    mle = clv.fit_gamma_gamma(x, spend)
    assert mle.p > clv.MAX_SPEND_SHAPE
    assert any("costing the same" in note for note in mle.diagnostics)
    fit = clv.fit_gamma_gamma(x, spend, prior=clv.WEAK_SPEND_PRIOR)
    assert fit.p < 50 and fit.diagnostics == ()


def test_bad_priors_are_refused(cdnow):
    x, t_x, T, zbar = cdnow
    with pytest.raises(clv.CLVDataError, match="one mean and one standard deviation"):
        clv.LogNormalPrior(mean=(0, 0), sd=(1,))
    with pytest.raises(clv.CLVDataError, match="standard deviations positive"):
        clv.LogNormalPrior(mean=(0, 0, 0, 0), sd=(1, 1, 0, 1))
    with pytest.raises(clv.CLVDataError, match="standard deviations positive"):
        clv.LogNormalPrior(mean=(0, np.nan, 0, 0), sd=(1, 1, 1, 1))
    with pytest.raises(clv.CLVDataError, match="four parameters"):
        clv.fit_bgnbd(x, t_x, T, prior=clv.WEAK_SPEND_PRIOR)
    with pytest.raises(clv.CLVDataError, match="three parameters"):
        clv.fit_gamma_gamma(x, zbar, prior=clv.WEAK_PURCHASE_PRIOR)


# ---------------------------------------------------------------------------------------------
# holdout validation and the naive rule


def test_auc_counts_ties_as_half_and_is_undefined_for_one_class():
    # Positives {1, 3} vs negatives {1, 2}: pairs 1-1 tie (1/2), 1-2 lost, 3-1 and 3-2 won.
    assert validation.auc([1, 1, 2, 3], [False, True, False, True]) == pytest.approx(2.5 / 4)
    assert validation.auc([7, 7, 7], [0, 1, 1]) == pytest.approx(0.5)
    assert validation.auc([0.1, 0.9], [1, 0]) == 0.0
    assert validation.auc([1, 2], [1, 1]) is None
    with pytest.raises(clv.CLVDataError, match="missing or infinite"):
        validation.auc([np.nan, 1], [0, 1])
    with pytest.raises(clv.CLVDataError, match="same length"):
        validation.auc([1, 2, 3], [0, 1])


def test_naive_ratio_uses_own_gap_and_the_median_gap_for_one_time_buyers():
    # gaps: 10/2 = 5, 8/4 = 2, 9/1 = 9 -> median 5 for the one-time buyer (silent for T = 10).
    x, t_x, T = [2, 4, 1, 0], [10, 8, 9, 0], [16, 8, 12, 10]
    np.testing.assert_allclose(validation.usual_gap(x, t_x, T), [5, 2, 9, 5])
    np.testing.assert_allclose(validation.naive_silence_ratio(x, t_x, T), [1.2, 0, 3 / 9, 2])
    np.testing.assert_allclose(
        validation.naive_churn_probability(x, t_x, T), 1 - np.exp(-np.array([1.2, 0, 1 / 3, 2]))
    )
    # Nobody repeated: the median age stands in for the gap.
    np.testing.assert_allclose(
        validation.naive_silence_ratio([0, 0], [0, 0], [4, 8]), [4 / 6, 8 / 6]
    )


def test_naive_calibration_reproduces_the_churn_share_of_each_silence():
    # 1,000 customers who just bought (ratio 0), 10 % churn; 1,000 silent for e - 1 usual gaps
    # (ln(1 + ratio) = 1), 90 % churn: the logistic curve goes through both shares.
    x = np.full(2000, 1.0)
    t_x = np.full(2000, 10.0)
    T = np.r_[np.full(1000, 10.0), np.full(1000, 10.0 + 10.0 * (np.e - 1))]
    churned = np.r_[np.arange(1000) < 100, np.arange(1000) < 900]
    calibration = validation.calibrate_naive_rule(x, t_x, T, churned)
    probability = validation.naive_churn_probability(x, t_x, T, calibration)
    assert probability[0] == pytest.approx(0.1, abs=0.005)
    assert probability[-1] == pytest.approx(0.9, abs=0.005)
    # logit(0.9) - logit(0.1) = 2 ln 9, less the slight ridge of propensity.fit_logistic
    assert calibration.slope == pytest.approx(2 * np.log(9), rel=0.03)


def test_naive_calibration_never_lowers_the_score_of_a_longer_silence():
    x, t_x = np.full(200, 1.0), np.full(200, 10.0)
    T = np.r_[np.full(100, 10.0), np.full(100, 40.0)]
    churned = np.r_[np.arange(100) < 60, np.arange(100) < 20]  # the silent ones bought more
    calibration = validation.calibrate_naive_rule(x, t_x, T, churned)
    assert calibration.slope == 0.0
    assert validation.naive_churn_probability(x, t_x, T, calibration) == pytest.approx(0.4)
    assert validation.calibrate_naive_rule(x, t_x, T, np.zeros(200, dtype=bool)) is None


def test_holdout_validation_of_the_true_model_predicts_the_aggregate_and_beats_the_rule(
    simulated_mbg,
):
    model = clv.make_purchase_fit("mbgnbd", **TRUE_MBG)
    result = validation.validate_holdout(
        model, *_rft(simulated_mbg), simulated_mbg["future"], HOLDOUT
    )
    assert result.kind == "mbgnbd" and result.n_customers == 20_000
    assert result.actual_purchases == simulated_mbg["future"].sum()
    assert abs(result.purchase_error) < 0.03
    assert result.churned_share == pytest.approx((simulated_mbg["future"] == 0).mean())
    assert result.auc > 0.6 and result.auc > result.naive_auc and result.beats_naive


def test_select_model_chooses_mbgnbd_on_data_where_one_time_buyers_drop_out(simulated_mbg):
    selection = validation.select_model(*_rft(simulated_mbg), simulated_mbg["future"], HOLDOUT)
    assert [v.kind for v in selection.candidates] == ["bgnbd", "mbgnbd"]
    assert selection.failures == ()
    assert selection.best.kind == "mbgnbd" and selection.best.fit.method == "map"
    assert abs(selection.best.purchase_error) < 0.03
    assert selection.beats_naive and selection.churn_source == "model"
    assert selection.naive_auc == selection.best.naive_auc
    bg = selection.candidates[0]
    # BG/NBD calls every one-time buyer alive: 1 - P(alive) ranks churners worse than chance.
    assert bg.alive_auc < 0.6 < bg.auc


def test_select_model_without_any_fit_falls_back_to_the_rule(simulated_mbg):
    x, t_x, T = (v[:50] for v in _rft(simulated_mbg))
    future = simulated_mbg["future"][:50]
    selection = validation.select_model(x, t_x, T, future, HOLDOUT, min_customers=100)
    assert selection.best is None and not selection.beats_naive
    assert selection.churn_source == "naive"
    assert [kind for kind, _message in selection.failures] == ["bgnbd", "mbgnbd"]
    assert "At least 100 customers" in selection.failures[0][1]
    assert selection.naive_calibration is not None


def test_select_model_when_everyone_bought_in_the_holdout_has_no_auc(simulated_mbg):
    x, t_x, T = _rft(simulated_mbg)
    everyone = np.ones_like(x)
    selection = validation.select_model(x[:2000], t_x[:2000], T[:2000], everyone[:2000], 4.0)
    assert selection.best is not None and selection.best.auc is None
    assert selection.naive_auc is None and selection.naive_calibration is None
    assert not selection.beats_naive
    errors = [abs(v.purchase_error) for v in selection.candidates]
    assert abs(selection.best.purchase_error) == min(errors)


@pytest.mark.parametrize(
    ("holdout", "length", "message"),
    [
        ([1, np.nan, 0], 4, "missing or infinite"),
        ([1, -1, 0], 4, "whole numbers"),
        ([1, 0.5, 0], 4, "whole numbers"),
        ([1, 0], 4, "one value per customer"),
        ([1, 0, 0], 0, "positive number"),
        ([1, 0, 0], np.inf, "positive number"),
        ([1, 0, 0], np.nan, "positive number"),
    ],
)
def test_bad_holdout_input_is_refused(holdout, length, message):
    model = clv.make_purchase_fit("bgnbd", **TRUE_BG)
    with pytest.raises(clv.CLVDataError, match=message):
        validation.validate_holdout(model, [1, 0, 2], [3, 0, 5], [6, 6, 6], holdout, length)
    with pytest.raises(clv.CLVDataError, match=message):
        validation.select_model([1, 0, 2], [3, 0, 5], [6, 6, 6], holdout, length)


# ---------------------------------------------------------------------------------------------
# refusals


def test_one_time_buyers_only_are_refused_with_a_message():
    with pytest.raises(clv.CLVFitError, match="bought more than once"):
        clv.fit_bgnbd(np.zeros(50), np.zeros(50), np.full(50, 30.0))
    with pytest.raises(clv.CLVFitError, match="bought more than once"):
        clv.fit_mbgnbd(np.zeros(50), np.zeros(50), np.full(50, 30.0), prior=clv.WEAK_PURCHASE_PRIOR)


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


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: clv.fit_mbgnbd([1.5] * 20, [1] * 20, [3] * 20), "whole numbers"),
        (lambda m: clv.fit_mbgnbd([1] * 20, [np.inf] * 20, [3] * 20), "missing or infinite"),
        (lambda m: clv.fit_mbgnbd([1] * 20, [-1] * 20, [3] * 20), "cannot be negative"),
        (lambda m: clv.probability_alive(m, [1], [1], [np.inf]), "missing or infinite"),
        (lambda m: clv.probability_alive(m, [-1], [0], [3]), "cannot be negative"),
        (lambda m: clv.conditional_expected_purchases(m, -1, [1], [1], [3]), "forecast period"),
        (lambda m: clv.conditional_expected_purchases(m, np.nan, [1], [1], [3]), "forecast"),
        (lambda m: clv.probability_no_purchase(m, np.inf, [1], [1], [3]), "forecast period"),
        (lambda m: clv.fit_gamma_gamma([1] * 5, [np.nan] * 5), "missing or infinite"),
        (lambda m: clv.fit_gamma_gamma([1, 2, 3], [5, -1, 4]), "must be positive"),
        (lambda m: clv.fit_gamma_gamma([1, -2, 3], [5, 1, 4]), "cannot be negative"),
        (lambda m: validation.naive_silence_ratio([1], [5], [np.nan]), "missing or infinite"),
    ],
)
def test_bad_numbers_are_refused(call, message):
    with pytest.raises(clv.CLVDataError, match=message):
        call(clv.make_purchase_fit("mbgnbd", **TRUE_MBG))


@pytest.mark.parametrize("value", [0.0, -1.0, np.nan, np.inf, "2"])
def test_stored_parameters_that_are_not_positive_numbers_are_refused(value):
    with pytest.raises(clv.CLVDataError, match="model parameter a must be a positive number"):
        clv.make_purchase_fit("mbgnbd", 0.5, 6.0, value, 1.6)
    with pytest.raises(clv.CLVDataError, match="model parameter q must be a positive number"):
        clv.GammaGammaFit(p=6.0, q=value, gamma=15.0, loglik=0.0, n_customers=0)
    assert clv.make_purchase_fit("bgnbd", np.float32(0.5), 6, np.int64(1), 2.0).a == 1


@pytest.mark.parametrize(("horizon", "rate"), [(0, 0.1), (121, 0.1), (12, -0.1), (12, 1.0)])
def test_horizon_and_discount_rate_out_of_range_are_refused(bg_fit, horizon, rate):
    gg = clv.GammaGammaFit(**TRUE_GG, loglik=0.0, n_customers=0)
    with pytest.raises(clv.CLVDataError):
        clv.discounted_clv(bg_fit, gg, [1], [5], [10], [100], horizon, rate)


# ---------------------------------------------------------------------------------------------
# propensity (lib/propensity.py)


def test_logistic_fit_separates_buyers_and_auc_is_ranked():
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
    with pytest.raises(propensity.PropensityError, match="only buyers or only non-buyers"):
        propensity.fit_logistic(np.ones((10, 2)), np.zeros(10))


if __name__ == "__main__":
    # pytest imports this file as crm_analytics.tests.test_clv, which would run the addon's and
    # the tests' __init__ (Odoo models): stand in empty packages for them.
    import types

    _TESTS = Path(__file__).resolve().parent
    for _name, _path in (("crm_analytics", _TESTS.parent), ("crm_analytics.tests", _TESTS)):
        sys.modules[_name] = types.ModuleType(_name)
        sys.modules[_name].__path__ = [str(_path)]
    sys.exit(pytest.main(["-p", "no:odoo", "-p", "no:cacheprovider", __file__, *sys.argv[1:]]))
