import { registry } from "@web/core/registry";

/**
 * On a new, unsaved quotation, the first click on "Add" of a suggested product saves the
 * order and puts the product on it (no "save the order first" error).
 */
registry.category("web_tour.tours").add("crm_analytics_add_suggestion_tour", {
    steps: () => [
        {
            content: "choose the customer of the new quotation",
            trigger: ".o_field_widget[name=partner_id] input",
            run: "edit Cliente Sugerencia Tour",
        },
        {
            trigger: 'ul.ui-autocomplete > li > a:contains("Cliente Sugerencia Tour")',
            run: "click",
        },
        {
            content: "open the suggestions of the still unsaved quotation",
            trigger: ".o_form_editable .o_notebook a[name=crm_suggestions]",
            run: "click",
        },
        {
            content: "add the first suggestion",
            trigger:
                ".o_field_widget[name=crm_suggested_product_ids] .o_data_row:first button[name=action_crm_add_to_order]",
            run: "click",
        },
        {
            content: "the order is saved",
            trigger: ".o_form_saved",
        },
        {
            // An error dialog ("save the order first") would cover the form here.
            content: "back to the order lines",
            trigger: ".o_notebook a[name=order_lines]",
            run: "click",
        },
        {
            content: "the suggested product is on the order",
            trigger: ".o_field_widget[name=order_line] .o_data_row",
        },
    ],
});
