"""Purchase propensity: the features of a (customer, category) pair, a regularised logistic
regression, and the AUC that judges it.

Plain numpy/scipy (no Odoo import). The Odoo model reads the company's sales once, as
:class:`History` rows (one row per category bought in an order). :func:`candidates` builds,
for any cut-off day, the pairs worth scoring with their features and whether the customer
bought the category in the period after the cut-off: training (cut-off one period ago, labels
known) and scoring (cut-off today) share that one read. :func:`fit_logistic` standardises the
features and minimises the penalised log-loss by Newton's method; :func:`top_per_customer`
keeps each customer's most likely categories. :func:`auc` is the Mann-Whitney statistic with
average ranks for ties.
"""

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy import special

# Categories related to a category: the RELATED_CATEGORIES of highest lift (above 1) among
# those bought with it in at least MIN_PAIR_ORDERS orders. Candidates stay a few per customer.
RELATED_CATEGORIES = 5
MIN_PAIR_ORDERS = 3
# Days of the decay of the recency in a category (exp(-days / RECENCY_DAYS)).
RECENCY_DAYS = 180.0
# The columns of Candidates.features.
FEATURES = (
    "log_category_orders",  # ln(1 + the customer's orders with the category)
    "bought_category",  # 1 when the customer bought the category (in the window)
    "category_recency",  # exp(-days since their last order with it / RECENCY_DAYS), or 0
    "log_orders",  # ln(1 + the customer's orders)
    "recency_years",  # days since the customer's last order / 365
    "log_lift",  # ln of the best lift to the category from one they bought (0: none)
    "base_rate",  # share of the customers who bought the category in the last period
)


class PropensityError(ValueError):
    """The propensity model cannot be trained on these data (message for the end user)."""


@dataclass(frozen=True)
class History:
    """Sales as rows: one row per category bought in an order, sorted by customer, category,
    day and order. Per row, ``partner``, ``categ`` and ``order`` are indexes into
    ``partners``, ``categories`` (the ids) and the orders (``order_partner``: the customer of
    each order); ``day`` is an integer (days from any fixed origin). Build with
    :meth:`from_rows`; :func:`candidates` reads it for any cut-off."""

    partner: np.ndarray
    categ: np.ndarray
    day: np.ndarray
    order: np.ndarray
    partners: np.ndarray
    categories: np.ndarray
    order_partner: np.ndarray

    @classmethod
    def from_rows(cls, order, partner, day, categ):
        """The history of (order id, customer id, day, category id) rows, each order with
        one customer and one day; a category repeated in an order counts once."""
        order, partner, day, categ = (
            np.asarray(column, dtype=np.int64).ravel() for column in (order, partner, day, categ)
        )
        if not len(order) == len(partner) == len(day) == len(categ):
            raise PropensityError("The sales rows must have one order, customer, day, category.")
        partners, partner = _dense(partner)
        categories, categ = _dense(categ)
        orders, order = _dense(order)
        span = int(day.max() - day.min()) + 1 if len(day) else 1
        if len(partners) * len(categories) * span < 2**62:
            key = (partner * len(categories) + categ) * span + (day - day.min())
            sort = np.lexsort((order, key))
        else:
            sort = np.lexsort((order, day, categ, partner))
        partner, categ, day, order = partner[sort], categ[sort], day[sort], order[sort]
        first = _run_starts(partner, categ, day, order)
        order_partner = np.zeros(len(orders), dtype=np.int64)
        order_partner[order] = partner
        return cls(
            partner[first],
            categ[first],
            day[first],
            order[first],
            partners,
            categories,
            order_partner,
        )

    def __len__(self):
        return len(self.order)


@dataclass(frozen=True)
class Candidates:
    """(customer, category) pairs at a cut-off, sorted by customer then category id:
    ``features`` (a row per pair, columns :data:`FEATURES`) and ``bought`` (the customer
    bought the category in the period after the cut-off, as far as the history goes)."""

    partner: np.ndarray
    categ: np.ndarray
    features: np.ndarray
    bought: np.ndarray

    def __len__(self):
        return len(self.partner)

    def subset(self, mask):
        """The candidates selected by ``mask`` (booleans or indexes)."""
        return Candidates(
            self.partner[mask], self.categ[mask], self.features[mask], self.bought[mask]
        )


def _dense(values):
    """(the distinct values, sorted; the index of each value among them)."""
    if not len(values):
        return values, values.copy()
    low = values.min()
    size = int(values.max() - low) + 1
    if size > 4 * len(values) + 1024:  # sparse ids: sort them
        return np.unique(values, return_inverse=True)
    present = np.zeros(size, dtype=bool)
    present[values - low] = True
    position = np.cumsum(present) - 1
    return np.flatnonzero(present) + low, position[values - low]


def _sorted_unique(values):
    """numpy.unique by sorting (its hash table is slow on keys with equal low bits)."""
    values = np.sort(values)
    return values[_run_starts(values)]


def _run_starts(*keys):
    """Indexes where a run of equal rows starts, in rows sorted by ``keys``."""
    new = np.ones(len(keys[0]), dtype=bool)
    if len(new):
        new[1:] = False
        for key in keys:
            new[1:] |= key[1:] != key[:-1]
    return np.flatnonzero(new)


def related_categories(
    order, categ, n_categories, related=RELATED_CATEGORIES, min_orders=MIN_PAIR_ORDERS
):
    """(x, y, lift) of the category pairs that make y a candidate for a buyer of x, sorted by
    x: for each x, the ``related`` categories y of highest lift (ties: lowest y) among those
    bought with x in at least ``min_orders`` orders, kept when the lift is above 1.

    ``order`` and ``categ`` (indexes below ``n_categories``) are the baskets as distinct
    (order, category) rows; lift(x, y) = orders(x and y) * orders / (orders(x) orders(y)).
    """
    orders, order = _dense(np.asarray(order, dtype=np.int64))
    baskets = sparse.csr_matrix(
        (np.ones(len(order), dtype=np.int64), (order, categ)),
        shape=(len(orders), n_categories),
    )
    together = (baskets.T @ baskets).tocoo()
    single = np.bincount(categ, minlength=n_categories).astype(float)
    x, y, count = together.row, together.col, together.data
    pair = (x != y) & (count >= min_orders)
    x, y, count = x[pair], y[pair], count[pair]
    lift = count * len(orders) / (single[x] * single[y])
    sort = np.lexsort((y, -lift, x))
    x, y, lift = x[sort], y[sort], lift[sort]
    starts = _run_starts(x)
    rank = np.arange(len(x)) - np.repeat(starts, np.diff(np.r_[starts, len(x)]))
    keep = (rank < related) & (lift > 1)
    return x[keep], y[keep], lift[keep]


def candidates(history, as_of, start, period, related=RELATED_CATEGORIES):
    """The (customer, category) candidates of ``history`` at the cut-off ``as_of`` (a day).

    The window [start, as_of) is the past: its customers are those with an order in it, and
    their candidates the categories they bought in it and those related to one they bought
    (:func:`related_categories`, computed on the window's orders). ``bought`` tells whether
    the customer bought the category in [as_of, as_of + period). Returns None when nobody
    bought in the window.
    """
    h = history
    past = (h.day >= start) & (h.day < as_of)
    partner, categ, day, order = h.partner[past], h.categ[past], h.day[past], h.order[past]
    if not len(order):
        return None
    k = len(h.categories)
    # the customers (rows are sorted by customer, category, day)
    customer_starts = _run_starts(partner)
    customers = partner[customer_starts]
    n = len(customers)
    customer = np.repeat(np.arange(n), np.diff(np.r_[customer_starts, len(partner)]))
    customer_of = np.full(len(h.partners), -1)
    customer_of[customers] = np.arange(n)
    in_window = np.zeros(len(h.order_partner), dtype=bool)
    in_window[order] = True
    customer_orders = np.bincount(customer_of[h.order_partner[in_window]], minlength=n)
    customer_last = np.maximum.reduceat(day, customer_starts)
    # the categories each customer bought: orders and last day
    pair_starts = _run_starts(partner, categ)
    pair_ends = np.r_[pair_starts[1:], len(partner)]
    pair_categ = categ[pair_starts]
    bought_key = customer[pair_starts] * k + pair_categ
    bought_orders = pair_ends - pair_starts
    bought_last = day[pair_ends - 1]
    # the related categories: the best lift from a category the customer bought
    x, y, lift = related_categories(order, categ, k, related)
    per_x = np.bincount(x, minlength=k)
    fan = per_x[pair_categ]
    link = np.repeat(np.cumsum(per_x)[pair_categ] - fan, fan) + (
        np.arange(fan.sum()) - np.repeat(np.cumsum(fan) - fan, fan)
    )
    related_key = np.repeat(customer[pair_starts], fan) * k + y[link]
    related_lift = lift[link]
    sort = np.lexsort((-related_lift, related_key))
    best = sort[_run_starts(related_key[sort])]
    related_key, related_lift = related_key[best], related_lift[best]
    # the candidates and their features
    key = _sorted_unique(np.r_[bought_key, related_key]) if len(related_key) else bought_key
    cust, cat = key // k, key % k
    in_bought, at_bought = lookup(bought_key, key)
    in_related, at_related = lookup(related_key, key)
    recent = bought_last >= as_of - period
    base_rate = np.bincount(pair_categ[recent], minlength=k) / n
    features = np.zeros((len(key), len(FEATURES)))
    features[in_bought, 0] = np.log1p(bought_orders[at_bought])
    features[in_bought, 1] = 1.0
    features[in_bought, 2] = np.exp(-(as_of - bought_last[at_bought]) / RECENCY_DAYS)
    features[:, 3] = np.log1p(customer_orders[cust])
    features[:, 4] = (as_of - customer_last[cust]) / 365.0
    features[in_related, 5] = np.log(related_lift[at_related])
    features[:, 6] = base_rate[cat]
    # the labels: bought in [as_of, as_of + period)
    after = (h.day >= as_of) & (h.day < as_of + period)
    buyer = customer_of[h.partner[after]]
    known = buyer >= 0
    after_key = _sorted_unique(buyer[known] * k + h.categ[after][known])
    bought = np.isin(key, after_key, assume_unique=True)
    return Candidates(h.partners[customers[cust]], h.categories[cat], features, bought)


def lookup(sorted_keys, keys):
    """(found, index): which ``keys`` are in ``sorted_keys`` and where (for those found)."""
    index = np.searchsorted(sorted_keys, keys)
    inside = index < len(sorted_keys)
    found = np.zeros(len(keys), dtype=bool)
    found[inside] = sorted_keys[index[inside]] == keys[inside]
    return found, index[found]


def top_per_customer(partner, probability, top):
    """(indexes, ranks from 1) of each customer's ``top`` most likely rows (ties: first row),
    customers in increasing order."""
    order = np.lexsort((-np.asarray(probability), partner))  # stable: ties keep their order
    starts = _run_starts(np.asarray(partner)[order])
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    keep = rank < top
    return order[keep], rank[keep] + 1


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


def fit_logistic(features, labels, l2=1e-3, tolerance=1e-9, max_iterations=100):
    """Fit P(label = 1 | features) by penalised maximum likelihood: mean log-loss plus
    ``l2`` times the squared weights (the intercept is not penalised), on standardised
    features. Newton's method with step halving; the objective is strictly convex, so the
    optimum is unique. Raise PropensityError when a class is missing."""
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
    # a constant feature is 0 once standardised: its weight is 0, leave it out of the solve
    varying = scale > 0
    scale[~varying] = 1.0
    n = len(y)
    Z = np.empty((n, 1 + varying.sum()))
    Z[:, 0] = 1.0
    Z[:, 1:] = (X[:, varying] - mean[varying]) / scale[varying]
    ridge = np.full(Z.shape[1], 2 * l2)
    ridge[0] = 0.0

    def loss(eta, w):
        # log(1 + e^eta) - y eta, stable for large |eta|
        value = np.logaddexp(0.0, eta) - y * eta
        return value.sum() / n + l2 * (w[1:] @ w[1:])

    w = np.zeros(Z.shape[1])
    w[0] = special.logit(positives / n)
    eta = Z @ w
    value = loss(eta, w)
    for _iteration in range(max_iterations):
        p = special.expit(eta)
        grad = Z.T @ (p - y) / n + ridge * w
        if np.abs(grad).max() < tolerance:
            break
        hessian = Z.T @ (Z * (p * (1 - p))[:, None]) / n + np.diag(ridge)
        step = np.linalg.lstsq(hessian, grad, rcond=None)[0]
        z_step = Z @ step
        t = 1.0
        while t > 1e-8:
            new_value = loss(eta - t * z_step, w - t * step)
            if new_value <= value:
                break
            t /= 2
        else:
            break
        w, value, eta = w - t * step, new_value, eta - t * z_step
        if t * np.abs(step).max() < tolerance:
            break
    if not np.isfinite(value):
        raise PropensityError("The propensity model did not converge.")
    weights = np.zeros(1 + X.shape[1])
    weights[0] = w[0]
    weights[1:][varying] = w[1:]
    return LogisticFit(weights=weights, mean=mean, scale=scale, loglik=float(-value * n))


def auc(scores, labels):
    """Area under the ROC curve (probability a random buyer outranks a random non-buyer)."""
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=bool)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if not n_pos or not n_neg:
        raise PropensityError("The AUC needs both buyers and non-buyers.")
    # average ranks (ties share theirs), from one sort
    order = np.argsort(s)
    sorted_scores = s[order]
    starts = _run_starts(sorted_scores)
    sizes = np.diff(np.r_[starts, len(s)])
    ranks = np.repeat(starts + (sizes + 1) / 2, sizes)
    return float((ranks[y[order]].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
