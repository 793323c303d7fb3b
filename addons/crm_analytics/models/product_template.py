from odoo import api
from odoo import fields
from odoo import models


class ProductTemplate(models.Model):
    """ "Customers who buy this also buy" on the product form."""

    _inherit = "product.template"

    crm_affinity_ids = fields.One2many(
        "crm.product.affinity",
        compute="_compute_crm_affinity_ids",
        string="Customers Also Buy",
        groups="crm_analytics.group_user",
    )

    @api.depends_context("company")
    def _compute_crm_affinity_ids(self):
        rows = self.env["crm.product.affinity"].search(
            [("product_tmpl_id", "in", self.ids), ("company_id", "=", self.env.company.id)],
            order="lift desc, confidence desc",
        )
        for template in self:
            template.crm_affinity_ids = rows.filtered(
                lambda row, t=template: row.product_tmpl_id == t
            )[:10]
