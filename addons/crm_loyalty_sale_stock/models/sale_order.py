from collections import defaultdict

from odoo import api
from odoo import fields
from odoo import models
from odoo.tools.i18n import format_list
from odoo.tools.misc import formatLang


class SaleOrder(models.Model):
    """A gift with purchase (a free-product reward) the warehouse cannot deliver is reported
    on the quotation, before the salesperson confirms it."""

    _inherit = "sale.order"

    crm_gift_stock_warning = fields.Char(
        "Gifts Out of Stock", compute="_compute_crm_gift_stock_warning"
    )

    @api.depends(
        "state",
        "warehouse_id",
        "order_line.reward_id",
        "order_line.product_id",
        "order_line.product_uom_qty",
    )
    def _compute_crm_gift_stock_warning(self):
        for order in self:
            gifts = order.order_line.filtered(
                lambda line: line.reward_id.reward_type == "product" and line.product_id.is_storable
            )
            if order.state not in ("draft", "sent") or not gifts:
                order.crm_gift_stock_warning = False
                continue
            # what the whole order takes of each gift product (it may be sold on it too)
            needed = defaultdict(float)
            gift_products = gifts.product_id
            for line in order.order_line:
                if line.product_id not in gift_products:
                    continue
                needed[line.product_id] += line.product_uom_id._compute_quantity(
                    line.product_uom_qty, line.product_id.uom_id
                )
            products = gifts.product_id.with_context(warehouse_id=order.warehouse_id.id)
            precision = 0 if all(float(q).is_integer() for q in needed.values()) else 2
            short = [
                self.env._(
                    "%(product)s (%(free)s available, %(needed)s needed)",
                    product=product.display_name,
                    free=formatLang(self.env, product.free_qty, digits=precision),
                    needed=formatLang(self.env, needed[product], digits=precision),
                )
                for product in products
                if product.free_qty < needed[product]
            ]
            order.crm_gift_stock_warning = (
                self.env._("Gift out of stock: %s", format_list(self.env, short))
                if short
                else False
            )
