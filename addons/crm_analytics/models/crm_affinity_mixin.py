import math
from datetime import timedelta
from decimal import Decimal

import numpy as np
from scipy import sparse

from odoo import api
from odoo import fields
from odoo import models
from odoo.tools import SQL

from odoo.addons.crm_relationship.tools import pg_array

from ..tools import packed_query
from ..tools import unpack_columns

MAX_BASKET_ITEMS = 50


def sorted_unique(keys):
    """The distinct values of the int64 array ``keys``, sorted. np.unique without return_*
    hashes them instead (numpy 2.3+), which takes seconds instead of 0.1 s on a million keys
    with a customer or an order in the high bits."""
    keys = np.sort(keys)
    return keys[np.r_[True, keys[1:] != keys[:-1]]] if len(keys) else keys


def association_rules(orders, items, min_support, max_items=MAX_BASKET_ITEMS):
    """Association rules X -> Y between the items of the same orders.

    ``orders``, ``items``: one (order, item) pair per element (duplicates allowed, item 0 =
    none). ``min_support``: a float; the minimum count is ceil(min_support * orders), at least
    2, computed exactly on the decimal value (as PostgreSQL would). Apriori pruning: an item
    below the minimum count cannot be in a frequent pair; an order counts for the pairs when
    it has 2 to ``max_items`` frequent items. Co-occurrences are one sparse product X.T @ X
    over orders x items.

    Returns a dict of arrays, one element per rule, sorted by (x, y): x, y, count, support
    (count / orders), confidence (count / orders with x), lift (count * orders / (orders
    with x * orders with y)), floats computed in the order of the former SQL.
    """
    empty = np.zeros(0, dtype=np.int64)
    rules = {
        "x": empty,
        "y": empty,
        "count": empty,
        "support": empty.astype(float),
        "confidence": empty.astype(float),
        "lift": empty.astype(float),
    }
    known = items != 0
    orders, items = np.asarray(orders)[known], np.asarray(items)[known]
    if not len(items):
        return rules
    pairs = sorted_unique(orders.astype(np.int64) << 32 | items.astype(np.int64))
    # orders and items numbered 0..n-1: the pairs are sorted by order, the items by a table
    order_idx = np.cumsum(np.r_[True, pairs[1:] >> 32 != pairs[:-1] >> 32]) - 1
    n = int(order_idx[-1]) + 1
    item_values = pairs & 0xFFFFFFFF
    single = np.bincount(item_values)  # orders with each item (indexed by item id)
    item_ids = np.flatnonzero(single)
    min_count = max(2, math.ceil(Decimal(repr(float(min_support))) * n))
    frequent = single[item_values] >= min_count
    basket_size = np.bincount(order_idx[frequent], minlength=n)
    in_basket = frequent & (basket_size[order_idx] >= 2) & (basket_size[order_idx] <= max_items)
    columns = (np.cumsum(single > 0) - 1)[item_values[in_basket]]
    rows_per_order = np.bincount(order_idx[in_basket], minlength=n)
    matrix = sparse.csr_matrix(
        (np.ones(len(columns), dtype=np.int64), columns, np.r_[0, np.cumsum(rows_per_order)]),
        shape=(n, len(item_ids)),
    )
    both = (matrix.T @ matrix).tocoo()
    keep = (both.row != both.col) & (both.data >= min_count)
    x, y, count = both.row[keep], both.col[keep], both.data[keep].astype(np.int64)
    order = np.lexsort((y, x))
    x, y, count = x[order], y[order], count[order]
    x, y = item_ids[x], item_ids[y]
    counts = count.astype(float)
    return {
        "x": x,
        "y": y,
        "count": count,
        "support": counts / n,
        "confidence": counts / single[x],
        "lift": counts * n / (single[x] * single[y]).astype(float),
    }


class CrmAffinityMixin(models.AbstractModel):
    """Association rules X -> Y mined from co-purchases in confirmed orders.

    support = orders with X and Y / orders, confidence = P(Y | X), lift = confidence / P(Y).
    Concrete models say what an item is (a product, a category) with ``_item_column``, the
    column of the customer facts' order lines (crm.customer.facts._order_line_rows) that is
    the item, and name their two item columns ``_item_columns``. The lines are read once
    (:meth:`_basket_items`) for every kind of item; the rules are mined in numpy
    (:func:`association_rules`) and replace the company's rows.
    """

    _name = "crm.affinity.mixin"
    _description = "Co-purchase Affinity"
    _order = "lift desc, id"

    company_id = fields.Many2one("res.company", required=True, index=True, ondelete="cascade")
    pair_count = fields.Integer("Orders with Both")
    support = fields.Float(digits=(16, 6), help="Share of all orders that contain both items.")
    confidence = fields.Float(
        digits=(16, 4), help="Share of the orders with the first item that also have the second."
    )
    lift = fields.Float(
        digits=(16, 3), help="Confidence divided by the share of orders with the second item."
    )
    refreshed_at = fields.Datetime()

    _item_columns = ("product_id", "related_product_id")
    _item_column = "product_id"

    @api.model
    def _basket_items(self, company, date_from, date_to, columns=("product_id", "categ_id")):
        """{"order_id": array, column: array...}: the product lines of the company's confirmed
        orders in [date_from, date_to), one element per line (None in a column becomes 0)."""
        facts = self.env["crm.customer.facts"]
        packed = dict.fromkeys(("order_id", *columns), "int")
        lines = facts._order_line_rows(
            [company.id], facts._window(date_to - timedelta(days=1), date_from=date_from)
        )
        query = SQL(
            "SELECT %s FROM (%s) AS l",
            SQL(", ").join(SQL.identifier("l", column) for column in packed),
            lines,
        )
        return unpack_columns(self.env.execute_query(packed_query(query, packed))[0], packed)

    @api.model
    def _refresh(self, company, date_from, date_to, baskets=None):
        """Replace the company's rules with those of [date_from, date_to) above min support.

        ``baskets``: the result of :meth:`_basket_items` when the caller has read it already.
        """
        if baskets is None:
            baskets = self._basket_items(company, date_from, date_to, (self._item_column,))
        rules = association_rules(
            baskets["order_id"], baskets[self._item_column], company.crm_affinity_min_support
        )
        left, right = self._item_columns
        self.env.execute_query(
            SQL("DELETE FROM %s WHERE company_id = %s", SQL.identifier(self._table), company.id)
        )
        if len(rules["x"]):
            now = SQL("now() AT TIME ZONE 'UTC'")
            # The measures go as float8 and PostgreSQL rounds them into the numeric columns.
            self.env.execute_query(
                SQL(
                    """
                    INSERT INTO %(table)s (company_id, %(left)s, %(right)s, pair_count,
                                           support, confidence, lift, refreshed_at,
                                           create_uid, create_date, write_uid, write_date)
                    SELECT %(company)s, u.*, %(now)s, %(uid)s, %(now)s, %(uid)s, %(now)s
                      FROM unnest(%(x)s::int4[], %(y)s::int4[], %(count)s::int4[],
                                  %(support)s::float8[], %(confidence)s::float8[],
                                  %(lift)s::float8[]) AS u
                    """,
                    table=SQL.identifier(self._table),
                    left=SQL.identifier(left),
                    right=SQL.identifier(right),
                    company=company.id,
                    now=now,
                    uid=self.env.uid,
                    **{name: pg_array(values.tolist()) for name, values in rules.items()},
                )
            )
        self.invalidate_model()
