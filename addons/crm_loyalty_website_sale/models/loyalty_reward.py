from odoo import fields
from odoo import models


class LoyaltyReward(models.Model):
    _inherit = "loyalty.reward"

    def _crm_discounted_price(self, product, website, price):
        """`price` of one `product` once this discount applies, in the website's currency; False
        when it cannot be told from the product alone (per-point discounts, or a discount that
        does not apply on the product itself)."""
        self.ensure_one()
        if self.discount_applicability == "specific":
            if not product.filtered_domain(self._get_discount_product_domain()):
                return False
        elif self.discount_applicability != "order":
            return False
        currency = website.currency_id
        max_amount = self.discount_max_amount and self.currency_id._convert(
            self.discount_max_amount, currency, website.company_id, fields.Date.context_today(self)
        )
        if self.discount_mode == "percent":
            discount = price * self.discount / 100
        elif self.discount_mode == "per_order":
            discount = self.currency_id._convert(
                self.discount, currency, website.company_id, fields.Date.context_today(self)
            )
        else:
            return False
        if max_amount:
            discount = min(discount, max_amount)
        return currency.round(max(price - discount, 0.0))
