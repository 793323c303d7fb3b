"""DEMO DATA ONLY: the store card of "Tienda Andina SpA" offered by the demo payment provider."""

from odoo import api
from odoo import models
from odoo.fields import Command


class CrmLoyaltyWebsiteSaleDemo(models.AbstractModel):
    """DEMO DATA ONLY: payment setup of the demo shop (demo/crm_loyalty_website_sale_demo.xml)."""

    _name = "crm.loyalty.website.sale.demo"
    _description = "Demo Online Shop Payments"

    @api.model
    def _offer_store_card(self, company_id, payment_method_id, program_id):
        """Offer the store card, next to the demo method, through the demo provider of the
        company (a copy of payment_demo's, made if the company has none), then make the
        promotion `program_id` require the card and activate it. Without payment_demo nothing
        offers the card: the promotion stays archived, waiting for a real provider."""
        Provider = self.env["payment.provider"]
        # payment's own record of the demo provider: payment_demo gives it its code
        main = self.env.ref("payment.payment_provider_demo", raise_if_not_found=False)
        if not main or main.code != "demo":
            return
        provider = Provider.search(
            [("code", "=", "demo"), ("company_id", "=", company_id)], limit=1
        ) or main.copy({"company_id": company_id})
        demo_method = self.env.ref("payment_demo.payment_method_demo")
        provider.write(
            {
                "state": "test",
                "is_published": True,
                "payment_method_ids": [
                    Command.link(demo_method.id),
                    Command.link(payment_method_id),
                ],
            }
        )
        self.env["loyalty.program"].browse(program_id).write(
            {"crm_payment_method_ids": [Command.set([payment_method_id])], "active": True}
        )
