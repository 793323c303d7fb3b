from odoo import api
from odoo import fields
from odoo import models
from odoo.tools import SQL


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
    def _refresh(self, company, date_from, date_to):
        super()._refresh(company, date_from, date_to)
        self.env["crm.category.affinity"]._refresh(company, date_from, date_to)
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
    def _next_offer_query(self, company, partner_condition, max_rank=1):
        """SQL rows (partner_id, product_id, lift, rank): for each partner the products with
        the highest lift from what they bought in ``company``, not bought yet, for sale.

        ``partner_condition`` selects the partners (see crm.customer.facts._partner_condition).
        Batches pass an id range: a long id list there makes PostgreSQL's parallel plan of
        this query take minutes instead of a second (seen on 20,000 customers).
        """
        return SQL(
            """
            WITH bought AS (
                SELECT DISTINCT partner_id, product_id FROM (%(lines)s) AS l
            ), candidates AS (
                SELECT b.partner_id, a.related_product_id AS product_id,
                       max(a.lift) AS lift, max(a.confidence) AS confidence
                  FROM bought b
                  JOIN crm_product_affinity a
                    ON a.product_id = b.product_id AND a.company_id = %(company)s AND a.lift > 1
                 GROUP BY 1, 2
            ), ranked AS (
                SELECT c.partner_id, c.product_id, c.lift,
                       row_number() OVER (PARTITION BY c.partner_id
                                          ORDER BY c.lift DESC, c.confidence DESC, c.product_id)
                           AS rank
                  FROM candidates c
                  JOIN product_product pp ON pp.id = c.product_id AND pp.active
                  JOIN product_template pt ON pt.id = pp.product_tmpl_id
                   AND pt.active AND pt.sale_ok
                   AND (pt.company_id IS NULL OR pt.company_id = %(company)s)
                 WHERE NOT EXISTS (SELECT 1 FROM bought b
                                    WHERE b.partner_id = c.partner_id
                                      AND b.product_id = c.product_id)
            )
            SELECT partner_id, product_id, lift, rank FROM ranked WHERE rank <= %(max_rank)s
            """,
            company=company.id,
            lines=self.env["crm.customer.facts"]._order_line_rows(
                [company.id], partners=partner_condition
            ),
            max_rank=max_rank,
        )

    @api.model
    def _next_offers(self, company, partner_ids, limit=5):
        """{partner_id: [product_id, ...]} best first."""
        self._flush_sources()
        result = {}
        rows = self.env.execute_query(self._next_offer_query(company, list(partner_ids), limit))
        for partner_id, product_id, _lift, _rank in sorted(rows, key=lambda r: (r[0], r[3])):
            result.setdefault(partner_id, []).append(product_id)
        return result
