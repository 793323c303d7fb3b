import { registry } from "@web/core/registry";

/**
 * A graph of rates in percent: its vertical axis reads "100", "90" (no "100,00", "90,00").
 */
registry.category("web_tour.tours").add("crm_analytics_rate_axes_tour", {
    steps: () => [
        {
            content: "the graph is drawn",
            trigger: ".o_graph_renderer canvas",
            run: () => {
                const canvas = document.querySelector(".o_graph_renderer canvas");
                const chart = window.Chart.getChart(canvas);
                const labels = chart.scales.y.ticks.map((tick) => tick.label);
                if (labels.length < 2 || labels.some((label) => /[.,]0+$/.test(label))) {
                    throw new Error(`the rate axis reads ${labels.join(" | ")}`);
                }
            },
        },
    ],
});
