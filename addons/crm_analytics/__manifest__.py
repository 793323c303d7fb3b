{
    "name": "CRM Analytics",
    "summary": "Understand the customer base: RFM, lifetime value, churn risk, affinity and CRM KPIs",
    "version": "19.0.1.0.0",
    "category": "Sales/CRM",
    "author": "CRM Suite",
    "license": "LGPL-3",
    "depends": ["crm_relationship", "crm_loyalty"],
    "external_dependencies": {"python": ["numpy", "scipy"]},
    "data": [
        "security/crm_analytics_security.xml",
        "security/ir.model.access.csv",
        "views/crm_service_level_views.xml",
        "views/crm_analytics_menus.xml",
    ],
    "demo": [
        "demo/crm_service_level_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "crm_analytics/static/tests/tours/**/*",
        ],
    },
    "application": True,
    "installable": True,
}
