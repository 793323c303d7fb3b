import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

/** Opens the main menu of each app of the CRM suite and waits for its first view. */
function openApp(xmlid) {
    return [
        stepUtils.showAppsMenuItem(),
        {
            trigger: `.o_app[data-menu-xmlid='${xmlid}']`,
            content: `open ${xmlid}`,
            run: "click",
        },
        {
            trigger: `.o_main_navbar .o_menu_brand`,
            content: "the app is open",
        },
        {
            trigger: ".o_action_manager .o_view_controller",
            content: "its first view is rendered",
        },
    ];
}

registry.category("web_tour.tours").add("crm_suite_smoke_tour", {
    url: "/odoo",
    steps: () => [
        ...openApp("crm_relationship.menu_root"),
        ...openApp("crm_loyalty.menu_root"),
        ...openApp("crm_analytics.menu_root"),
    ],
});
