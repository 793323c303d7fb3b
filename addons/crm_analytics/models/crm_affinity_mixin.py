from datetime import timedelta

from odoo import api
from odoo import fields
from odoo import models
from odoo.tools import SQL

MAX_BASKET_ITEMS = 50


class CrmAffinityMixin(models.AbstractModel):
    """Association rules X -> Y mined from co-purchases in confirmed orders.

    support = orders with X and Y / orders, confidence = P(Y | X), lift = confidence / P(Y).
    Concrete models say what an item is (a product, a category) with ``_item_expression``, the
    column of the customer facts' order lines (crm.customer.facts._order_line_rows, alias l)
    that is the item, and name their two item columns
    ``_item_columns``. Rows are replaced per company by one SQL statement.
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
    _item_expression = "l.product_id"

    @api.model
    def _refresh(self, company, date_from, date_to):
        """Replace the company's rules with those of [date_from, date_to) above min support."""
        left, right = self._item_columns
        self.env.execute_query(
            SQL("DELETE FROM %s WHERE company_id = %s", SQL.identifier(self._table), company.id)
        )
        self.env.execute_query(
            SQL(
                """
                WITH items AS (
                    SELECT DISTINCT l.order_id, %(item)s AS item
                      FROM (%(lines)s) AS l
                     WHERE %(item)s IS NOT NULL
                ), total AS (
                    SELECT count(DISTINCT order_id) AS n FROM items
                ), threshold AS (
                    SELECT n, greatest(2, ceil(%(min_support)s * n)) AS min_count FROM total
                ), single AS (
                    SELECT item, count(*) AS c FROM items GROUP BY item
                ), frequent AS (
                    -- Apriori pruning: an item below min support cannot be in a frequent pair.
                    SELECT i.order_id, i.item
                      FROM items i
                      JOIN single s ON s.item = i.item
                      JOIN threshold t ON s.c >= t.min_count
                ), baskets AS (
                    SELECT order_id FROM frequent GROUP BY order_id
                    HAVING count(*) BETWEEN 2 AND %(max_items)s
                ), pairs AS (
                    SELECT a.item AS x, b.item AS y, count(*) AS c
                      FROM frequent a
                      JOIN baskets k ON k.order_id = a.order_id
                      JOIN frequent b ON b.order_id = a.order_id AND b.item <> a.item
                     GROUP BY 1, 2
                    HAVING count(*) >= (SELECT min_count FROM threshold)
                )
                INSERT INTO %(table)s (company_id, %(left)s, %(right)s, pair_count, support,
                                       confidence, lift, refreshed_at, create_uid, create_date,
                                       write_uid, write_date)
                SELECT %(company)s, p.x, p.y, p.c, p.c::float / t.n, p.c::float / sx.c,
                       p.c::float * t.n / (sx.c * sy.c), now() AT TIME ZONE 'UTC',
                       %(uid)s, now() AT TIME ZONE 'UTC', %(uid)s, now() AT TIME ZONE 'UTC'
                  FROM pairs p
                  JOIN single sx ON sx.item = p.x
                  JOIN single sy ON sy.item = p.y
                 CROSS JOIN threshold t
                """,
                item=SQL(self._item_expression),
                company=company.id,
                lines=self.env["crm.customer.facts"]._order_line_rows(
                    [company.id],
                    self.env["crm.customer.facts"]._window(
                        date_to - timedelta(days=1), date_from=date_from
                    ),
                ),
                min_support=company.crm_affinity_min_support,
                max_items=MAX_BASKET_ITEMS,
                table=SQL.identifier(self._table),
                left=SQL.identifier(left),
                right=SQL.identifier(right),
                uid=self.env.uid,
            )
        )
        # Fresh statistics for the queries that join the rules to every customer's purchases.
        self.env.execute_query(SQL("ANALYZE %s", SQL.identifier(self._table)))
        self.invalidate_model()
