from odoo import api
from odoo import fields
from odoo import models


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
