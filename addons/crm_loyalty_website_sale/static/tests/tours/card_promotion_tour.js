import { registry } from "@web/core/registry";
import * as tourUtils from "@website_sale/js/tours/tour_utils";

const CARD = 'input[name="o_payment_radio"][data-payment-method-code="crm_test_store_card"]';
const DEMO = 'input[name="o_payment_radio"][data-payment-method-code="demo"]';
const TOTAL = 'tr[name="o_order_total"] .oe_currency_value';

/** From the product page to the payment step, checking the card price is announced. */
function toPaymentStep() {
    return [
        {
            content: "the product page announces the price with the store card",
            trigger: ".o_crm_payment_promotion:contains(19,990.00):contains(Tarjeta Test)",
        },
        {
            content: "add the camera to the cart",
            trigger: "#add_to_cart",
            run: "click",
        },
        tourUtils.goToCart(),
        {
            content: "the cart announces the price with the store card",
            trigger: "#cart_products .o_crm_payment_promotion:contains(19,990.00):contains(Tarjeta Test)",
        },
        {
            content: "the cart's total is the full price",
            trigger: `${TOTAL}:text(29,990.00)`,
        },
        tourUtils.goToCheckout(),
        tourUtils.confirmOrder(),
    ];
}

function pick(radio, total) {
    return [
        {
            content: "pick a payment method",
            trigger: radio,
            run: "click",
        },
        {
            content: `the amount to pay becomes ${total}`,
            trigger: `${TOTAL}:text(${total})`,
        },
    ];
}

function payWithDemo() {
    return [
        {
            content: "enter the test card number",
            trigger: 'div[name="o_payment_inline_form"]:not(.d-none) input[name="customer_input"]',
            run: "edit 4242424242424242",
        },
        ...tourUtils.pay({ expectUnloadPage: true }),
        {
            content: "the payment is done",
            trigger: '[name="order_confirmation"]:contains("Your payment has been processed.")',
        },
    ];
}

/**
 * A portal customer buys the camera twice: with the store card (the promotion applies when the
 * card is picked, leaves when another method is picked, and comes back), then with the demo
 * method (full price).
 */
registry.category("web_tour.tours").add("crm_loyalty_website_sale_card_promotion_tour", {
    steps: () => [
        ...toPaymentStep(),
        ...pick(CARD, "19,990.00"),
        {
            content: "the order summary names the method the promotion requires",
            trigger: ".o_total_card .o_crm_payment_label:contains(Tarjeta Test)",
        },
        ...pick(DEMO, "29,990.00"),
        {
            content: "the promotion left the order summary",
            trigger: ".o_total_card:not(:has(.o_crm_payment_label))",
        },
        ...pick(CARD, "19,990.00"),
        ...payWithDemo(),
        {
            content: "shop again",
            trigger: '[name="order_confirmation"]',
            run() {
                window.location.href = "/shop?search=Test X100";
            },
            expectUnloadPage: true,
        },
        {
            content: "open the camera",
            trigger: "a:contains(Cámara Test X100)",
            run: "click",
            expectUnloadPage: true,
        },
        ...toPaymentStep(),
        ...pick(DEMO, "29,990.00"),
        ...payWithDemo(),
    ],
});
