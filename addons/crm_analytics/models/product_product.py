from odoo import models
from odoo.exceptions import UserError


class ProductProduct(models.Model):
    """One-click adding of a suggested product to the sale order being edited."""

    _inherit = "product.product"

    def action_crm_add_to_order(self):
        """Add this product (quantity 1) to the quotation named by context key crm_order_id.

        The key only names the order: the caller must be allowed to write that order and to
        read this product, and the line is created with the caller's own rights.
        """
        self.ensure_one()
        order_id = self.env.context.get("crm_order_id")
        # bool is an int: a False or True id is no order either
        if not isinstance(order_id, int) or isinstance(order_id, bool) or order_id <= 0:
            raise UserError(self.env._("Save the sale order before adding a suggestion."))
        order = self.env["sale.order"].browse(order_id).exists()
        if not order:
            raise UserError(self.env._("Save the sale order before adding a suggestion."))
        order._crm_add_suggested_product(self)
        return True
