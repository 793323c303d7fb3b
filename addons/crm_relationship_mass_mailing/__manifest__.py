{
    "name": "CRM Relationship: Campaigns to Segments",
    "summary": "Send Email Marketing campaigns to customer segments, with consent, interactions"
    " and the campaign's revenue",
    "version": "19.0.1.0.0",
    "category": "Marketing/Email Marketing",
    "author": "CRM Suite",
    "license": "LGPL-3",
    "depends": ["crm_relationship", "mass_mailing"],
    "data": [
        "security/ir.model.access.csv",
        "views/mailing_mailing_views.xml",
        "views/crm_interaction_views.xml",
    ],
    "auto_install": True,
    "installable": True,
}
