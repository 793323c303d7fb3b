import { registry } from "@web/core/registry";

/**
 * A salesperson quotes a cooker to be paid with the store's card: with the card chosen as the
 * quotation's payment method, "Promotions" applies the card-only discount and the form names
 * the condition; switching to cash takes the discount away.
 */
registry.category("web_tour.tours").add("crm_promotion_payment_tour", {
    steps: () => [
        {
            content: "choose the store's card as the payment method",
            trigger: ".o_field_widget[name=preferred_payment_method_line_id] input",
            run: "edit Tarjeta Tienda Tour",
        },
        {
            content: "pick it",
            trigger: ".o-autocomplete--dropdown-item .dropdown-item:contains(Tarjeta Tienda Tour)",
            run: "click",
        },
        {
            content: "save",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "saved",
            trigger: ".o_form_saved",
        },
        {
            content: "apply the promotions",
            trigger: "button[name=action_open_reward_wizard]",
            run: "click",
        },
        {
            content: "the card-only discount is on the quotation",
            trigger: ".o_field_one2many[name=order_line] .o_data_row:contains(10%)",
        },
        {
            content: "and the form says it requires the card",
            trigger: ".alert-info:contains(with Tarjeta Tienda Tour)",
        },
        {
            content: "the customer will pay cash instead",
            trigger: ".o_field_widget[name=preferred_payment_method_line_id] input",
            run: "edit Caja Tour",
        },
        {
            content: "pick cash",
            trigger: ".o-autocomplete--dropdown-item .dropdown-item:contains(Caja Tour)",
            run: "click",
        },
        {
            content: "save",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "the discount is gone",
            trigger: ".o_form_saved .o_field_one2many[name=order_line]:not(:contains(10%))",
        },
    ],
});
