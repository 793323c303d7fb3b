import numpy as np

from odoo import api
from odoo import fields
from odoo import models
from odoo.tools import SQL

from odoo.addons.crm_relationship.tools import SCAN_SETTINGS
from odoo.addons.crm_relationship.tools import local_settings

from ..tools import packed_query
from ..tools import unpack_columns
from .crm_affinity_mixin import sorted_unique

# A (customer, product) pair as one sortable int64: the customer id in the high 32 bits.
PAIR_SHIFT = 32
PRODUCT_MASK = (1 << PAIR_SHIFT) - 1


def rank_offers(bought, rules, limit=1):
    """The best ``limit`` offers of each customer, vectorised.

    ``bought``: the distinct (customer, product) pairs bought, as sorted int64 keys
    (customer << 32 | product). ``rules``: arrays product_id, related_product_id, lift,
    confidence, sorted by product_id (the rules that may make an offer). A product is a
    candidate for a customer when a rule leads to it from a product they bought and they have
    not bought it; candidates rank by the best lift of those rules, then their best
    confidence, then product id.

    Returns arrays (customer, product, rank), rank 1 the best, sorted by customer then rank.
    """
    empty = np.zeros(0, dtype=np.int64)
    if not len(bought) or not len(rules["product_id"]):
        return empty, empty, empty
    customer, product = bought >> PAIR_SHIFT, bought & PRODUCT_MASK
    # the rules of each product: first index and count, looked up in a table by product id
    size = int(max(product.max(), rules["product_id"].max())) + 1
    count_of = np.bincount(rules["product_id"], minlength=size)
    first_of = np.cumsum(count_of) - count_of
    first, count = first_of[product], count_of[product]
    total = int(count.sum())
    if not total:
        return empty, empty, empty
    # the rules of every bought pair, end to end: rule index first[i], first[i] + 1, ...
    index = np.repeat(first - (np.cumsum(count) - count), count) + np.arange(total)
    key = np.repeat(customer, count) << PAIR_SHIFT | rules["related_product_id"][index]
    order = np.argsort(key, kind="stable")
    key, index = key[order], index[order]
    # not bought yet (sorted keys make the search a merge)
    position = np.minimum(np.searchsorted(bought, key), len(bought) - 1)
    new = bought[position] != key
    if not new.any():
        return empty, empty, empty
    key, index = key[new], index[new]
    # one candidate per (customer, product): the best lift and best confidence of its rules
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    lift = np.maximum.reduceat(rules["lift"][index], starts)
    confidence = np.maximum.reduceat(rules["confidence"][index], starts)
    customer, product = key[starts] >> PAIR_SHIFT, key[starts] & PRODUCT_MASK
    # the best ``limit`` per customer, one rank at a time (candidates sorted by customer,
    # then product: the first of the ties on lift and confidence has the lowest product id)
    ranked = []
    left = np.arange(len(customer))
    for rank in range(1, limit + 1):
        best = left[_best_of_each(customer[left], lift[left], confidence[left])]
        ranked.append((best, np.full(len(best), rank)))
        if rank < limit:
            left = np.setdiff1d(left, best, assume_unique=True)
            if not len(left):
                break
    best = np.concatenate([b for b, _r in ranked])
    rank = np.concatenate([r for _b, r in ranked])
    order = np.lexsort((rank, customer[best]))
    return customer[best][order], product[best][order], rank[order]


def _best_of_each(customer, lift, confidence):
    """Index of the first candidate of each customer with the highest lift, then the highest
    confidence among those (``customer`` sorted)."""
    starts = np.flatnonzero(np.r_[True, customer[1:] != customer[:-1]])
    sizes = np.diff(np.r_[starts, len(customer)])
    top = lift == np.repeat(np.maximum.reduceat(lift, starts), sizes)
    top_confidence = np.where(top, confidence, -np.inf)
    top &= confidence == np.repeat(np.maximum.reduceat(top_confidence, starts), sizes)
    index = np.flatnonzero(top)
    return index[np.r_[True, customer[index][1:] != customer[index][:-1]]]


class CrmProductAffinity(models.Model):
    """ "Customers who buy X also buy Y": product pairs with support, confidence and lift."""

    _name = "crm.product.affinity"
    _inherit = ["crm.affinity.mixin"]
    _description = "Product Affinity"

    product_id = fields.Many2one("product.product", required=True, index=True, ondelete="cascade")
    related_product_id = fields.Many2one(
        "product.product", "Also Bought", required=True, index=True, ondelete="cascade"
    )
    product_tmpl_id = fields.Many2one(related="product_id.product_tmpl_id", store=True, index=True)

    _pair_uniq = models.UniqueIndex("(company_id, product_id, related_product_id)")

    @api.model
    def _refresh(self, company, date_from, date_to, baskets=None):
        """Product and category rules, from one read of the order lines."""
        if baskets is None:
            baskets = self._basket_items(company, date_from, date_to)
        super()._refresh(company, date_from, date_to, baskets)
        self.env["crm.category.affinity"]._refresh(company, date_from, date_to, baskets)
        # product_tmpl_id is stored: fill it for the rows just inserted by SQL.
        self.env.execute_query(
            SQL(
                """
                UPDATE crm_product_affinity a SET product_tmpl_id = pp.product_tmpl_id
                  FROM product_product pp
                 WHERE pp.id = a.product_id AND a.company_id = %s
                """,
                company.id,
            )
        )

    @api.model
    def _flush_sources(self):
        """Write pending ORM changes of the tables the raw SQL reads."""
        for model in ("sale.order", "sale.order.line", "product.product", "product.template"):
            self.env[model].flush_model()
        self.flush_model()

    @api.model
    def _offer_rules(self, company):
        """The rules that may make an offer in ``company`` (lift above 1, to a product active
        and for sale in the company), as arrays for :func:`rank_offers`."""
        rows = self.env.execute_query(
            SQL(
                """
                SELECT a.product_id, a.related_product_id, a.lift::float8, a.confidence::float8
                  FROM crm_product_affinity a
                  JOIN product_product pp ON pp.id = a.related_product_id AND pp.active
                  JOIN product_template pt ON pt.id = pp.product_tmpl_id
                   AND pt.active AND pt.sale_ok
                   AND (pt.company_id IS NULL OR pt.company_id = %(company)s)
                 WHERE a.company_id = %(company)s AND a.lift > 1
                 ORDER BY a.product_id
                """,
                company=company.id,
            )
        )
        columns = list(zip(*rows, strict=True)) or [(), (), (), ()]
        return {
            "product_id": np.array(columns[0], dtype=np.int64),
            "related_product_id": np.array(columns[1], dtype=np.int64),
            "lift": np.array(columns[2], dtype=float),
            "confidence": np.array(columns[3], dtype=float),
        }

    @api.model
    def _bought_pairs(self, company, partners, rules):
        """The distinct (customer, product) pairs of the confirmed orders of ``company``, all
        history, as sorted keys for :func:`rank_offers`; only the products of ``rules`` (the
        others make no offer and none is offered). ``partners``: see
        crm.customer.facts._partner_condition."""
        products = np.union1d(rules["product_id"], rules["related_product_id"])
        if not len(products):
            return np.zeros(0, dtype=np.int64)
        packed = {"partner_id": "int", "product_id": "int"}
        lines = self.env["crm.customer.facts"]._order_line_rows([company.id], partners=partners)
        query = SQL(
            "SELECT partner_id, product_id FROM (%s) AS l WHERE product_id = ANY(%s)",
            lines,
            products.tolist(),
        )
        # SCAN_SETTINGS: every order line of the customers, read in parallel
        with local_settings(self.env.cr, SCAN_SETTINGS):
            rows = self.env.execute_query(packed_query(query, packed))
        columns = unpack_columns(rows[0], packed)
        return sorted_unique(columns["partner_id"] << PAIR_SHIFT | columns["product_id"])

    @api.model
    def _best_offer_ids(self, partner_ids, bought, rules):
        """The next best offer of each customer of ``partner_ids`` (sorted ids): an array of
        product ids, 0 for none. ``bought`` (:meth:`_bought_pairs`) may hold other customers
        too."""
        partner_ids = np.asarray(partner_ids, dtype=np.int64)
        offers = np.zeros(len(partner_ids), dtype=np.int64)
        if not len(partner_ids):
            return offers
        lo, hi = np.searchsorted(
            bought, [partner_ids[0] << PAIR_SHIFT, (partner_ids[-1] + 1) << PAIR_SHIFT]
        )
        customer, product, _rank = rank_offers(bought[lo:hi], rules)
        position = np.minimum(np.searchsorted(partner_ids, customer), len(partner_ids) - 1)
        found = partner_ids[position] == customer
        offers[position[found]] = product[found]
        return offers

    @api.model
    def _next_offers(self, company, partner_ids, limit=5):
        """{partner_id: [product_id, ...]} best first, for commercial partners."""
        self._flush_sources()
        partner_ids = list(partner_ids)
        if not partner_ids:
            return {}
        rules = self._offer_rules(company)
        customer, product, _rank = rank_offers(
            self._bought_pairs(company, partner_ids, rules), rules, limit
        )
        result = {}
        for partner_id, product_id in zip(customer.tolist(), product.tolist(), strict=True):
            result.setdefault(partner_id, []).append(product_id)
        return result
