{
    "name": "CRM Loyalty: Online Shop",
    "summary": "Store-card promotions in the online shop: shown on the product and in the cart, "
    "applied when the customer picks the required payment method",
    "version": "19.0.1.0.0",
    "category": "Website/Website",
    "author": "CRM Suite",
    "license": "LGPL-3",
    "depends": ["crm_loyalty", "website_sale_loyalty"],
    "data": [
        # no model of its own: the header only, for the repository's access check
        "security/ir.model.access.csv",
        "views/website_sale_templates.xml",
    ],
    "demo": [
        "demo/crm_loyalty_website_sale_demo.xml",
    ],
    "assets": {
        "web.assets_frontend": ["crm_loyalty_website_sale/static/src/interactions/**/*"],
        "web.assets_tests": ["crm_loyalty_website_sale/static/tests/tours/**/*"],
    },
    "auto_install": True,
    "installable": True,
}
