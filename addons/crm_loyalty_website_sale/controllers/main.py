from odoo.exceptions import ValidationError
from odoo.http import request
from odoo.http import route

from odoo.addons.website_sale_loyalty.controllers.main import WebsiteSale


class CrmLoyaltyWebsiteSale(WebsiteSale):
    """The payment step re-evaluates the promotions that require a payment method each time the
    customer picks one, before paying."""

    @route()
    def shop_payment(self, **post):
        # The page opens with no method picked: the form asks the server again for the one it
        # preselects, if any, so that the amount shown is the amount the form sends.
        if order_sudo := request.cart:
            order_sudo.crm_payment_method_id = False
        return super().shop_payment(**post)

    @route(
        "/shop/crm_loyalty/payment_method",
        type="jsonrpc",
        auth="public",
        methods=["POST"],
        website=True,
        sitemap=False,
    )
    def shop_crm_payment_method(self, order_id, payment_method_id=None, token_id=None):
        """Record the payment method picked on the payment form of the caller's cart and return
        the cart's new amounts.

        :param int order_id: the order the page shows: refused unless it is the caller's cart.
        :param int payment_method_id: the picked `payment.method`, or
        :param int token_id: the picked saved `payment.token` of the customer; neither: none.
        :return: `amount_total` (float, the amount the payment form sends), the order summary's
            amounts as HTML (`amount_untaxed`, `amount_tax`, `amount_total_html`), `lines_html`
            (the summary's lines) and `promotions` (names of the promotions requiring a payment
            method that the cart now carries).
        """
        order_sudo = request.cart
        if not order_sudo or order_sudo.id != _to_int(order_id):
            raise ValidationError(request.env._("Your cart has changed. Please refresh the page."))
        payment_method = self._crm_picked_payment_method(order_sudo, payment_method_id, token_id)
        order_sudo._crm_set_payment_method(payment_method)
        return self._crm_payment_summary(order_sudo)

    def _crm_picked_payment_method(self, order_sudo, payment_method_id, token_id):
        """The `payment.method` (sudo) the customer picked, checked: an active method, or the
        method of an active token of the order's customer. Raises ValidationError otherwise."""
        PaymentMethod = request.env["payment.method"].sudo()
        if token_id:
            token_sudo = request.env["payment.token"].sudo().browse(_to_int(token_id)).exists()
            commercial_partner = order_sudo.partner_id.commercial_partner_id
            if (
                not token_sudo
                or not token_sudo.active
                or token_sudo.partner_id.commercial_partner_id != commercial_partner
            ):
                raise ValidationError(request.env._("This saved payment method is not yours."))
            return token_sudo.payment_method_id
        if payment_method_id:
            method_sudo = PaymentMethod.browse(_to_int(payment_method_id)).exists()
            if not method_sudo or not method_sudo.active:
                raise ValidationError(request.env._("This payment method is not available."))
            return method_sudo
        return PaymentMethod

    def _crm_payment_summary(self, order_sudo):
        Monetary = request.env["ir.qweb.field.monetary"]
        options = {"display_currency": order_sudo.currency_id}
        lines_html = request.env["ir.ui.view"]._render_template(
            "website_sale.cart_summary_content", {"website_sale_order": order_sudo}
        )
        return {
            "amount_total": order_sudo.amount_total,
            "amount_total_html": Monetary.value_to_html(order_sudo.amount_total, options),
            "amount_untaxed": Monetary.value_to_html(order_sudo.amount_untaxed, options),
            "amount_tax": Monetary.value_to_html(order_sudo.amount_tax, options),
            "lines_html": lines_html,
            "promotions": order_sudo.order_line.reward_id.program_id.filtered(
                "crm_payment_restricted"
            ).mapped("name"),
        }


def _to_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationError(request.env._("Invalid identifier: %s", value)) from None
