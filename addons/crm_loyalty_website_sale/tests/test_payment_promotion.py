from urllib.parse import urljoin

from odoo.exceptions import ValidationError
from odoo.tests import HttpCase
from odoo.tests import tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from .common import PaymentPromotionCommon

ROUTE = "/shop/crm_loyalty/payment_method"


@tagged("post_install", "-at_install")
class TestPaymentPromotion(PaymentPromotionCommon, HttpCase):
    """A promotion that requires a payment method, in the shop: re-evaluated each time the
    customer picks a method at the payment step, never paid for with another method."""

    def _portal_cart(self):
        """Log the customer in and put a camera in their cart through the shop: their cart."""
        self.authenticate(self.customer_user.login, self.customer_user.login)
        self.make_jsonrpc_request(
            "/shop/cart/add",
            {
                "product_template_id": self.camera.product_tmpl_id.id,
                "product_id": self.camera.id,
                "quantity": 1,
            },
        )
        order = self.env["sale.order"].search(
            [("partner_id", "=", self.customer.id), ("website_id", "=", self.website.id)]
        )
        self.assertEqual(len(order), 1)
        order._set_delivery_method(self.carrier)
        return order

    def _jsonrpc_error(self, route, params):
        """The error data (name, message) a JSON-RPC call to `route` answers."""
        response = self.opener.post(
            urljoin(self.base_url(), route),
            json={"id": 0, "jsonrpc": "2.0", "method": "call", "params": params},
            timeout=12,
        )
        return response.json()["error"]["data"]

    def test_picking_the_card_applies_the_promotion_and_another_method_removes_it(self):
        order = self._portal_cart()
        # no method picked yet: full price
        self.assertEqual(order.amount_total, 29990)
        result = self.make_jsonrpc_request(
            ROUTE, {"order_id": order.id, "payment_method_id": self.card.id}
        )
        self.assertEqual(result["amount_total"], 19990)
        self.assertEqual(result["promotions"], [self.promotion.name])
        self.assertIn("19,990", result["amount_total_html"])
        self.assertIn(self.promotion.crm_payment_label, result["lines_html"])
        order.invalidate_recordset()
        self.assertEqual(order.crm_payment_method_id, self.card)
        self.assertEqual(order.order_line.reward_id.program_id, self.promotion)
        self.assertEqual(order.amount_total, 19990)

        result = self.make_jsonrpc_request(
            ROUTE, {"order_id": order.id, "payment_method_id": self.demo_method.id}
        )
        self.assertEqual(result["amount_total"], 29990)
        self.assertEqual(result["promotions"], [])
        order.invalidate_recordset()
        self.assertFalse(order.order_line.reward_id)
        self.assertEqual(order.amount_total, 29990)

        # back to the card: the promotion comes back
        result = self.make_jsonrpc_request(
            ROUTE, {"order_id": order.id, "payment_method_id": self.card.id}
        )
        self.assertEqual(result["amount_total"], 19990)
        # no method (nothing picked): full price
        result = self.make_jsonrpc_request(ROUTE, {"order_id": order.id})
        self.assertEqual(result["amount_total"], 29990)

    def test_opening_the_payment_step_forgets_the_method_picked_before(self):
        order = self._portal_cart()
        self.make_jsonrpc_request(ROUTE, {"order_id": order.id, "payment_method_id": self.card.id})
        page = self.url_open("/shop/payment")
        self.assertEqual(page.status_code, 200)
        order.invalidate_recordset()
        self.assertFalse(order.crm_payment_method_id)
        self.assertEqual(order.amount_total, 29990)
        # the form's data-amount is the amount without the promotion
        self.assertIn('data-amount="29990.0"', page.text)

    def test_another_customer_s_order_is_refused(self):
        order = self._portal_cart()
        other_order = self._cart(self.other_user.partner_id)
        with mute_logger("odoo.http"):
            for order_id in (other_order.id, "x", None):
                with self.subTest(order_id=order_id), self.assertRaises(JsonRpcException):
                    self.make_jsonrpc_request(
                        ROUTE, {"order_id": order_id, "payment_method_id": self.card.id}
                    )
        self.assertFalse(other_order.crm_payment_method_id)
        self.assertFalse(order.crm_payment_method_id)
        # a visitor without a cart
        self.authenticate(None, None)
        with mute_logger("odoo.http"), self.assertRaises(JsonRpcException):
            self.make_jsonrpc_request(
                ROUTE, {"order_id": order.id, "payment_method_id": self.card.id}
            )
        self.assertFalse(order.crm_payment_method_id)

    def test_another_customer_s_saved_method_is_refused(self):
        order = self._portal_cart()
        token = self.env["payment.token"].create(
            {
                "provider_id": self.provider.id,
                "payment_method_id": self.card.id,
                "partner_id": self.other_user.partner_id.id,
                "provider_ref": "crm-test-token",
                "payment_details": "4242",
            }
        )
        with mute_logger("odoo.http"), self.assertRaises(JsonRpcException):
            self.make_jsonrpc_request(ROUTE, {"order_id": order.id, "token_id": token.id})
        self.assertFalse(order.crm_payment_method_id)
        token.partner_id = self.customer
        result = self.make_jsonrpc_request(ROUTE, {"order_id": order.id, "token_id": token.id})
        self.assertEqual(result["amount_total"], 19990)

    def test_a_transaction_with_another_method_is_refused_while_the_promotion_is_on(self):
        order = self._cart(self.customer)
        order._crm_set_payment_method(self.card)
        self.assertEqual(order.amount_total, 19990)
        Transaction = self.env["payment.transaction"].sudo()
        values = {
            "provider_id": self.provider.id,
            "amount": order.amount_total,
            "currency_id": order.currency_id.id,
            "partner_id": self.customer.id,
            "sale_order_ids": [(6, 0, order.ids)],
        }
        with self.assertRaisesRegex(ValidationError, "Tarjeta Test"):
            Transaction.create(
                dict(values, payment_method_id=self.demo_method.id, reference="CRM-TEST-1")
            )
        transaction = Transaction.create(
            dict(values, payment_method_id=self.card.id, reference="CRM-TEST-2")
        )
        self.assertEqual(transaction.sale_order_ids, order)

    def test_the_shop_refuses_to_pay_the_promotion_with_another_method(self):
        order = self._portal_cart()
        self.make_jsonrpc_request(ROUTE, {"order_id": order.id, "payment_method_id": self.card.id})
        params = {
            "provider_id": self.provider.id,
            "payment_method_id": self.demo_method.id,
            "token_id": None,
            "amount": 19990,
            "flow": "direct",
            "tokenization_requested": False,
            "landing_route": "/shop/payment/validate",
            "is_validation": False,
            "access_token": order._portal_ensure_token(),
        }
        with mute_logger("odoo.http"):
            error = self._jsonrpc_error(f"/shop/payment/transaction/{order.id}", params)
        self.assertEqual(error["name"], "odoo.exceptions.ValidationError")
        self.assertIn(self.promotion.name, error["message"])
        self.assertIn("Tarjeta Test", error["message"])
        self.assertFalse(order.transaction_ids)
        # with the card, the discounted amount is accepted
        result = self.make_jsonrpc_request(
            f"/shop/payment/transaction/{order.id}",
            dict(params, payment_method_id=self.card.id),
        )
        transaction = order.transaction_ids
        self.assertEqual(result["reference"], transaction.reference)
        self.assertEqual(transaction.amount, 19990)
        self.assertEqual(transaction.payment_method_id, self.card)

    def test_product_page_and_cart_announce_the_card_price(self):
        self.authenticate(self.customer_user.login, self.customer_user.login)
        page = self.url_open(self.camera.website_url)
        self.assertEqual(page.status_code, 200)
        self.assertIn("o_crm_payment_promotion", page.text)
        self.assertIn("19,990", page.text)
        self.assertIn(self.promotion.crm_payment_label, page.text)
        self._portal_cart()
        cart = self.url_open("/shop/cart").text
        self.assertIn("o_crm_payment_promotion", cart)
        self.assertIn(self.promotion.crm_payment_label, cart)

    def test_a_portal_customer_buys_the_camera_with_the_card_and_with_another_method(self):
        self.start_tour(
            self.camera.website_url,
            "crm_loyalty_website_sale_card_promotion_tour",
            login=self.customer_user.login,
        )
        orders = self.env["sale.order"].search(
            [("partner_id", "=", self.customer.id), ("website_id", "=", self.website.id)],
            order="id",
        )
        self.assertEqual(len(orders), 2)
        with_card, with_demo = orders
        self.assertEqual(with_card.amount_total, 19990)
        self.assertEqual(with_card.order_line.reward_id.program_id, self.promotion)
        self.assertEqual(with_demo.amount_total, 29990)
        self.assertFalse(with_demo.order_line.reward_id)
        for order, method, amount in (
            (with_card, self.card, 19990),
            (with_demo, self.demo_method, 29990),
        ):
            transaction = order.transaction_ids
            self.assertEqual(transaction.payment_method_id, method)
            self.assertEqual(transaction.amount, amount)
            self.assertEqual(transaction.state, "done")
            self.assertEqual(order.state, "sale")
