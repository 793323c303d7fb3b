import json
import re

from odoo.tests import HttpCase
from odoo.tests import new_test_user
from odoo.tests import tagged
from odoo.tools import file_open
from odoo.tools import mute_logger
from odoo.tools.translate import code_translations
from odoo.tools.translate import extract_spreadsheet_terms

from odoo.addons.spreadsheet.utils.validate_data import fields_in_spreadsheet
from odoo.addons.spreadsheet.utils.validate_data import menus_xml_ids_in_spreadsheet
from odoo.addons.spreadsheet.utils.validate_data import odoo_charts

DASHBOARD_FILE = "crm_analytics_dashboard/data/files/customer_analytics_dashboard.json"
PIVOT_CALL = re.compile(r"\b(PIVOT(?:\.VALUE|\.HEADER)?)\(")


def pivot_calls(formula):
    """(function, [arguments]) of each PIVOT, PIVOT.VALUE and PIVOT.HEADER call of a formula;
    string arguments unquoted, the others as written."""
    calls = []
    for match in PIVOT_CALL.finditer(formula):
        args, current, depth, quoted = [], "", 0, False
        for char in formula[match.end() :]:
            if char == '"':
                quoted = not quoted
            elif not quoted and char == "(":
                depth += 1
            elif not quoted and char == ")":
                if depth == 0:
                    break
                depth -= 1
            elif not quoted and depth == 0 and char == ",":
                args.append(current.strip().strip('"'))
                current = ""
                continue
            current += char
        args.append(current.strip().strip('"'))
        calls.append((match.group(1), args))
    return calls


def dimension_key(dimension):
    """How formulas and read_group name a pivot dimension: ``date:month`` or ``kind``."""
    granularity = dimension.get("granularity")
    return f"{dimension['fieldName']}:{granularity}" if granularity else dimension["fieldName"]


@tagged("post_install", "-at_install")
class TestCustomerAnalyticsDashboard(HttpCase):
    """The one-page dashboard: who opens it, in Spanish, and whether every data source it
    names exists and is readable by an analytics user (the least privileged who opens it)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("es_CL")
        cls.env.ref("base.module_crm_analytics_dashboard")._update_translations(["es_CL"])
        cls.dashboard = cls.env.ref(
            "crm_analytics_dashboard.spreadsheet_dashboard_customer_analytics"
        )
        cls.analyst = new_test_user(
            cls.env, login="dash_analyst", groups="crm_analytics.group_user", lang="es_CL"
        )
        cls.salesman = new_test_user(
            cls.env, login="dash_salesman", groups="sales_team.group_sale_salesman", lang="es_CL"
        )
        with file_open(DASHBOARD_FILE) as file:
            cls.spreadsheet = json.load(file)

    def _menus_of(self, user):
        """Ids of the menu items the web client shows to ``user``."""
        return set(self.env["ir.ui.menu"].with_user(user).load_menus(debug=False)) - {"root"}

    def _get_data(self, user):
        self.authenticate(user.login, user.login)
        return self.url_open(f"/spreadsheet/dashboard/data/{self.dashboard.id}")

    # ------------------------------------------------------------------------------- access

    def test_analytics_user_loads_the_dashboard_in_chilean_spanish(self):
        response = self._get_data(self.analyst)
        self.assertEqual(response.status_code, 200)
        data = response.json()
        self.assertEqual(data["snapshot"]["settings"]["locale"]["code"], "es_CL")
        self.assertEqual(data["translation_namespace"], "crm_analytics_dashboard")
        self.assertEqual(data["default_currency"]["code"], self.env.company.currency_id.name)
        # The served workbook is the shipped file (no sample replaces it).
        self.assertNotIn("is_sample", data)
        self.assertEqual(data["snapshot"]["pivots"], self.spreadsheet["pivots"])

    def test_analytics_user_finds_it_in_dashboards_and_in_the_analytics_menu(self):
        groups = (
            self.env["spreadsheet.dashboard.group"]
            .with_user(self.analyst)
            .search([("published_dashboard_ids", "!=", False)])
        )
        self.assertIn(self.dashboard, groups.with_user(self.analyst).published_dashboard_ids)
        menu = self.env.ref("crm_analytics_dashboard.spreadsheet_dashboard_customer_analytics_menu")
        self.assertIn(menu.id, self._menus_of(self.analyst))
        self.assertEqual(menu.parent_id, self.env.ref("crm_analytics.menu_root"))
        # First entry of the Analytics menu.
        self.assertEqual(menu.parent_id.child_id.sorted("sequence")[:1], menu)
        self.assertEqual(menu.with_context(lang="es_CL").name, "Tablero")
        self.assertEqual(self.dashboard.with_context(lang="es_CL").name, "Clientes")

    def test_salesperson_cannot_open_or_list_the_dashboard(self):
        with mute_logger("odoo.http"):
            response = self._get_data(self.salesman)
        self.assertNotEqual(response.status_code, 200)
        self.assertNotIn(b"crm.report.retention", response.content)
        Dashboard = self.env["spreadsheet.dashboard"].with_user(self.salesman)
        self.assertFalse(Dashboard.search([("id", "=", self.dashboard.id)]))
        menu = self.env.ref("crm_analytics_dashboard.spreadsheet_dashboard_customer_analytics_menu")
        self.assertNotIn(menu.id, self._menus_of(self.salesman))

    # ------------------------------------------------------------------------------- data sources

    def test_every_model_and_field_of_the_dashboard_exists_and_the_analyst_reads_it(self):
        fields_by_model = fields_in_spreadsheet(self.spreadsheet)
        self.assertEqual(
            set(fields_by_model),
            {
                "crm.report.retention",
                "crm.report.cohort",
                "crm.customer.score",
                "crm.clv.model",
                "crm.customer.metric",
                "crm.customer.segment.history",
                "crm.loyalty.ledger",
            },
        )
        for model, field_names in fields_by_model.items():
            self.assertIn(model, self.env, f"model {model} of the dashboard does not exist")
            Model = self.env[model].with_user(self.analyst)
            self.assertTrue(Model.has_access("read"), f"the analyst cannot read {model}")
            readable = Model.fields_get(attributes=["type"])
            for name in field_names:
                self.assertIn(name, readable, f"{model}.{name} missing or not readable")

    def test_each_pivot_and_chart_aggregates_as_the_analyst(self):
        """The read_group each pivot and chart sends, run as the analyst: real field names,
        aggregators and group-bys, and record rules that let them through."""
        for pivot in self.spreadsheet["pivots"].values():
            with self.subTest(pivot=pivot["name"]):
                Model = self.env[pivot["model"]].with_user(self.analyst)
                groupby = [dimension_key(dim) for dim in pivot["rows"] + pivot["columns"]]
                aggregates = [
                    "__count"
                    if measure["fieldName"] == "__count"
                    else f"{measure['fieldName']}:{measure['aggregator']}"
                    for measure in pivot["measures"]
                ]
                Model.formatted_read_group(pivot["domain"], groupby, aggregates)
        for chart in odoo_charts(self.spreadsheet):
            with self.subTest(chart=chart["title"]["text"]):
                meta = chart["metaData"]
                Model = self.env[meta["resModel"]].with_user(self.analyst)
                measure = meta["measure"]
                aggregate = "__count"
                if measure != "__count":
                    # A chart aggregates its measure with the field's own aggregator.
                    aggregator = Model._fields[measure].aggregator
                    self.assertTrue(aggregator, f"{meta['resModel']}.{measure} has no aggregator")
                    aggregate = f"{measure}:{aggregator}"
                Model.formatted_read_group(
                    chart["searchParams"]["domain"], meta["groupBy"], [aggregate]
                )

    def test_formulas_name_pivots_measures_and_dimensions_that_exist(self):
        pivots = self.spreadsheet["pivots"]
        calls = [
            call
            for sheet in self.spreadsheet["sheets"]
            for content in sheet["cells"].values()
            for call in pivot_calls(content)
        ]
        self.assertGreater(len(calls), 50)
        for function, args in calls:
            with self.subTest(call=f"{function}({', '.join(args)})"):
                pivot = pivots.get(args[0])
                self.assertTrue(pivot, f"pivot {args[0]} does not exist")
                if function == "PIVOT":
                    continue
                dimensions = {dimension_key(dim) for dim in pivot["rows"] + pivot["columns"]}
                if function == "PIVOT.VALUE":
                    self.assertIn(args[1], {measure["id"] for measure in pivot["measures"]})
                    args = args[1:]
                for dimension in args[1::2]:
                    self.assertIn(dimension, dimensions)

    def test_links_open_existing_menus_and_actions(self):
        for xmlid in menus_xml_ids_in_spreadsheet(self.spreadsheet):
            menu = self.env.ref(xmlid)
            self.assertTrue(menu.action, f"menu {xmlid} of the dashboard has no action")
        for chart in odoo_charts(self.spreadsheet):
            if chart.get("actionXmlId"):
                self.env.ref(chart["actionXmlId"])
        for pivot in self.spreadsheet["pivots"].values():
            if pivot.get("actionXmlId"):
                self.env.ref(pivot["actionXmlId"])

    # ------------------------------------------------------------------------------- Spanish

    def test_every_title_and_label_has_a_chilean_spanish_translation(self):
        with file_open(DASHBOARD_FILE, "rb") as file:
            terms = {
                term
                for _line, _func, term, _comments in extract_spreadsheet_terms(file, [], [], {})
            }
        self.assertGreater(len(terms), 20)
        translations = {
            message["id"]: message["string"]
            for message in code_translations.get_web_translations(
                "crm_analytics_dashboard", "es_CL"
            )["messages"]
        }
        missing = sorted(term for term in terms if not translations.get(term))
        self.assertFalse(
            missing, f"terms of the dashboard without a Spanish translation: {missing}"
        )

    # ------------------------------------------------------------------------------- browser

    def test_dashboard_opens_in_the_browser_without_formula_errors(self):
        self.start_tour(
            "/odoo/action-crm_analytics_dashboard.spreadsheet_dashboard_customer_analytics_action",
            "crm_analytics_dashboard_tour",
            login=self.analyst.login,
        )

    def test_store_analyst_sees_the_dashboard_of_a_scored_store(self):
        """The same tour as an analytics user of the demo store, whose customers are scored:
        its churn bands count every one of them (the main company has no scores)."""
        store = self.env.ref("crm_relationship.res_company_andina_demo", raise_if_not_found=False)
        if not store:
            self.skipTest("the demo store is installed with the demo data only")
        self.assertTrue(
            self.env["crm.customer.score"].search_count([("company_id", "=", store.id)])
        )
        analyst = new_test_user(
            self.env,
            login="dash_store_analyst",
            groups="crm_analytics.group_user",
            lang="es_CL",
            company_id=store.id,
            company_ids=[store.id],
        )
        self.start_tour(
            "/odoo/action-crm_analytics_dashboard.spreadsheet_dashboard_customer_analytics_action",
            "crm_analytics_dashboard_tour",
            login=analyst.login,
        )
