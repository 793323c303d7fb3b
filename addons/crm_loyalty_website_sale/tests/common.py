import base64

from odoo.fields import Command
from odoo.tests import new_test_user
from odoo.tools import file_open


class PaymentPromotionCommon:
    """A shop (the default website) selling a camera at 29,990 with a promotion of 10,000 off
    it when paying with the store card; the demo provider offers the card and its own demo
    method; one free delivery method. A portal customer with a complete address."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.website = cls.env.ref("website.default_website")
        cls.company = cls.website.company_id
        with file_open("crm_loyalty_website_sale/static/img/tarjeta_tienda_andina.png", "rb") as f:
            image = base64.b64encode(f.read())
        cls.card = cls.env["payment.method"].create(
            {
                "name": "Tarjeta Test",
                "code": "crm_test_store_card",
                "image": image,
                "support_tokenization": False,
                "support_manual_capture": "none",
                "support_refund": "none",
            }
        )
        cls.demo_method = cls.env.ref("payment_demo.payment_method_demo")
        cls.provider = cls.env.ref("payment.payment_provider_demo")
        cls.provider.write(
            {
                "state": "test",
                "is_published": True,
                "company_id": cls.company.id,
                "payment_method_ids": [Command.link(cls.card.id), Command.link(cls.demo_method.id)],
            }
        )
        # other published providers would add their methods to the form: only the demo one
        cls.env["payment.provider"].search([("id", "!=", cls.provider.id)]).write(
            {"state": "disabled"}
        )
        cls.camera = cls.env["product.product"].create(
            {
                "name": "Cámara Test X100",
                "type": "consu",
                "list_price": 29990,
                "taxes_id": [Command.clear()],
                "is_published": True,
                "website_id": cls.website.id,
            }
        )
        # one free delivery method: the shop asks for one before paying for goods
        cls.env["delivery.carrier"].search([]).is_published = False
        cls.carrier = cls.env["delivery.carrier"].create(
            {
                "name": "Retiro en tienda",
                "delivery_type": "fixed",
                "fixed_price": 0,
                "is_published": True,
                "company_id": cls.company.id,
                "product_id": cls.env["product.product"]
                .create({"name": "Retiro en tienda", "type": "service", "sale_ok": False})
                .id,
            }
        )
        # automatic promotions of other data (demo) would change the amounts checked here
        cls.env["loyalty.program"].search(
            [("trigger", "=", "auto"), ("program_type", "not in", ("loyalty", "ewallet"))]
        ).active = False
        cls.promotion = cls.env["loyalty.program"].create(
            {
                "name": "Cámara con Tarjeta Test",
                "program_type": "promotion",
                "trigger": "auto",
                "applies_on": "current",
                "company_id": cls.company.id,
                "sale_ok": False,
                "ecommerce_ok": True,
                "website_id": cls.website.id,
                "crm_payment_method_ids": [Command.set(cls.card.ids)],
                "rule_ids": [
                    Command.clear(),
                    Command.create(
                        {
                            "product_ids": [Command.set(cls.camera.ids)],
                            "minimum_qty": 1,
                            "reward_point_mode": "order",
                            "reward_point_amount": 1,
                        }
                    ),
                ],
                "reward_ids": [
                    Command.clear(),
                    Command.create(
                        {
                            "reward_type": "discount",
                            "discount_mode": "per_order",
                            "discount": 10000,
                            "discount_applicability": "specific",
                            "discount_product_ids": [Command.set(cls.camera.ids)],
                            "required_points": 1,
                        }
                    ),
                ],
            }
        )
        # a price list without discounts: the amounts checked are the promotion's only
        cls.pricelist = cls.env["product.pricelist"].create(
            {
                "name": "Lista Test",
                "currency_id": cls.company.currency_id.id,
                "company_id": cls.company.id,
                "website_id": cls.website.id,
            }
        )
        cls.customer_user = cls._portal_customer("crm_shop_portal", "Valentina Rojas")
        cls.customer = cls.customer_user.partner_id
        cls.other_user = cls._portal_customer("crm_shop_other", "Tomás Vera")

    @classmethod
    def _portal_customer(cls, login, name):
        partner = cls.env["res.partner"].create(
            {
                "name": name,
                "email": f"{login}@example.com",
                "phone": "+56 9 1234 5678",
                "street": "Av. Providencia 1234",
                "city": "Santiago",
                "zip": "7500000",
                "country_id": cls.env.ref("base.cl").id,
                "property_product_pricelist": cls.pricelist.id,
            }
        )
        return new_test_user(
            cls.env,
            login=login,
            groups="base.group_portal",
            partner_id=partner.id,
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )

    def _cart(self, partner):
        """A draft website order of `partner` with one camera, rewards evaluated."""
        order = self.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "website_id": self.website.id,
                "company_id": self.company.id,
                "pricelist_id": self.pricelist.id,
                "order_line": [Command.create({"product_id": self.camera.id})],
            }
        )
        order._set_delivery_method(self.carrier)
        order._update_programs_and_rewards()
        order._auto_apply_rewards()
        return order
