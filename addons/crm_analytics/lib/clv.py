"""Customer lifetime value: BG/NBD and MBG/NBD (purchases, P(alive)), Gamma-Gamma (spend).

Plain numpy/scipy, no Odoo import, so it can be unit tested and benchmarked alone.

Definitions (as in the literature, one row per customer):

- ``frequency`` x: number of *repeat* purchases (purchase periods after the first one),
- ``recency`` t_x: age of the customer at their last purchase (first purchase = time 0),
- ``T``: age of the customer at the end of the calibration window,
- ``monetary_value`` m_x: average value of the repeat purchases (customers with x > 0).

All three times share one unit (the Odoo side uses weeks). Models:

- BG/NBD, Fader, Hardie & Lee (2005), "Counting your customers the easy way": purchases follow
  a Poisson process with rate lambda ~ Gamma(r, alpha); after each *repeat* purchase the
  customer drops out with probability p ~ Beta(a, b). A one-time buyer is alive by
  construction (P(alive) = 1 when x = 0).
- MBG/NBD, Batislam, Denizel & Filiztekin (2007), "Empirical validation and comparison of
  models for customer base analysis": the same, except that the customer may also drop out
  right after the *first* purchase, so one-time buyers get P(alive) < 1.
- Gamma-Gamma, Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves": the value of
  each purchase ~ Gamma(p, nu) with nu ~ Gamma(q, gamma).

Both purchase models share one likelihood (``shift`` k = 0 for BG/NBD, 1 for MBG/NBD)::

    L = B(a, b+x+k)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+T)^(r+x))
      + [x+k > 0] B(a+1, b+x+k-1)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x))

evaluated in log space; the first term is "still alive at T", so P(alive) is its share of L.

Estimation. Parameters are fitted on their logarithms by L-BFGS-B with analytic gradients
over the *distinct* histories (customers with the same (x, t_x, T) share one weighted term;
each column is also factorised so that logs of alpha + T are taken once per distinct T).
Times are rescaled internally to the pooled gap between repeat purchases and spends to their
median: the optimiser always sees numbers near 1, and the priors below are unit-free.

- ``prior=None``: maximum likelihood (reproduces the published CDNOW estimates).
- ``prior=WEAK_PURCHASE_PRIOR`` / ``WEAK_SPEND_PRIOR``: maximum a posteriori with independent
  normal priors on the log-parameters (see :class:`LogNormalPrior` for the choice). On a shop
  with 16 customers the likelihood alone runs off to "nobody ever drops out" (a -> 0,
  b -> infinity) or to p in the thousands; the prior keeps such fits where the data leave them
  undetermined, and is negligible against thousands of customers.

Every fit carries ``diagnostics``: plain-English sentences on why it should not be trusted
(a parameter at the edge of the search box, nobody dropping out, a spend model with no mean, a
likelihood flat in some direction, a parameter the data do not pin down). They come from the
curvature (Hessian) of the objective at the optimum: deterministic and costs a few gradients.

Why not a CLV library (lifetimes, PyMC-Marketing): lifetimes is unmaintained and pins pandas /
old scipy APIs; PyMC-Marketing pulls PyMC, PyTensor and a compiler toolchain into the Odoo
server for what is a few closed-form formulas. scripts/bench/bench_clv_lifetimes.py compares
this module with lifetimes on the same data (speed and estimates).

Bad data raises :class:`CLVDataError` (wrong shapes, negative, fractional or non-finite
values, recency > T) or :class:`CLVFitError` (too few customers, no repeat purchase, optimiser
failure): callers never receive NaN.
"""

import numbers
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy import optimize
from scipy import special

MIN_CUSTOMERS = 10
LOG_BOUND = 15.0
MIN_REPEAT_CUSTOMERS = 3
MAX_HORIZON_MONTHS = 120
DAYS_PER_MONTH = 365.25 / 12
PURCHASE_MODELS = ("bgnbd", "mbgnbd")

# Diagnostics thresholds (see _curvature and the fit functions).
MIN_MEAN_DROPOUT = 1e-3  # a / (a + b) below this: nobody ever drops out
MAX_SPEND_SHAPE = 100.0  # Gamma-Gamma p above this: every purchase of a customer costs the same
MAX_LOG_SE = 1.0  # standard error of a log-parameter above this: not determined by the data
MAX_CONDITION = 1e10  # condition number of the Hessian above this: flat likelihood


def _(template):
    """Mark a user-facing template for Odoo's translation export (this module stays free of
    Odoo: the caller translates :class:`Message` objects)."""
    return template


class Message(str):
    """A sentence for the user: its English text, plus the template and values it was made
    of (``template % values``), so that a caller with translations can say it in the user's
    language."""

    def __new__(cls, template, **values):
        message = super().__new__(cls, template % values if values else template)
        message.template = template
        message.values = values
        return message


class CLVError(ValueError):
    """Base class of the errors of this module: the message is meant for the end user."""


class CLVDataError(CLVError):
    """The input arrays are not a valid customer summary."""


class CLVFitError(CLVError):
    """The model cannot be estimated from these data."""


@dataclass(frozen=True)
class LogNormalPrior:
    """Independent normal priors on the log-parameters, for MAP estimation.

    ``mean`` and ``sd`` hold one value per parameter, in the model's order ((r, alpha, a, b)
    or (p, q, gamma)), on the natural log of the parameter in the fit's internal units: times
    in units of the pooled gap between repeat purchases (sum of T / sum of x), spends in units
    of the median average spend. The internal units make the prior the same whether the data
    come in days or weeks, pesos or dollars.
    """

    mean: tuple
    sd: tuple

    def __post_init__(self):
        mean = np.asarray(self.mean, dtype=float)
        sd = np.asarray(self.sd, dtype=float)
        if mean.shape != sd.shape or mean.ndim != 1:
            raise CLVDataError("A prior needs one mean and one standard deviation per parameter.")
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(sd)) and np.all(sd > 0)):
            raise CLVDataError("Prior means must be finite and standard deviations positive.")

    def log_density(self, log_params):
        """Log prior density (up to a constant) and its gradient at ``log_params``."""
        mean = np.asarray(self.mean, dtype=float)
        var = np.asarray(self.sd, dtype=float) ** 2
        diff = log_params - mean
        return -0.5 * float(np.sum(diff * diff / var)), -diff / var


# Purchase models (r, alpha, a, b). r = alpha = 1 in units of the pooled gap: the average
# customer buys at the pooled rate, with exponentially distributed (r = 1) rates across
# customers. a = 1, b = 3: a mean dropout probability of 1/4 per purchase, Beta(1, 3) spread.
# sd 1.5 on the log scale: 95 % of the prior mass spans a factor of 20 either way. The CDNOW
# fit (r = 0.24, alpha = 0.14 pooled gaps, a = 0.79, b = 2.4) lies within 1.3 sd of the centre
# and is left as it is (3,000 customers outweigh the prior); the demo store's 16 customers no
# longer give a = 0.0002, b = 553 ("nobody ever leaves").
WEAK_PURCHASE_PRIOR = LogNormalPrior(mean=(0.0, 0.0, 0.0, float(np.log(3.0))), sd=(1.5,) * 4)
# Gamma-Gamma (p, q, gamma). p = 2: purchases of one customer vary with a coefficient of
# variation of 1/sqrt(2) = 0.7; q = 3: average spends vary between customers with a finite
# variance; gamma = 1: the population's mean spend p gamma / (q - 1) is the median spend.
WEAK_SPEND_PRIOR = LogNormalPrior(mean=(float(np.log(2.0)), float(np.log(3.0)), 0.0), sd=(1.5,) * 3)


@dataclass(frozen=True)
class PurchaseFit:
    """Parameters of a purchase model (BG/NBD or MBG/NBD), see the subclasses.

    ``loglik`` is the data log-likelihood at the estimate (also for MAP), in the caller's time
    unit. ``method`` is "mle" or "map". ``diagnostics`` lists plain-English reasons not to
    trust the fit (empty when none). ``std_errors`` are asymptotic standard errors of
    (r, alpha, a, b) from the curvature of the objective (None when it is not invertible).
    The methods are the module functions of the same name.
    """

    kind: ClassVar[str] = ""
    param_names: ClassVar[tuple] = ("r", "alpha", "a", "b")

    r: float
    alpha: float
    a: float
    b: float
    loglik: float
    n_customers: int
    iterations: int = 0
    method: str = "mle"
    diagnostics: tuple = ()
    std_errors: tuple | None = None

    def __post_init__(self):
        _check_params(self.params, self.param_names)

    @property
    def params(self):
        return (self.r, self.alpha, self.a, self.b)

    def probability_alive(self, frequency, recency, T):
        return probability_alive(self, frequency, recency, T)

    def conditional_expected_purchases(self, t, frequency, recency, T):
        return conditional_expected_purchases(self, t, frequency, recency, T)

    def probability_no_purchase(self, t, frequency, recency, T):
        return probability_no_purchase(self, t, frequency, recency, T)

    def expected_purchases_new(self, t):
        return expected_purchases_new(self, t)


@dataclass(frozen=True)
class BetaGeoFit(PurchaseFit):
    """BG/NBD parameters (Fader, Hardie & Lee 2005)."""

    kind: ClassVar[str] = "bgnbd"


@dataclass(frozen=True)
class ModifiedBetaGeoFit(PurchaseFit):
    """MBG/NBD parameters (Batislam, Denizel & Filiztekin 2007)."""

    kind: ClassVar[str] = "mbgnbd"


@dataclass(frozen=True)
class GammaGammaFit:
    """Gamma-Gamma parameters; fields as in :class:`PurchaseFit` (std_errors of p, q, gamma)."""

    kind: ClassVar[str] = "gamma_gamma"
    param_names: ClassVar[tuple] = ("p", "q", "gamma")

    p: float
    q: float
    gamma: float
    loglik: float
    n_customers: int
    iterations: int = 0
    method: str = "mle"
    diagnostics: tuple = ()
    std_errors: tuple | None = None

    def __post_init__(self):
        _check_params((self.p, self.q, self.gamma), self.param_names)


def _check_params(values, names):
    """Model parameters are finite and positive (a stored fit may have been edited)."""
    for name, value in zip(names, values, strict=True):
        if not (isinstance(value, numbers.Real) and np.isfinite(value) and value > 0):
            raise CLVDataError(f"The model parameter {name} must be a positive number.")


_FIT_CLASSES = {"bgnbd": BetaGeoFit, "mbgnbd": ModifiedBetaGeoFit}
_LABELS = {"bgnbd": "purchase (BG/NBD)", "mbgnbd": "purchase (MBG/NBD)"}


def make_purchase_fit(kind, r, alpha, a, b, loglik=0.0, n_customers=0, **extra):
    """Rebuild a stored purchase fit of ``kind`` ("bgnbd" or "mbgnbd") from its parameters."""
    return _fit_class(kind)(
        r=r, alpha=alpha, a=a, b=b, loglik=loglik, n_customers=n_customers, **extra
    )


def _fit_class(kind):
    if kind not in _FIT_CLASSES:
        raise CLVDataError(f"Unknown purchase model {kind!r} (expected one of {PURCHASE_MODELS}).")
    return _FIT_CLASSES[kind]


def _shift(model):
    """0 for BG/NBD, 1 for MBG/NBD (dropout also possible right after the first purchase)."""
    kind = getattr(model, "kind", "bgnbd")
    _fit_class(kind)
    return 1.0 if kind == "mbgnbd" else 0.0


# ---------------------------------------------------------------------------------------------
# input checks


def _as_array(name, values):
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise CLVDataError(f"{name} must be a one-dimensional array.")
    if not np.all(np.isfinite(arr)):
        raise CLVDataError(f"{name} contains missing or infinite values.")
    return arr


def _check_frequency(frequency):
    x = _as_array("frequency", frequency)
    if np.any(x < 0):
        raise CLVDataError("frequency cannot be negative.")
    if np.any(x != np.round(x)):
        raise CLVDataError("frequency must be whole numbers of repeat purchases.")
    return x


def _check_rft(frequency, recency, T):
    x = _as_array("frequency", frequency)
    t_x = _as_array("recency", recency)
    T = _as_array("T", T)
    if not (x.shape == t_x.shape == T.shape):
        raise CLVDataError("frequency, recency and T must have the same length.")
    if np.any(x < 0) or np.any(t_x < 0) or np.any(T < 0):
        raise CLVDataError("frequency, recency and T cannot be negative.")
    _check_frequency(x)
    if np.any(t_x > T + 1e-9):
        raise CLVDataError("recency cannot be greater than T (the customer's age).")
    if np.any((x > 0) & (t_x <= 0)):
        raise CLVDataError("a customer with repeat purchases must have a positive recency.")
    return x, t_x, T


def _check_period(t):
    t = np.asarray(t, dtype=float)
    if t.ndim != 0 or not np.isfinite(t) or t < 0:
        raise CLVDataError("The forecast period must be a finite number, at least 0.")
    return float(t)


def _check_horizon(horizon_months, discount_rate):
    if not (np.isfinite(horizon_months) and 0 < horizon_months <= MAX_HORIZON_MONTHS):
        raise CLVDataError(
            f"The CLV horizon must be between 1 and {MAX_HORIZON_MONTHS} months "
            f"(got {horizon_months})."
        )
    if not (np.isfinite(discount_rate) and 0 <= discount_rate < 1):
        raise CLVDataError(
            f"The annual discount rate must be at least 0 and below 1 (got {discount_rate})."
        )


def _check_purchase_data(x, t_x, T, min_customers):
    n = len(x)
    if n < min_customers:
        raise CLVFitError(
            Message(
                _(
                    "At least %(needed)s customers are needed to fit the purchase model (got %(got)s)."
                ),
                needed=min_customers,
                got=n,
            )
        )
    if np.count_nonzero(x) < MIN_REPEAT_CUSTOMERS:
        raise CLVFitError(
            Message(
                _(
                    "Too few customers bought more than once: the purchase and dropout rates "
                    "cannot be estimated."
                )
            )
        )
    if np.all(T == 0):
        raise CLVFitError("All customers are new (T = 0): there is no history to learn from.")


# ---------------------------------------------------------------------------------------------
# purchase models: likelihood and gradient


def bgnbd_loglik(params, x, t_x, T, weights=None):
    """Per-row log-likelihood of BG/NBD (Fader, Hardie & Lee 2005, eq. 6) in log space.

    Straightforward reference implementation (the fit uses :func:`purchase_loglik_grad`).
    """
    r, alpha, a, b = params
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = special.betaln(a, b + x) - special.betaln(a, b) - (r + x) * np.log(alpha + T)
    repeat = x > 0
    # b + x - 1 is only meaningful for repeat buyers; a safe placeholder elsewhere.
    b_x1 = np.where(repeat, b + x - 1, 1.0)
    a3 = special.betaln(a + 1, b_x1) - special.betaln(a, b) - (r + x) * np.log(alpha + t_x)
    ll = a1 + np.where(repeat, np.logaddexp(a2, a3), a2)
    return ll if weights is None else ll * weights


def mbgnbd_loglik(params, x, t_x, T, weights=None):
    """Per-row log-likelihood of MBG/NBD (Batislam, Denizel & Filiztekin 2007).

    L = B(a, b+x+1)/B(a,b) G(r+x) alpha^r / (G(r) (alpha+T)^(r+x))
      + B(a+1, b+x)/B(a,b) G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x)), for every x including 0.
    Straightforward reference implementation (the fit uses :func:`purchase_loglik_grad`).
    """
    r, alpha, a, b = params
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = special.betaln(a, b + x + 1) - special.betaln(a, b) - (r + x) * np.log(alpha + T)
    a3 = special.betaln(a + 1, b + x) - special.betaln(a, b) - (r + x) * np.log(alpha + t_x)
    ll = a1 + np.logaddexp(a2, a3)
    return ll if weights is None else ll * weights


def _dot(u, v):
    """Sum of u * v without BLAS: OpenBLAS threads spin on a busy server (10x slower here)."""
    return float(np.add.reduce(u * v))


class _Histories:
    """Distinct (x, t_x, T) rows with their weights, each column factorised.

    ``ux[xi]`` is the row's x, ``uT[Ti]`` its T and ``ut[ti]`` its t_x: terms that depend on
    one column only are computed once per distinct value (Odoo's histories are whole days, so
    100,000 customers have a few hundred distinct ages). ``W`` sums the weights per distinct
    x, ``W_T`` and ``WX_T`` the weights and weighted x per distinct T.
    """

    def __init__(self, x, t_x, T):
        self.ux, xi = np.unique(x, return_inverse=True)
        self.uT, Ti = np.unique(T, return_inverse=True)
        self.ut, ti = np.unique(t_x, return_inverse=True)
        if len(self.ux) * len(self.uT) * len(self.ut) < 2**62:
            # One int64 code per distinct row: a single sort.
            code = (xi.astype(np.int64) * len(self.uT) + Ti) * len(self.ut) + ti
            _codes, first, counts = np.unique(code, return_index=True, return_counts=True)
        else:
            rows = np.column_stack([xi, Ti, ti])
            _rows, first, counts = np.unique(rows, axis=0, return_index=True, return_counts=True)
        self.xi, self.Ti, self.ti = xi[first], Ti[first], ti[first]
        self.w = counts.astype(float)
        self.xr = self.ux[self.xi]
        self.W = np.bincount(self.xi, weights=self.w, minlength=len(self.ux))
        self.W_T = np.bincount(self.Ti, weights=self.w, minlength=len(self.uT))
        self.WX_T = np.bincount(self.Ti, weights=self.w * self.xr, minlength=len(self.uT))
        self.total = float(self.w.sum())
        self.sum_x = _dot(self.W, self.ux)

    def scaled(self, scale):
        """The same histories with times divided by ``scale``."""
        other = object.__new__(_Histories)
        other.__dict__.update(self.__dict__)
        other.uT = self.uT / scale
        other.ut = self.ut / scale
        return other


def _purchase_ll_grad(log_params, h, shift):
    """Total log-likelihood of the histories ``h`` and its gradient over log-parameters.

    Per row, with lT = ln(alpha+T), lt = ln(alpha+t_x), c = a+b+x+k and the log-odds of
    having dropped out d = ln(a/(b+x+k-1)) + (r+x)(lT - lt) (-inf without that branch)::

        ln L     = lnG(r+x) - lnG(r) + r ln alpha + lnB(a, b+x+k) - lnB(a, b) - (r+x) lT
                   + softplus(d)
        d/dr     = psi(r+x) - psi(r) + ln alpha - lT + w3 (lT - lt)
        d/dalpha = r/alpha - (r+x)/(alpha+T) - w3 (r+x) (1/(alpha+t_x) - 1/(alpha+T))
        d/da     = psi(a+b) - psi(c) + w3 / a
        d/db     = psi(b+x+k) - psi(c) - psi(b) + psi(a+b) - w3 / (b+x+k-1)

    where w3 = expit(d) = 1 - P(alive); each summed with the row weights (terms of one column
    once per distinct value), then times the parameter (chain rule for logs).
    """
    r, alpha, a, b = np.exp(log_params)
    ux, xi, w = h.ux, h.xi, h.w
    bxk = b + ux + shift
    # per distinct x
    has3 = ux + shift > 0  # the "dropped out after the last purchase" branch exists
    bxk1 = np.where(has3, bxk - 1, 1.0)
    log_odds_x = np.where(has3, np.log(a) - np.log(bxk1), -np.inf)
    base = (
        special.gammaln(r + ux)
        - special.gammaln(r)
        + r * np.log(alpha)
        + special.betaln(a, bxk)
        - special.betaln(a, b)
    )
    # per distinct T and t_x
    log_aT = np.log(alpha + h.uT)
    inv_aT = 1.0 / (alpha + h.uT)
    # per row
    rx = r + h.xr
    lT = log_aT[h.Ti]
    D = lT - np.log(alpha + h.ut)[h.ti]
    d = log_odds_x[xi] + rx * D
    ww3 = w * special.expit(d)
    ll = _dot(h.W, base) - r * _dot(h.W_T, log_aT) - _dot(h.WX_T, log_aT)
    ll += _dot(w, np.logaddexp(0.0, d))
    S3 = np.bincount(xi, weights=ww3, minlength=len(ux))
    psi_c = special.digamma(a + bxk)
    psi_ab = special.digamma(a + b)
    d_r = _dot(h.W, special.digamma(r + ux) - special.digamma(r) + np.log(alpha))
    d_r += _dot(ww3, D) - _dot(h.W_T, log_aT)
    inv_diff = (1.0 / (alpha + h.ut))[h.ti] - inv_aT[h.Ti]
    d_alpha = r / alpha * h.total - r * _dot(h.W_T, inv_aT) - _dot(h.WX_T, inv_aT)
    d_alpha -= _dot(ww3 * rx, inv_diff)
    d_a = _dot(h.W, psi_ab - psi_c) + S3.sum() / a
    d_b = _dot(h.W, special.digamma(bxk) - psi_c - special.digamma(b) + psi_ab)
    d_b -= _dot(S3, np.where(has3, 1.0 / bxk1, 0.0))
    grad = np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
    return ll, grad


def purchase_loglik_grad(kind, params, frequency, recency, T):
    """Total log-likelihood of ``kind`` ("bgnbd"/"mbgnbd") at ``params`` = (r, alpha, a, b)
    and its gradient with respect to (log r, log alpha, log a, log b); exposed for tests."""
    shift = _shift(_fit_class(kind))
    x, t_x, T = _check_rft(frequency, recency, T)
    return _purchase_ll_grad(np.log(np.asarray(params, dtype=float)), _Histories(x, t_x, T), shift)


# ---------------------------------------------------------------------------------------------
# optimiser and diagnostics


def _objective(ll_grad, total, prior):
    """Mean negative log-posterior and its gradient (prior None = likelihood only)."""

    def fun(theta):
        with np.errstate(all="ignore"):
            ll, grad = ll_grad(theta)
        if prior is not None:
            lp, dlp = prior.log_density(theta)
            ll, grad = ll + lp, grad + dlp
        if not (np.isfinite(ll) and np.all(np.isfinite(grad))):
            return 1e300, np.zeros_like(theta)
        return -ll / total, -grad / total

    return fun


def _estimate(fun, n_params, total, what, prior=None):
    """Minimise ``fun`` over the log-parameters; return (theta, iterations, Hessian).

    L-BFGS-B in [-LOG_BOUND, LOG_BOUND], from up to three starts, brings the gradient near 0;
    Newton steps with the Hessian of the total objective (needed for the diagnostics anyway)
    then finish to machine precision, where L-BFGS-B's line search would stall on rounding.
    A step is kept only if it does not increase the objective.

    A parameter at its bound is the maximum over the (closed) parameter box: e.g. q and gamma
    run off together when customers do not differ in spend, and the forecasts then tend to the
    population mean, which is the right answer. It is kept, and reported by the diagnostics.
    """
    first = np.zeros(n_params) if prior is None else np.asarray(prior.mean, dtype=float)
    best = None
    for start in (first, first + 0.5, first - 0.5):
        res = optimize.minimize(
            fun,
            start,
            jac=True,
            method="L-BFGS-B",
            bounds=[(-LOG_BOUND, LOG_BOUND)] * n_params,
            options={"maxiter": 2000, "ftol": 1e-12, "gtol": 1e-7},
        )
        if np.isfinite(res.fun) and res.fun < 1e299 and (best is None or res.fun < best.fun):
            best = res
        # Line-search "failures" at a small gradient are convergence at machine precision.
        if best is not None and (best.success or np.max(np.abs(best.jac)) < 1e-5):
            break
    if best is None:
        raise CLVFitError(
            Message(
                _("The %(model)s model could not be fitted: the likelihood is not finite."),
                model=what,
            )
        )
    theta = best.x
    value, grad = fun(theta)
    H = _hessian(fun, theta, grad, total)
    for _newton in range(4):
        if np.max(np.abs(grad)) < 1e-12:
            break
        try:
            step = np.linalg.solve(H / total, grad)
        except np.linalg.LinAlgError:
            break
        candidate = np.clip(theta - step, -LOG_BOUND, LOG_BOUND)
        new_value, new_grad = fun(candidate)
        if not new_value <= value:
            break
        theta, value, grad = candidate, new_value, new_grad
    return theta, int(best.nit), H


def _hessian(fun, theta, grad, total, step=1e-5):
    """Hessian of the total objective at ``theta`` (where the gradient is ``grad``): forward
    differences of the analytic gradient, k more gradients, accurate to ~1e-5."""
    k = len(theta)
    H = np.empty((k, k))
    for j in range(k):
        e = np.zeros(k)
        e[j] = step
        H[:, j] = (fun(theta + e)[1] - grad) * total / step
    return (H + H.T) / 2


def _curvature(H, names, prior):
    """(diagnostics, standard errors of the log-parameters or None) from the Hessian."""
    notes = []
    try:
        eig = np.linalg.eigvalsh(H)
    except np.linalg.LinAlgError:
        eig = np.array([np.nan])
    if not np.all(np.isfinite(eig)) or eig.min() <= 0 or eig.max() / eig.min() > MAX_CONDITION:
        notes.append(
            Message(
                _(
                    "The fit is not stable: the likelihood is flat along some combination of "
                    "the parameters, so quite different values describe these customers equally "
                    "well."
                )
            )
        )
        return notes, None
    se = np.sqrt(np.diag(np.linalg.inv(H)))
    for name, value in zip(names, se, strict=True):
        if value > MAX_LOG_SE:
            notes.append(
                Message(
                    _(
                        "%(name)s is poorly determined by these data: values %(factor)s times "
                        "larger or smaller fit about as well; the estimate leans on the prior."
                    )
                    if prior is not None
                    else _(
                        "%(name)s is poorly determined by these data: values %(factor)s times "
                        "larger or smaller fit about as well."
                    ),
                    name=name,
                    factor=f"{np.exp(1.96 * value):,.0f}",
                )
            )
    return notes, se


def _at_bound_notes(theta, names, params):
    return [
        Message(
            _(
                "%(name)s ran to the edge of the search range (%(value)s): the optimum is degenerate."
            ),
            name=name,
            value=f"{value:.3g}",
        )
        for name, t, value in zip(names, theta, params, strict=True)
        if abs(t) >= LOG_BOUND - 1e-6
    ]


# ---------------------------------------------------------------------------------------------
# purchase models: fit


def _fit_purchase(kind, frequency, recency, T, min_customers, prior):
    x, t_x, T = _check_rft(frequency, recency, T)
    _check_purchase_data(x, t_x, T, min_customers)
    if prior is not None and len(prior.mean) != 4:
        raise CLVDataError("The purchase model's prior needs four parameters (r, alpha, a, b).")
    cls = _fit_class(kind)
    shift = _shift(cls)
    histories = _Histories(x, t_x, T)
    # Internal time unit: the pooled gap between repeat purchases.
    scale = _pooled_gap(x, T)
    h = histories.scaled(scale)
    fun = _objective(lambda theta: _purchase_ll_grad(theta, h, shift), h.total, prior)
    theta, nit, H = _estimate(fun, 4, h.total, _LABELS[kind], prior)
    with np.errstate(all="ignore"):
        ll, _grad = _purchase_ll_grad(theta, h, shift)
    if not np.isfinite(ll):
        raise CLVFitError("The purchase model could not be fitted: the likelihood is not finite.")
    r, alpha, a, b = (float(v) for v in np.exp(theta))
    alpha *= scale
    # In the caller's unit the density of each purchase time carries a factor 1/scale.
    loglik = ll - h.sum_x * np.log(scale)
    names = PurchaseFit.param_names
    notes = _at_bound_notes(theta, names, (r, alpha, a, b))
    if a / (a + b) < MIN_MEAN_DROPOUT:
        notes.append(
            Message(
                _(
                    "Customers practically never drop out in this fit (mean dropout probability "
                    "a / (a + b) = %(dropout)s per purchase): everyone would look alive."
                ),
                dropout=f"{a / (a + b):.2g}",
            )
        )
    curvature_notes, se = _curvature(H, names, prior)
    notes.extend(curvature_notes)
    std_errors = None if se is None else tuple(float(v) for v in se * (r, alpha, a, b))
    return cls(
        r=r,
        alpha=alpha,
        a=a,
        b=b,
        loglik=float(loglik),
        n_customers=len(x),
        iterations=nit,
        method="mle" if prior is None else "map",
        diagnostics=tuple(notes),
        std_errors=std_errors,
    )


def _pooled_gap(x, T):
    """Sum of customer ages over the sum of repeat purchases (time between purchases)."""
    return float(T.sum() / x.sum())


def fit_bgnbd(frequency, recency, T, min_customers=MIN_CUSTOMERS, prior=None):
    """Fit BG/NBD (Fader, Hardie & Lee 2005); return :class:`BetaGeoFit`.

    ``prior=None`` is maximum likelihood, a :class:`LogNormalPrior` (e.g.
    ``WEAK_PURCHASE_PRIOR``) gives the MAP estimate. Raises :class:`CLVFitError` when fewer
    than ``min_customers`` customers are given or fewer than three of them made a repeat
    purchase (the dropout process is then not identified).
    """
    return _fit_purchase("bgnbd", frequency, recency, T, min_customers, prior)


def fit_mbgnbd(frequency, recency, T, min_customers=MIN_CUSTOMERS, prior=None):
    """Fit MBG/NBD (Batislam, Denizel & Filiztekin 2007); return :class:`ModifiedBetaGeoFit`.

    Same arguments and refusals as :func:`fit_bgnbd`.
    """
    return _fit_purchase("mbgnbd", frequency, recency, T, min_customers, prior)


def fit_purchase_model(kind, frequency, recency, T, min_customers=MIN_CUSTOMERS, prior=None):
    """Fit the purchase model named ``kind`` ("bgnbd" or "mbgnbd")."""
    return _fit_purchase(kind, frequency, recency, T, min_customers, prior)


# ---------------------------------------------------------------------------------------------
# purchase models: predictions


def _log_alive_odds(model, x, t_x, T):
    """log((1 - P(alive)) / P(alive)) = ln(a / (b+x+k-1)) + (r+x) ln((alpha+T)/(alpha+t_x)).

    -inf where the dropout branch does not exist (BG/NBD one-time buyers).
    """
    r, alpha, a, b = model.params
    k = _shift(model)
    has3 = x + k > 0
    bxk1 = np.where(has3, b + x + k - 1, 1.0)
    log_odds = np.log(a) - np.log(bxk1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return np.where(has3, log_odds, -np.inf)


def probability_alive(model, frequency, recency, T):
    """P(alive at T | x, t_x, T), vectorised, for either purchase model.

    BG/NBD (Fader, Hardie & Lee 2005 note, eq. 11): 1 / (1 + a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))
    for x > 0 and 1 for x = 0. MBG/NBD (Batislam et al. 2007): a/(b+x) in place of a/(b+x-1),
    for every x, so a one-time buyer is not certainly alive.
    """
    x, t_x, T = _check_rft(frequency, recency, T)
    return special.expit(-_log_alive_odds(model, x, t_x, T))


def _conditional_expected_raw(params, k, t, x, t_x, T, p_alive):
    r, alpha, a, b = params
    z = t / (alpha + T + t)
    hyp = special.hyp2f1(r + x, b + x + k, a + b + x + k - 1, z)
    log_shrink = (r + x) * (np.log(alpha + T) - np.log(alpha + T + t))
    return (a + b + x + k - 1) / (a - 1) * (1 - np.exp(log_shrink) * hyp) * p_alive


def conditional_expected_purchases(model, t, frequency, recency, T):
    """E[Y(t) | x, t_x, T]: expected purchases in the next t periods, vectorised.

    (a+b+x+k-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x+k; a+b+x+k-1;
    t/(alpha+T+t))] P(alive), with k = 0 for BG/NBD (Fader, Hardie & Lee 2005, eq. 10) and
    k = 1 for MBG/NBD (Batislam et al. 2007). The expression is 0/0 at a = 1; within 1e-5 of
    it the mean at a +- 1e-5 is used (smooth in a: error ~1e-10).
    """
    x, t_x, T = _check_rft(frequency, recency, T)
    t = _check_period(t)
    r, alpha, a, b = model.params
    k = _shift(model)
    if t == 0:
        return np.zeros_like(x)
    p_alive = special.expit(-_log_alive_odds(model, x, t_x, T))
    with np.errstate(all="ignore"):
        if abs(a - 1) < 1e-5:
            result = 0.5 * (
                _conditional_expected_raw((r, alpha, 1 - 1e-5, b), k, t, x, t_x, T, p_alive)
                + _conditional_expected_raw((r, alpha, 1 + 1e-5, b), k, t, x, t_x, T, p_alive)
            )
        else:
            result = _conditional_expected_raw((r, alpha, a, b), k, t, x, t_x, T, p_alive)
    if not np.all(np.isfinite(result)):
        raise CLVFitError("The purchase model gives no finite forecast for this horizon.")
    return np.maximum(result, 0.0)


def expected_purchases_new(model, t):
    """E[X(t)]: expected purchases of a new customer in a period of length t.

    The conditional expectation at x = t_x = T = 0: BG/NBD (a+b-1)/(a-1) [1 - (alpha/(alpha+t))^r
    2F1(r, b; a+b-1; t/(alpha+t))] (FHL 2005, eq. 7); MBG/NBD b/(a-1) [1 - (alpha/(alpha+t))^r
    2F1(r, b+1; a+b; t/(alpha+t))] (Batislam et al. 2007).
    """
    t = np.asarray(t, dtype=float)
    flat = t.reshape(-1)
    values = [float(conditional_expected_purchases(model, v, [0.0], [0.0], [0.0])[0]) for v in flat]
    return np.asarray(values).reshape(t.shape)


def probability_no_purchase(model, t, frequency, recency, T):
    """P(Y(t) = 0 | x, t_x, T): probability of no purchase in the next t periods.

    Dropout only happens right after a purchase, so a customer alive at T makes no purchase in
    (T, T+t] exactly when the Poisson process has no event, and given the history and being
    alive lambda ~ Gamma(r+x, alpha+T)::

        P(Y(t) = 0) = 1 - P(alive) + P(alive) ((alpha+T)/(alpha+T+t))^(r+x)

    Same formula for both models (with each model's P(alive)).
    """
    x, t_x, T = _check_rft(frequency, recency, T)
    t = _check_period(t)
    r = model.r
    alpha = model.alpha
    p_alive = special.expit(-_log_alive_odds(model, x, t_x, T))
    quiet = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t)))
    return np.clip(1.0 - p_alive + p_alive * quiet, 0.0, 1.0)


# ---------------------------------------------------------------------------------------------
# Gamma-Gamma


def gamma_gamma_loglik(params, x, m, weights=None):
    """Per-row log-likelihood of the Gamma-Gamma spend model (x > 0, m > 0).

    ln f(m | x) = lnG(px+q) - lnG(px) - lnG(q) + q ln g + (px-1) ln m + px ln x
                  - (px+q) ln(g + m x)   (Fader, Hardie & Lee 2005, iso-value curves)
    """
    p, q, g = params
    px = p * x
    ll = (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(g)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(g + m * x)
    )
    return ll if weights is None else ll * weights


class _Spends:
    """Repeat buyers' (x, m) with the parameter-free sums of the likelihood precomputed."""

    def __init__(self, x, m):
        self.ux, self.xi = np.unique(x, return_inverse=True)
        self.W = np.bincount(self.xi).astype(float)
        self.x = x
        self.mx = m * x
        self.n = float(len(x))
        log_m = np.log(m)
        self.sum_x_log_mx = _dot(x, log_m + np.log(x))
        self.sum_log_m = float(log_m.sum())


def _gamma_gamma_ll_grad(log_params, s):
    """Total Gamma-Gamma log-likelihood and gradient over (log p, log q, log gamma)::

        d/dp = x (psi(px+q) - psi(px) + ln m + ln x - ln(g+mx))
        d/dq = psi(px+q) - psi(q) + ln g - ln(g+mx)
        d/dg = q/g - (px+q)/(g+mx)

    summed over customers, then times the parameter (chain rule for logs).
    """
    p, q, g = np.exp(log_params)
    ux, W = s.ux, s.W
    pu = p * ux
    g_mx = g + s.mx
    log_gmx = np.log(g_mx)
    inv_gmx = 1.0 / g_mx
    # sums over customers of (x, 1) times ln(g + m x) and 1 / (g + m x)
    x_log, sum_log = _dot(s.x, log_gmx), float(np.add.reduce(log_gmx))
    x_inv, sum_inv = _dot(s.x, inv_gmx), float(np.add.reduce(inv_gmx))
    ll = (
        _dot(W, special.gammaln(pu + q) - special.gammaln(pu))
        - s.n * special.gammaln(q)
        + s.n * q * np.log(g)
        + p * s.sum_x_log_mx
        - s.sum_log_m
        - p * x_log
        - q * sum_log
    )
    psi_pq = special.digamma(pu + q)
    d_p = _dot(W * ux, psi_pq - special.digamma(pu)) + s.sum_x_log_mx - x_log
    d_q = _dot(W, psi_pq) - s.n * special.digamma(q) + s.n * np.log(g) - sum_log
    d_g = s.n * q / g - p * x_inv - q * sum_inv
    return float(ll), np.array([d_p * p, d_q * q, d_g * g])


def gamma_gamma_loglik_grad(params, frequency, monetary_value):
    """Total Gamma-Gamma log-likelihood at ``params`` = (p, q, gamma) over the repeat buyers and
    its gradient with respect to (log p, log q, log gamma); exposed for tests."""
    x, m = _check_spends(frequency, monetary_value)
    return _gamma_gamma_ll_grad(np.log(np.asarray(params, dtype=float)), _Spends(x, m))


def _check_spends(frequency, monetary_value):
    x = _check_frequency(frequency)
    m = _as_array("monetary_value", monetary_value)
    if x.shape != m.shape:
        raise CLVDataError("frequency and monetary_value must have the same length.")
    keep = x > 0
    if np.any(m[keep] <= 0):
        raise CLVDataError("The average spend of repeat buyers must be positive.")
    return x[keep], m[keep]


def fit_gamma_gamma(frequency, monetary_value, min_customers=MIN_REPEAT_CUSTOMERS, prior=None):
    """Fit Gamma-Gamma on the customers with repeat purchases; return :class:`GammaGammaFit`.

    Rows with ``frequency == 0`` are ignored (their average repeat spend is undefined).
    ``prior=None`` is maximum likelihood, ``WEAK_SPEND_PRIOR`` the MAP estimate.
    """
    x, m = _check_spends(frequency, monetary_value)
    n = len(x)
    if n < min_customers:
        raise CLVFitError(
            Message(
                _(
                    "At least %(needed)s repeat buyers are needed to fit the spend model (got %(got)s)."
                ),
                needed=min_customers,
                got=n,
            )
        )
    if np.ptp(m) <= 1e-9 * max(1.0, float(np.max(m))):
        raise CLVFitError(
            Message(_("All customers spend exactly the same: the spend model is not identified."))
        )
    if prior is not None and len(prior.mean) != 3:
        raise CLVDataError("The spend model's prior needs three parameters (p, q, gamma).")
    # Fit in a unit where spends are around 1 (the scale parameter gamma absorbs it).
    scale = float(np.median(m))
    s = _Spends(x, m / scale)
    fun = _objective(lambda theta: _gamma_gamma_ll_grad(theta, s), s.n, prior)
    theta, nit, H = _estimate(fun, 3, s.n, "spend (Gamma-Gamma)", prior)
    with np.errstate(all="ignore"):
        ll, _grad = _gamma_gamma_ll_grad(theta, s)
    if not np.isfinite(ll):
        raise CLVFitError(
            Message(
                _("The %(model)s model could not be fitted: the likelihood is not finite."),
                model="spend (Gamma-Gamma)",
            )
        )
    p, q, g = (float(v) for v in np.exp(theta))
    g *= scale
    names = GammaGammaFit.param_names
    notes = _at_bound_notes(theta, names, (p, q, g))
    if p > MAX_SPEND_SHAPE:
        notes.append(
            Message(
                _(
                    "The spend model treats every purchase of a customer as costing the same "
                    "(p = %(p)s): the spread of single purchases is not estimated."
                ),
                p=f"{p:,.0f}",
            )
        )
    if q <= 1:
        notes.append(
            Message(
                _(
                    "The spend model has no finite mean (q = %(q)s <= 1): spends are too "
                    "dispersed to forecast."
                ),
                q=f"{q:.3g}",
            )
        )
    curvature_notes, se = _curvature(H, names, prior)
    notes.extend(curvature_notes)
    # Rescaling m by `scale` shifts the log-likelihood by the Jacobian -n log(scale).
    return GammaGammaFit(
        p=p,
        q=q,
        gamma=g,
        loglik=float(ll - n * np.log(scale)),
        n_customers=n,
        iterations=nit,
        method="mle" if prior is None else "map",
        diagnostics=tuple(notes),
        std_errors=None if se is None else tuple(float(v) for v in se * (p, q, g)),
    )


def expected_average_spend(model, frequency, monetary_value):
    """E[M | x, m_x] = p (gamma + x m_x) / (p x + q - 1): expected spend per future purchase
    (Fader, Hardie & Lee 2005, iso-value curves); the population mean p gamma / (q - 1) when
    x = 0."""
    p, q, g = model.p, model.q, model.gamma
    if q <= 1:
        raise CLVFitError(
            "The spend model has no finite mean (q <= 1): spends are too dispersed to forecast."
        )
    x = _check_frequency(frequency)
    m = _as_array("monetary_value", monetary_value)
    if x.shape != m.shape:
        raise CLVDataError("frequency and monetary_value must have the same length.")
    m = np.where(x > 0, m, 0.0)
    return p * (g + x * m) / (p * x + q - 1)


# ---------------------------------------------------------------------------------------------
# CLV


def discounted_clv(
    bgnbd,
    gamma_gamma,
    frequency,
    recency,
    T,
    monetary_value,
    horizon_months=12,
    discount_rate=0.1,
    days_per_unit=7.0,
    margin_ratio=1.0,
):
    """Discounted value of the purchases expected in the next ``horizon_months`` months.

    ``bgnbd`` is any purchase fit (BG/NBD or MBG/NBD). Expected purchases are taken month by
    month (E[Y(m)] - E[Y(m-1)]), valued at the expected spend per purchase times
    ``margin_ratio`` (scalar or per-customer array; 1 = revenue), and discounted at the monthly
    equivalent of the annual ``discount_rate``.
    """
    _check_horizon(horizon_months, discount_rate)
    x, t_x, T = _check_rft(frequency, recency, T)
    spend = expected_average_spend(gamma_gamma, x, monetary_value) * np.asarray(margin_ratio)
    monthly = (1 + discount_rate) ** (1 / 12) - 1
    unit_per_month = DAYS_PER_MONTH / days_per_unit
    value = np.zeros_like(x)
    previous = np.zeros_like(x)
    for month in range(1, int(horizon_months) + 1):
        current = conditional_expected_purchases(bgnbd, month * unit_per_month, x, t_x, T)
        value += (current - previous) / (1 + monthly) ** month
        previous = current
    return value * spend


# ---------------------------------------------------------------------------------------------
# simulation (tests and benchmarks)


def _simulate(r, alpha, a, b, T, rng, horizon, modified):
    T = np.asarray(T, dtype=float)
    n = len(T)
    lam = rng.gamma(r, 1 / alpha, n)
    drop = rng.beta(a, b, n)
    now = np.zeros(n)
    x = np.zeros(n)
    t_x = np.zeros(n)
    future = np.zeros(n)
    alive_at_T = np.ones(n, dtype=bool)
    end = T + horizon
    running = np.ones(n, dtype=bool)
    if modified:
        # MBG/NBD: the first purchase (time 0) is followed by a dropout chance as well.
        gone = rng.random(n) < drop
        running[gone] = False
        alive_at_T[gone] = False
    while running.any():
        idx = np.flatnonzero(running)
        now[idx] += rng.exponential(1 / np.maximum(lam[idx], 1e-12))
        in_window = now[idx] <= end[idx]
        stop = idx[~in_window]
        running[stop] = False
        hit = idx[in_window]
        calib = hit[now[hit] <= T[hit]]
        x[calib] += 1
        t_x[calib] = now[calib]
        fut = hit[now[hit] > T[hit]]
        future[fut] += 1
        dies = hit[rng.random(len(hit)) < drop[hit]]
        running[dies] = False
        alive_at_T[dies[now[dies] <= T[dies]]] = False
    return x, t_x, future, alive_at_T


def simulate_bgnbd(r, alpha, a, b, T, rng, horizon=0.0):
    """Draw customers from BG/NBD; return (x, t_x, future purchases in (T, T + horizon], alive).

    ``T`` is an array of customer ages. ``alive`` says whether each customer is still active
    at T. Used to check parameter recovery and closed forms against brute force.
    """
    return _simulate(r, alpha, a, b, T, rng, horizon, modified=False)


def simulate_mbgnbd(r, alpha, a, b, T, rng, horizon=0.0):
    """Draw customers from MBG/NBD (dropout possible right after the first purchase too);
    same return value as :func:`simulate_bgnbd`."""
    return _simulate(r, alpha, a, b, T, rng, horizon, modified=True)


def simulate_gamma_gamma(p, q, gamma, frequency, rng):
    """Draw the average spend of each customer's ``frequency`` purchases from Gamma-Gamma."""
    x = np.asarray(frequency, dtype=int)
    nu = rng.gamma(q, 1 / gamma, len(x))
    # The mean of x Gamma(p, nu) draws is Gamma(p x, nu x).
    shape = np.maximum(p * x, 1e-12)
    m = rng.gamma(shape, 1 / (nu * np.maximum(x, 1)))
    return np.where(x > 0, m, 0.0)
