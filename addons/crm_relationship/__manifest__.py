{
    "name": "CRM Relationship",
    "summary": "Know the customer: metrics, segments and a 360° view of each customer",
    "version": "19.0.1.0.0",
    "category": "Sales/CRM",
    "author": "CRM Suite",
    "license": "LGPL-3",
    "depends": ["contacts", "sale_management", "sale_margin", "account", "crm"],
    "data": [
        "security/crm_relationship_security.xml",
        "security/ir.model.access.csv",
        "data/ir_cron_data.xml",
        "wizards/crm_segment_pin_wizard_views.xml",
        "views/crm_customer_segment_views.xml",
        "views/crm_customer_metric_views.xml",
        "views/res_partner_views.xml",
        "views/crm_relationship_menus.xml",
    ],
    "demo": [
        "demo/crm_customer_segment_demo.xml",
    ],
    "application": True,
    "installable": True,
}
