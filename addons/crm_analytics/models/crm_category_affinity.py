from odoo import fields
from odoo import models


class CrmCategoryAffinity(models.Model):
    """Category pairs bought together: support, confidence and lift."""

    _name = "crm.category.affinity"
    _inherit = ["crm.affinity.mixin"]
    _description = "Product Category Affinity"
    _item_columns = ("categ_id", "related_categ_id")
    _item_column = "categ_id"

    categ_id = fields.Many2one(
        "product.category", "Category", required=True, index=True, ondelete="cascade"
    )
    related_categ_id = fields.Many2one(
        "product.category", "Also Bought", required=True, index=True, ondelete="cascade"
    )

    _pair_uniq = models.UniqueIndex("(company_id, categ_id, related_categ_id)")
