"""Purchase propensity: a regularised logistic regression and the AUC that judges it.

Plain numpy/scipy (no Odoo import). The features are built in SQL by the Odoo model; this
module only standardises them, fits the weights by L-BFGS on the penalised log-loss and
scores. ``auc`` is the Mann-Whitney statistic with average ranks for ties.
"""

from dataclasses import dataclass

import numpy as np
from scipy import optimize
from scipy import special
from scipy import stats


class PropensityError(ValueError):
    """The propensity model cannot be trained on these data (message for the end user)."""


@dataclass(frozen=True)
class LogisticFit:
    """Weights on standardised features (first weight = intercept) and the scaling used."""

    weights: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    loglik: float

    def predict(self, features):
        z = (np.asarray(features, dtype=float) - self.mean) / self.scale
        return special.expit(self.weights[0] + z @ self.weights[1:])


def fit_logistic(features, labels, l2=1e-3):
    """Fit P(label = 1 | features); raise PropensityError when a class is missing."""
    X = np.asarray(features, dtype=float)
    y = np.asarray(labels, dtype=float)
    if X.ndim != 2 or len(X) != len(y):
        raise PropensityError("features must be a 2-D array with one row per label.")
    if not np.all(np.isfinite(X)):
        raise PropensityError("features contain missing or infinite values.")
    positives = int(y.sum())
    if positives == 0 or positives == len(y):
        raise PropensityError(
            "The training period has only buyers or only non-buyers: nothing to learn from."
        )
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale == 0] = 1.0
    Z = np.column_stack([np.ones(len(X)), (X - mean) / scale])

    def loss(w):
        eta = Z @ w
        # log(1 + e^eta) - y eta, stable for large |eta|
        value = np.logaddexp(0.0, eta) - y * eta
        grad = Z.T @ (special.expit(eta) - y)
        n = len(y)
        return value.sum() / n + l2 * (w[1:] @ w[1:]), grad / n + 2 * l2 * np.r_[0.0, w[1:]]

    start = np.zeros(Z.shape[1])
    start[0] = special.logit(positives / len(y))
    res = optimize.minimize(loss, start, jac=True, method="L-BFGS-B")
    if not np.isfinite(res.fun):
        raise PropensityError("The propensity model did not converge.")
    return LogisticFit(weights=res.x, mean=mean, scale=scale, loglik=float(-res.fun * len(y)))


def auc(scores, labels):
    """Area under the ROC curve (probability a random buyer outranks a random non-buyer)."""
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=bool)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if not n_pos or not n_neg:
        raise PropensityError("The AUC needs both buyers and non-buyers.")
    ranks = stats.rankdata(s)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
