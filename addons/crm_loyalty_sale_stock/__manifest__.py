{
    "name": "CRM Loyalty: Stock of Gifts",
    "summary": "Warn the salesperson when a gift with purchase is out of stock",
    "version": "19.0.1.0.0",
    "category": "Sales/Sales",
    "license": "LGPL-3",
    "author": "CRM Suite",
    "depends": ["crm_loyalty", "sale_stock"],
    "data": [
        # no model of its own: the header only, for the repository's access check
        "security/ir.model.access.csv",
        "views/sale_order_views.xml",
    ],
    "auto_install": True,
    "installable": True,
}
