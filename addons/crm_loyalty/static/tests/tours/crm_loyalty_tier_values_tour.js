import { registry } from "@web/core/registry";

/**
 * Tier changes as a loyalty user: the qualifying value of a program whose tiers count the
 * amount spent reads as money ("$ 251,250.00"), that of a program counting points as whole
 * points ("6,250", no currency, no decimals).
 */
registry.category("web_tour.tours").add("crm_loyalty_tier_values_tour", {
    steps: () => [
        {
            content: "an amount spent, with its currency",
            trigger: ".o_list_view .o_data_row td[name=qualifying_value]:contains(251,250.00):contains($)",
        },
        {
            content: "points, without currency or decimals",
            trigger:
                ".o_list_view .o_data_row td[name=qualifying_value]:contains(6,250):not(:contains($)):not(:contains(.))",
        },
    ],
});
