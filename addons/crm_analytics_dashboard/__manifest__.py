{
    "name": "CRM Analytics Dashboard",
    "summary": "One-page spreadsheet dashboard of retention, cohorts, segments, CLV, churn and loyalty",
    "version": "19.0.1.0.0",
    "category": "Sales/CRM",
    "author": "CRM Suite",
    "license": "LGPL-3",
    "depends": ["crm_analytics", "spreadsheet_dashboard"],
    "data": [
        "security/ir.model.access.csv",
        "data/spreadsheet_dashboard_data.xml",
        "views/crm_analytics_dashboard_menus.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "crm_analytics_dashboard/static/tests/tours/**/*",
        ],
    },
    "auto_install": True,
    "installable": True,
}
