import { registry } from "@web/core/registry";

/**
 * A salesperson logs a call from the customer form in two clicks: "Log Interaction", then
 * Save in the small form (the customer is already chosen). The count of interactions and the
 * customer's chatter show it.
 */
registry.category("web_tour.tours").add("crm_interaction_log_tour", {
    steps: () => [
        {
            content: "open the small form from the customer",
            trigger: ".o_form_view button[name=action_crm_log_interaction]",
            run: "click",
        },
        {
            content: "the customer is already chosen",
            trigger: ".modal div[name=partner_id]:contains(Ferretería Tour SpA)",
        },
        {
            content: "say what the call was about",
            trigger: ".modal div[name=subject] input",
            run: "edit Consulta por despacho",
        },
        {
            content: "how long it took",
            trigger: ".modal div[name=duration] input",
            run: "edit 6",
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
        {
            content: "and a line in its chatter",
            trigger: ".o-mail-Message:contains(Consulta por despacho)",
        },
    ],
});
