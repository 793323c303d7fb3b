import { registry } from "@web/core/registry";

/**
 * A salesperson calls the customer from the phone number on its form: the small form that
 * logs the call opens by itself, the customer chosen, channel phone; Save logs it.
 */
registry.category("web_tour.tours").add("crm_interaction_phone_tour", {
    steps: () => [
        {
            content: "the phone number (its Call link shows when the field has focus)",
            trigger: ".o_form_view div[name=phone] input",
            run: "click",
        },
        {
            content: "call the customer",
            trigger: ".o_form_view div[name=phone] a.o_phone_form_link",
            run: "click",
        },
        {
            content: "the call's small form is open, for this customer",
            trigger: ".modal div[name=partner_id]:contains(Ferretería Llamada SpA)",
        },
        {
            content: "say what the call was about",
            trigger: ".modal div[name=subject] input",
            run: "edit Cotización de pinturas",
        },
        {
            content: "save it",
            trigger: ".modal .o_crm_interaction_save",
            run: "click",
        },
        {
            content: "the customer now has one interaction",
            trigger: ".o_form_view button[name=action_crm_view_interactions] .o_stat_value:contains(1)",
        },
    ],
});
