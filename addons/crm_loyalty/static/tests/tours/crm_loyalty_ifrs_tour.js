import { registry } from "@web/core/registry";

/**
 * An accountant posts the points' liability of a program from its form (Invoicing → Loyalty
 * Points → Programs → Post Entries Now) and lands on the posted
 * journal entry.
 */
registry.category("web_tour.tours").add("crm_loyalty_ifrs_tour", {
    steps: () => [
        {
            content: "open the program",
            trigger: ".o_list_view .o_data_row td[name=name]:contains(Puntos Tour IFRS)",
            run: "click",
        },
        {
            content: "the value of a point is shown",
            trigger: ".o_field_widget[name=crm_point_value]",
        },
        {
            content: "post the period",
            trigger: "button[name=action_crm_ifrs_post]",
            run: "click",
        },
        {
            content: "the posted journal entry of the program",
            trigger: ".o_form_view .o_field_widget[name=crm_loyalty_program_id]:contains(Puntos Tour IFRS), .o_list_view .o_data_row:contains(Puntos Tour IFRS)",
        },
    ],
});
