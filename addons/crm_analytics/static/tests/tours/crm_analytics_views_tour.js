import { registry } from "@web/core/registry";

/** Waits for the view the tour's URL opens: a chart for KPIs, a form for a model fit. */
registry.category("web_tour.tours").add("crm_analytics_views_tour", {
    steps: () => [
        {
            trigger: ".o_action_manager .o_view_controller:is(.o_graph_view, .o_pivot_view, .o_form_view, .o_list_view)",
            content: "the view is rendered",
        },
        {
            trigger: ".o_graph_renderer, .o_pivot, .o_form_sheet, .o_list_renderer",
            content: "its content is shown",
        },
    ],
});
