"""Holdout validation of the purchase models, and the naive churn rule they have to beat.

Plain numpy/scipy, no Odoo import. The caller summarises each customer's history up to a
cut-off N months before today (calibration: x, t_x, T as in :mod:`.clv`) and counts their
purchases in the last N months (holdout, same unit as the times). Then:

- :func:`validate_holdout` judges one fit: predicted vs actual purchases in aggregate, and how
  well it ranks churners (customers with no purchase in the holdout) by AUC, next to the naive
  rule's AUC on the same customers.
- :func:`select_model` fits the candidate models (BG/NBD and MBG/NBD, MAP by default) on the
  calibration data, validates each and keeps the best; ``beats_naive`` says whether its churn
  ranking is better than the rule's. Where it is not, churn should come from
  :func:`naive_churn_probability` (with the calibration the selection returns).

The churn score of a model is P(no purchase in the holdout | history)
(:func:`.clv.probability_no_purchase`), not 1 - P(alive): it is the model's probability of
exactly the event the label records, so the comparison is fair, and it still ranks the
one-time buyers that BG/NBD calls alive with certainty (1 - P(alive) ties them all at 0). The
AUC of 1 - P(alive) is reported too (``alive_auc``).

The naive rule (what a salesperson does by eye): silence ratio = time since the last purchase
/ the customer's usual gap between purchases (t_x / x, the mean gap over the calibration).
A one-time buyer has no gap of their own: they are given the median usual gap of the repeat
buyers, i.e. judged against the typical customer's rhythm (their silence is their age T).
"""

from dataclasses import dataclass

import numpy as np
from scipy import special

from . import clv
from . import propensity

DEFAULT_CANDIDATES = ("bgnbd", "mbgnbd")
# Candidates whose AUCs differ by less than this are ranked by their aggregate purchase error.
AUC_TOLERANCE = 0.005


@dataclass(frozen=True)
class NaiveCalibration:
    """P(no purchase in the holdout) = expit(intercept + slope * ln(1 + silence ratio))."""

    intercept: float
    slope: float


@dataclass(frozen=True)
class HoldoutValidation:
    """How a fit did on the holdout (see :func:`validate_holdout`).

    ``purchase_error`` is (predicted - actual) / actual (None when nobody bought in the
    holdout). AUCs are None when the holdout has only churners or only buyers.
    """

    fit: object
    kind: str
    n_customers: int
    holdout_length: float
    predicted_purchases: float
    actual_purchases: float
    purchase_error: float | None
    churned_share: float
    auc: float | None
    alive_auc: float | None
    naive_auc: float | None

    @property
    def beats_naive(self):
        """True when the model ranks churners strictly better than the naive rule."""
        return self.auc is not None and self.naive_auc is not None and self.auc > self.naive_auc


@dataclass(frozen=True)
class ModelSelection:
    """Result of :func:`select_model`.

    ``best`` is the chosen candidate's validation (its ``fit`` is estimated on the calibration
    data only: refit ``best.kind`` on the whole window to score customers today), None when no
    candidate could be fitted. ``failures`` holds (kind, message) of the candidates that could
    not. ``naive_calibration`` maps the rule to a probability (None when the holdout has a
    single class).
    """

    best: HoldoutValidation | None
    candidates: tuple
    failures: tuple
    naive_auc: float | None
    naive_calibration: NaiveCalibration | None

    @property
    def beats_naive(self):
        return self.best is not None and self.best.beats_naive

    @property
    def churn_source(self):
        """Where churn should come from: "model" when it beats the naive rule, else "naive"."""
        return "model" if self.beats_naive else "naive"


def auc(scores, labels):
    """Area under the ROC curve: the Mann-Whitney statistic with average ranks for ties.

    P(score of a random positive > score of a random negative) + 1/2 P(equal scores).
    Returns None when ``labels`` hold a single class (the AUC is undefined).
    """
    s = clv._as_array("scores", scores)
    y = np.asarray(labels)
    if y.shape != s.shape:
        raise clv.CLVDataError("scores and labels must have the same length.")
    y = y.astype(bool)
    if y.all() or not y.any():
        return None
    return propensity.auc(s, y)


def usual_gap(frequency, recency, T):
    """Each customer's usual gap between purchases: t_x / x for repeat buyers, the median of
    that over the repeat buyers for one-time buyers (the median age when nobody repeated,
    1 when nobody has any history)."""
    x, t_x, T = clv._check_rft(frequency, recency, T)
    repeat = x > 0
    own = t_x / np.maximum(x, 1)
    if repeat.any():
        typical = float(np.median(own[repeat]))
    elif np.any(T > 0):
        typical = float(np.median(T[T > 0]))
    else:
        typical = 1.0
    return np.where(repeat, own, typical)


def naive_silence_ratio(frequency, recency, T):
    """The naive churn rule: (T - t_x) / usual gap (:func:`usual_gap`); 0 = just bought,
    1 = silent for one usual gap, higher = more likely gone."""
    x, t_x, T = clv._check_rft(frequency, recency, T)
    return (T - t_x) / usual_gap(x, t_x, T)


def naive_churn_probability(frequency, recency, T, calibration=None):
    """The naive rule as a probability-like churn score in [0, 1], for display.

    With a :class:`NaiveCalibration` (from :func:`calibrate_naive_rule` or
    :func:`select_model`): expit(intercept + slope ln(1 + ratio)), the share of customers with
    that silence ratio who did not buy in a holdout of the same length: a real probability of
    "no purchase in the next holdout-length period".

    Without one: 1 - exp(-ratio), the probability that a customer still buying at their usual
    rhythm (a Poisson process with their mean gap) would have bought again by now; 0 right
    after a purchase, 0.63 after one usual gap of silence, 0.95 after three. A monotone
    stand-in, not calibrated.
    """
    ratio = naive_silence_ratio(frequency, recency, T)
    if calibration is None:
        return -np.expm1(-ratio)
    return special.expit(calibration.intercept + calibration.slope * np.log1p(ratio))


def calibrate_naive_rule(frequency, recency, T, churned):
    """Fit :class:`NaiveCalibration` (logistic regression of the holdout's churn label on
    ln(1 + silence ratio)); the slope is kept >= 0 so a longer silence never lowers the score.
    Returns None when ``churned`` holds a single class."""
    ratio = naive_silence_ratio(frequency, recency, T)
    y = np.asarray(churned).astype(bool)
    if y.shape != ratio.shape:
        raise clv.CLVDataError("churned must have one value per customer.")
    share = float(y.mean()) if len(y) else 0.0
    if share in (0.0, 1.0):
        return None
    feature = np.log1p(ratio)
    if np.ptp(feature) > 0:
        fit = propensity.fit_logistic(feature[:, None], y)
        slope = float(fit.weights[1] / fit.scale[0])
        intercept = float(fit.weights[0] - slope * fit.mean[0])
        if slope > 0:
            return NaiveCalibration(intercept=intercept, slope=slope)
    return NaiveCalibration(intercept=float(special.logit(share)), slope=0.0)


def _check_holdout(x, holdout_purchases, holdout_length):
    y = clv._as_array("holdout purchases", holdout_purchases)
    if y.shape != x.shape:
        raise clv.CLVDataError("holdout purchases must have one value per customer.")
    if np.any(y < 0) or np.any(y != np.round(y)):
        raise clv.CLVDataError("holdout purchases must be whole numbers, at least 0.")
    length = np.asarray(holdout_length, dtype=float)
    if length.ndim != 0 or not np.isfinite(length) or length <= 0:
        raise clv.CLVDataError("The holdout length must be a positive number.")
    return y, float(length)


def validate_holdout(model, frequency, recency, T, holdout_purchases, holdout_length):
    """Validate a purchase fit on the holdout; return :class:`HoldoutValidation`.

    ``frequency``, ``recency``, ``T`` summarise the calibration window; ``holdout_purchases``
    counts each customer's purchases in the ``holdout_length`` that follows (same time unit).
    Predicted purchases are E[Y(holdout_length) | history] summed over customers; the churn
    label is "no purchase in the holdout", scored by P(no purchase) (model) and by the silence
    ratio (naive rule).
    """
    x, t_x, T = clv._check_rft(frequency, recency, T)
    y, length = _check_holdout(x, holdout_purchases, holdout_length)
    predicted = float(clv.conditional_expected_purchases(model, length, x, t_x, T).sum())
    actual = float(y.sum())
    churned = y == 0
    return HoldoutValidation(
        fit=model,
        kind=model.kind,
        n_customers=len(x),
        holdout_length=length,
        predicted_purchases=predicted,
        actual_purchases=actual,
        purchase_error=(predicted - actual) / actual if actual > 0 else None,
        churned_share=float(churned.mean()) if len(x) else 0.0,
        auc=auc(clv.probability_no_purchase(model, length, x, t_x, T), churned),
        alive_auc=auc(1.0 - clv.probability_alive(model, x, t_x, T), churned),
        naive_auc=auc(naive_silence_ratio(x, t_x, T), churned),
    )


def _rank_key(validation):
    error = validation.purchase_error
    return abs(error) if error is not None else np.inf


def _choose(validations):
    """Highest AUC; among those within AUC_TOLERANCE of it, the smallest aggregate error."""
    if not validations:
        return None
    scored = [v for v in validations if v.auc is not None]
    if not scored:
        return min(validations, key=_rank_key)
    top = max(v.auc for v in scored)
    close = [v for v in scored if v.auc >= top - AUC_TOLERANCE]
    return min(close, key=_rank_key)


def select_model(
    frequency,
    recency,
    T,
    holdout_purchases,
    holdout_length,
    kinds=DEFAULT_CANDIDATES,
    prior=clv.WEAK_PURCHASE_PRIOR,
    min_customers=clv.MIN_CUSTOMERS,
):
    """Fit each model of ``kinds`` on the calibration data (MAP with ``prior``; None = MLE),
    validate each on the holdout and choose one; return :class:`ModelSelection`.

    The choice is the best churn ranking (AUC of P(no purchase)); candidates within
    AUC_TOLERANCE of the best are separated by the smaller aggregate purchase error, and
    without an AUC (single-class holdout) only that error counts. A candidate that cannot be
    fitted or gives no finite forecast (:class:`.clv.CLVFitError`) is listed in ``failures``
    with its message.
    """
    x, t_x, T = clv._check_rft(frequency, recency, T)
    y, length = _check_holdout(x, holdout_purchases, holdout_length)
    validations = []
    failures = []
    for kind in kinds:
        try:
            fit = clv.fit_purchase_model(kind, x, t_x, T, min_customers=min_customers, prior=prior)
            validations.append(validate_holdout(fit, x, t_x, T, y, length))
        except clv.CLVFitError as error:
            failures.append((kind, str(error)))
    churned = y == 0
    return ModelSelection(
        best=_choose(validations),
        candidates=tuple(validations),
        failures=tuple(failures),
        naive_auc=auc(naive_silence_ratio(x, t_x, T), churned),
        naive_calibration=calibrate_naive_rule(x, t_x, T, churned),
    )
