from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import UserError


class SaleOrder(models.Model):
    """The customer's service level and next-best offers, shown while selling."""

    _inherit = "sale.order"

    crm_service_level_id = fields.Many2one(
        "crm.service.level", "Service Level", compute="_compute_crm_service_level_id"
    )
    crm_suggested_product_ids = fields.Many2many(
        "product.product",
        string="Suggested Products",
        compute="_compute_crm_suggested_product_ids",
    )

    @api.depends("partner_id", "company_id")
    def _compute_crm_service_level_id(self):
        levels = self.env["crm.customer.score"]._service_levels(
            self.partner_id.commercial_partner_id, self.company_id
        )
        for order in self:
            key = (order.partner_id.commercial_partner_id.id, order.company_id.id)
            order.crm_service_level_id = levels.get(key, False)

    @api.depends("partner_id", "company_id", "order_line.product_id")
    def _compute_crm_suggested_product_ids(self):
        affinity = self.env["crm.product.affinity"]
        for company, orders in self.grouped("company_id").items():
            partners = orders.partner_id.commercial_partner_id
            offers = affinity._next_offers(company, partners.ids, limit=8) if partners else {}
            for order in orders:
                in_order = set(order.order_line.product_id.ids)
                products = offers.get(order.partner_id.commercial_partner_id.id, [])
                order.crm_suggested_product_ids = [
                    (6, 0, [pid for pid in products if pid not in in_order][:5])
                ]

    def _crm_add_suggested_product(self, product):
        """Add ``product`` (quantity 1) to this quotation, with the caller's rights.

        Raises AccessError when the caller may not write the order (someone else's order,
        another company) or read the product, UserError when the order is no longer a
        quotation or the product is not for sale.
        """
        self.ensure_one()
        self.check_access("write")
        product.check_access("read")
        if self.state not in ("draft", "sent"):
            raise UserError(self.env._("Suggestions can only be added to quotations."))
        if not product.sale_ok:
            raise UserError(
                self.env._("%(product)s is not for sale.", product=product.display_name)
            )
        self.env["sale.order.line"].create(
            {"order_id": self.id, "product_id": product.id, "product_uom_qty": 1.0}
        )
