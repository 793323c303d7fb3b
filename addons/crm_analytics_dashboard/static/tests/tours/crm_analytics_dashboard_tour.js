import { registry } from "@web/core/registry";

/**
 * Opens the customer analytics dashboard and waits until every pivot and chart of it has
 * loaded; fails if one of them did not load (a field or measure that no longer exists, a model
 * the user cannot read) or if a cell of any sheet evaluates to an error (#ERROR, #BAD_EXPR...).
 */
registry.category("web_tour.tours").add("crm_analytics_dashboard_tour", {
    steps: () => [
        {
            content: "the dashboard is rendered",
            trigger: ".o_spreadsheet_dashboard_action .o_renderer .o-figure",
        },
        {
            content: "every data source loads and no cell evaluates to an error",
            trigger: ".o_spreadsheet_dashboard_action .o_renderer",
            run: async () => {
                const { waitForDataLoaded } = odoo.loader.modules.get("@spreadsheet/helpers/model");
                const loader = odoo.__WOWL_DEBUG__.root.env.services.spreadsheet_dashboard_loader;
                const model = loader.getActiveDashboard().model;
                await waitForDataLoaded(model);
                const errors = [];
                const { toXC } = odoo.loader.modules.get("@odoo/o-spreadsheet").helpers;
                for (const sheetId of model.getters.getSheetIds()) {
                    const sheetName = model.getters.getSheetName(sheetId);
                    for (const position of model.getters.getEvaluatedCellsPositions(sheetId)) {
                        const cell = model.getters.getEvaluatedCell(position);
                        if (cell.type === "error") {
                            const xc = toXC(position.col, position.row);
                            errors.push(`${sheetName}!${xc}: ${cell.value} ${cell.message || ""}`);
                        }
                    }
                }
                // The cohort table (rows 6-17): each month says how many customers it gained,
                // 0 when none, and such a month shows no percentages (it read blank before).
                const dashboard = model.getters.getSheetIds()[0];
                for (let row = 5; row <= 16; row++) {
                    const size = model.getters.getEvaluatedCell({ sheetId: dashboard, col: 1, row });
                    if (typeof size.value !== "number") {
                        errors.push(`cohort B${row + 1}: ${JSON.stringify(size.value)}, not a number`);
                    } else if (size.value === 0) {
                        for (let col = 2; col <= 14; col++) {
                            const share = model.getters.getEvaluatedCell({ sheetId: dashboard, col, row });
                            if (share.value !== "") {
                                errors.push(`cohort ${toXC(col, row)}: ${share.value} for no customer`);
                            }
                        }
                    }
                }
                // The churn bands' bars (Data!B26:D26, one per band, coloured by what it means)
                // count every scored customer of the churn bands' pivot: a band's key misspelt
                // would read 0 (IFERROR) and leave customers out.
                const data = model.getters.getSheetIds()[1];
                const bands = [1, 2, 3].map(
                    (col) => model.getters.getEvaluatedCell({ sheetId: data, col, row: 25 }).value
                );
                const bandPivot = model.getters.getPivot("4");
                await bandPivot.load();
                const scored = bandPivot.getPivotCellValueAndFormat("__count:sum", []).value || 0;
                if (bands.some((n) => typeof n !== "number") || bands[0] + bands[1] + bands[2] !== scored) {
                    errors.push(`churn bands ${bands.join(", ")} for ${scored} scored customers`);
                }
                // IFERROR hides a pivot that failed to load (a field renamed, a model the
                // user cannot read): ask every pivot and chart data source directly.
                for (const pivotId of model.getters.getPivotIds()) {
                    const pivot = model.getters.getPivot(pivotId);
                    await pivot.load();
                    const error = pivot.assertIsValid({ throwOnError: false });
                    if (error) {
                        errors.push(`pivot ${pivotId}: ${error.message}`);
                    }
                }
                for (const chartId of model.getters.getOdooChartIds()) {
                    const dataSource = model.getters.getChartDataSource(chartId);
                    await dataSource.load();
                    if (!dataSource.isValid()) {
                        errors.push(`chart ${chartId}: ${dataSource.assertIsValid({ throwOnError: false })?.message}`);
                    }
                }
                if (errors.length) {
                    throw new Error(`dashboard errors: ${errors.join("; ")}`);
                }
            },
        },
    ],
});
