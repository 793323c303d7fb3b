{
    "name": "CRM Loyalty",
    "summary": "Reward the customer: points ledger, pending points, expiry, tiers and statements",
    "version": "19.0.1.0.0",
    "category": "Sales/CRM",
    "author": "CRM Suite",
    "license": "LGPL-3",
    "depends": ["crm_relationship", "loyalty", "sale_loyalty", "account"],
    "data": [
        "security/crm_loyalty_security.xml",
        "security/ir.model.access.csv",
        "views/crm_loyalty_tier_views.xml",
        "views/crm_loyalty_menus.xml",
    ],
    "demo": [
        "demo/crm_loyalty_tier_demo.xml",
    ],
    "application": True,
    "installable": True,
}
