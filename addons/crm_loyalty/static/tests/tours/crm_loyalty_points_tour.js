import { registry } from "@web/core/registry";

/**
 * The points ledger as a loyalty user: the points of each movement and the list's total read
 * as whole points (no ".00"), and so do the pivot's cells.
 */
registry.category("web_tour.tours").add("crm_loyalty_points_tour", {
    steps: () => [
        {
            content: "a movement's points without decimals",
            trigger: ".o_list_view .o_data_row td[name=points]:contains(1,250):not(:contains(.))",
        },
        {
            content: "the list's total without decimals",
            trigger: ".o_list_view .o_list_footer td.o_list_number:contains(2,000):not(:contains(.))",
        },
        {
            content: "the pivot view",
            trigger: ".o_switch_view.o_pivot",
            run: "click",
        },
        {
            content: "the pivot's total without decimals",
            trigger: ".o_pivot .o_pivot_cell_value:contains(2,000):not(:contains(.))",
        },
    ],
});
