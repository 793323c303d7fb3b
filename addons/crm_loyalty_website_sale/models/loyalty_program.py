from odoo import api
from odoo import fields
from odoo import models
from odoo.fields import Domain


class LoyaltyProgram(models.Model):
    """Promotions that require a payment method, as the online shop announces them."""

    _inherit = "loyalty.program"

    @api.model
    def _crm_website_payment_promotions(self, product, website, price, exclude=None):
        """Promotions of `website` that require a payment method and would discount `product`.

        Only automatic discounts apply without a code: they are the ones worth announcing beside
        the product. Returns a list of dicts, one per reward: `program`, `label` (e.g. "with
        Tarjeta Tienda Andina") and `price`, the product's `price` (in the website's currency)
        once discounted, or False when the discount depends on the rest of the order.
        `exclude`: programs not to announce (those already applied to the cart).
        """
        if not product or not website:
            return []
        today = fields.Date.context_today(self)
        domain = Domain(
            [
                ("active", "=", True),
                ("crm_payment_restricted", "=", True),
                ("ecommerce_ok", "=", True),
                ("trigger", "=", "auto"),
                ("applies_on", "=", "current"),
                ("website_id", "in", [website.id, False]),
                ("company_id", "in", [website.company_id.id, False]),
                "|",
                ("date_from", "=", False),
                ("date_from", "<=", today),
                "|",
                ("date_to", "=", False),
                ("date_to", ">=", today),
            ]
        )
        if exclude:
            domain &= Domain("id", "not in", exclude.ids)
        # The shop's visitors (public or portal) cannot read loyalty programs: only the
        # announcement below, built from published promotions of this website, leaves sudo.
        programs = self.sudo().search(domain)
        promotions = []
        for program in programs:
            if not any(program._get_valid_products(product).values()):
                continue
            for reward in program.reward_ids.filtered(lambda r: r.reward_type == "discount"):
                promotions.append(
                    {
                        "program": program,
                        "label": program.crm_payment_label,
                        "price": reward._crm_discounted_price(product, website, price),
                    }
                )
        return promotions
