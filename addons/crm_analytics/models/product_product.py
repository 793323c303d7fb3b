from odoo import models
from odoo.exceptions import UserError


class ProductProduct(models.Model):
    """One-click adding of a suggested product to the sale order being edited."""

    _inherit = "product.product"

    def action_crm_add_to_order(self):
        """Add this product (quantity 1) to the order given by context key crm_order_id."""
        self.ensure_one()
        order = self.env["sale.order"].browse(self.env.context.get("crm_order_id")).exists()
        if not order:
            raise UserError(self.env._("Save the sale order before adding a suggestion."))
        if order.state not in ("draft", "sent"):
            raise UserError(self.env._("Suggestions can only be added to quotations."))
        self.env["sale.order.line"].create(
            {"order_id": order.id, "product_id": self.id, "product_uom_qty": 1.0}
        )
        return True
