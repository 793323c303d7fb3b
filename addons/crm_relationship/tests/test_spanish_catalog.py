from odoo.modules.module import get_module_path
from odoo.tests import TransactionCase
from odoo.tests import tagged
from odoo.tools.translate import PoFileReader
from odoo.tools.translate import TranslationModuleReader

# the suite's addons and bridges; those installed in the test database are checked
SUITE = [
    "crm_relationship",
    "crm_loyalty",
    "crm_analytics",
    "crm_analytics_dashboard",
    "crm_relationship_mass_mailing",
    "crm_loyalty_website_sale",
    "crm_loyalty_sale_stock",
]


@tagged("post_install", "-at_install")
class TestSpanishCatalog(TransactionCase):
    """Every term Odoo extracts from the suite's addons (as `i18n export` does: view texts
    with their inline markup, field labels, selections, code messages) has its Spanish in the
    addon's es.po. A term whose msgid differs from what Odoo extracts (a view text written as
    "<span>...</span>" in the view but without the tags in the .po) stays in English on the
    screen; the repository's static check, which compares the .po with the .pot, cannot see
    it."""

    def test_every_term_odoo_extracts_has_its_spanish(self):
        installed = self.env["ir.module.module"].search(
            [("name", "in", SUITE), ("state", "=", "installed")]
        )
        self.assertIn("crm_relationship", installed.mapped("name"))
        for module in installed.mapped("name"):
            with self.subTest(module=module):
                with open(f"{get_module_path(module)}/i18n/es.po", "rb") as po:
                    spanish = {row["src"] for row in PoFileReader(po) if row["value"]}
                terms = {
                    source
                    for term_module, _type, _name, _res_id, source, _value, _comments in (
                        TranslationModuleReader(self.env.cr, modules=[module])
                    )
                    if term_module == module
                }
                self.assertTrue(terms)
                missing = sorted(terms - spanish)
                self.assertFalse(
                    missing, f"{len(missing)} terms of {module} without Spanish: {missing[:5]}"
                )
