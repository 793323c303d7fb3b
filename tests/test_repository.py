"""Static checks of the addons as Odoo loads them: manifests, data files, access rules."""

import ast
import csv
import re
from pathlib import Path

import pytest
from lxml import etree

ADDONS = Path(__file__).resolve().parent.parent / "addons"
MODULES = sorted(p.parent.name for p in ADDONS.glob("*/__manifest__.py"))


def manifest(module):
    return ast.literal_eval((ADDONS / module / "__manifest__.py").read_text())


def test_the_addons_are_present():
    # the three apps and their bridges: analytics and spreadsheet dashboards, relationship
    # and Email Marketing, loyalty and the stock of gifts, loyalty and the online shop
    assert MODULES == [
        "crm_analytics",
        "crm_analytics_dashboard",
        "crm_loyalty",
        "crm_loyalty_sale_stock",
        "crm_loyalty_website_sale",
        "crm_relationship",
        "crm_relationship_mass_mailing",
    ]


@pytest.mark.parametrize("module", MODULES)
def test_manifest_has_the_keys_odoo_and_oca_expect(module):
    data = manifest(module)
    assert re.fullmatch(r"19\.0\.\d+\.\d+\.\d+", data["version"]), data["version"]
    assert data["license"] == "LGPL-3"
    for key in ("name", "summary", "category", "author", "depends", "data"):
        assert data.get(key), f"{module}: manifest key {key!r} is missing or empty"


@pytest.mark.parametrize("module", MODULES)
def test_every_data_file_exists_and_xml_parses(module):
    data = manifest(module)
    for name in data.get("data", []) + data.get("demo", []):
        path = ADDONS / module / name
        assert path.is_file(), f"{module}: {name} is listed in the manifest but missing"
        if path.suffix == ".xml":
            etree.parse(str(path))


@pytest.mark.parametrize("module", MODULES)
def test_every_model_of_the_addon_has_access_rules(module):
    declared = set()
    for path in (ADDONS / module).rglob("*.py"):
        if "tests" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            attrs = {
                target.id: stmt.value
                for stmt in node.body
                if isinstance(stmt, ast.Assign)
                for target in stmt.targets
                if isinstance(target, ast.Name)
            }
            name = attrs.get("_name")
            abstract = any("AbstractModel" in ast.unparse(base) for base in node.bases)
            if isinstance(name, ast.Constant) and not abstract:
                declared.add(name.value)
    with (ADDONS / module / "security" / "ir.model.access.csv").open() as handle:
        granted = {row["model_id:id"].split(".")[-1] for row in csv.DictReader(handle)}
    missing = {model for model in declared if "model_" + model.replace(".", "_") not in granted}
    assert not missing, f"{module}: no access rule for {sorted(missing)}"


@pytest.mark.parametrize("module", MODULES)
def test_spanish_translation_is_complete(module):
    polib = pytest.importorskip("polib")
    i18n = ADDONS / module / "i18n"
    assert (i18n / f"{module}.pot").is_file(), f"{module}: no i18n/{module}.pot template"
    catalog = polib.pofile(str(i18n / "es.po"))
    template = polib.pofile(str(i18n / f"{module}.pot"))
    translated = {entry.msgid for entry in catalog if entry.msgstr and not entry.obsolete}
    missing = [entry.msgid for entry in template if entry.msgid not in translated]
    assert not missing, f"{module}: {len(missing)} terms untranslated in es.po, e.g. {missing[:3]}"
