from lxml import etree

from odoo.fields import Date
from odoo.tests import new_test_user
from odoo.tools import SQL

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

RELATIONAL = ("many2one", "one2many", "many2many")


def offer_spanish_on_the_portal(env, modules):
    """Activate es_CL with the Spanish of ``modules`` as their .po files give it, and offer it
    on every website: with the web shop installed, a portal page is in the customer's language
    only if the website offers it. Returns the language.

    The views of ``modules`` first lose any Spanish the database holds, so that the pages
    show what the .po files give, whatever an earlier load left."""
    lang = env["res.lang"]._activate_lang("es_CL")
    env.flush_all()
    env.cr.execute(
        SQL(
            """UPDATE ir_ui_view v SET arch_db = v.arch_db - 'es_CL'
                 FROM ir_model_data d
                WHERE d.model = 'ir.ui.view' AND d.res_id = v.id AND d.module = ANY(%s)
                  AND v.arch_db ? 'es_CL'""",
            list(modules),
        )
    )
    env["ir.ui.view"].invalidate_model(["arch_db"])
    env["ir.module.module"]._load_module_terms(modules, ["es_CL"])
    if "website" in env:
        for website in env["website"].search([]):
            website.language_ids |= lang
    return lang


def partner_form_fields(Partner):
    """The fields of the partner form as rendered for `Partner`'s user, with their
    descriptions. (`models` also lists fields whose nodes the user's groups removed.)"""
    views = Partner.get_views([(False, "form")])
    shown = {
        node.get("name") for node in etree.fromstring(views["views"]["form"]["arch"]).iter("field")
    }
    return {
        name: description
        for name, description in views["models"]["res.partner"]["fields"].items()
        if name in shown
    }


def form_read_spec(form_fields):
    """The `web_read` specification the web client sends for these form fields."""
    spec = {}
    for name, description in form_fields.items():
        spec[name] = {}
        if description["type"] in RELATIONAL:
            spec[name] = {"fields": {"display_name": {}}}
            if description["type"] != "many2one":
                spec[name]["limit"] = 40
    return spec


class CrmRelationshipCommon(AccountTestInvoicingCommon):
    """A fresh company with its chart of accounts, a customer with a contact, CRM users and a
    helper to build posted invoices, payments and confirmed orders on chosen dates."""

    @classmethod
    def get_default_groups(cls):
        # the test environment's user also sells (orders) and manages CRM segments
        return (
            super().get_default_groups()
            | cls.quick_ref("sales_team.group_sale_manager")
            | cls.quick_ref("crm_relationship.group_manager")
        )

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.Metric = cls.env["crm.customer.metric"]
        cls.Segment = cls.env["crm.customer.segment"]
        cls.History = cls.env["crm.customer.segment.history"]
        cls.customer = cls.env["res.partner"].create(
            {"name": "Comercial Andes Test Ltda", "is_company": True}
        )
        cls.contact = cls.env["res.partner"].create(
            {"name": "Camila Rojas Test", "parent_id": cls.customer.id}
        )
        cls.other_customer = cls.env["res.partner"].create(
            {"name": "Distribuidora Maule Test", "is_company": True}
        )
        cls.crm_user = new_test_user(
            cls.env,
            login="crm_rel_user",
            groups="base.group_user,crm_relationship.group_user",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.crm_manager = new_test_user(
            cls.env,
            login="crm_rel_manager",
            groups="base.group_user,crm_relationship.group_manager",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )

    @classmethod
    def _invoice(cls, partner, amount, invoice_date, due_date=None, move_type="out_invoice", **kw):
        """A posted customer invoice (or credit note) of `amount` untaxed, without taxes."""
        invoice = cls._create_invoice_one_line(
            price_unit=amount,
            tax_ids=[],
            partner_id=partner.id,
            move_type=move_type,
            invoice_date=Date.to_date(invoice_date),
            invoice_date_due=due_date and Date.to_date(due_date),
            **kw,
        )
        invoice.action_post()
        return invoice

    @classmethod
    def _pay(cls, invoice, amount, payment_date):
        """Register a customer payment of `amount` on `invoice` dated `payment_date`."""
        return cls._register_payment(
            invoice, amount=amount, payment_date=Date.to_date(payment_date)
        )

    @classmethod
    def _order(cls, partner, price, date_order, cost=None):
        """A confirmed sale order of one unit of product_a at `price`, dated `date_order`."""
        order = cls._create_sale_order_one_line(
            price_unit=price, product_id=cls.product_a, tax_ids=[], partner_id=partner.id
        )
        if cost is not None:
            order.order_line.purchase_price = cost
        order.date_order = f"{date_order} 10:00:00"
        return order

    def _refresh(self, partners=None, **kw):
        partners = partners if partners is not None else self.customer | self.other_customer
        self.Metric._refresh_metrics(partners.ids, self.company.ids, **kw)
        return self.Metric.search(
            [("partner_id", "in", partners.ids), ("company_id", "=", self.company.id)]
        )

    def assertFullRefreshAgrees(self, metric):
        """A full refresh gives `metric` the figures of the partial refresh that made it."""
        fields = self.Metric._metric_columns()
        before = metric.read(fields)
        self.Metric._refresh_metrics(None, self.company.ids, classify=False)
        metric.invalidate_recordset()
        self.assertEqual(metric.read(fields), before)

    def _segment(self, name, domain, sequence=10, **kw):
        return self.Segment.create(
            {"name": name, "domain": domain, "sequence": sequence, "company_id": self.company.id}
            | kw
        )

    @classmethod
    def _partner_form_fields(cls, user=None):
        Partner = cls.env["res.partner"].with_user(user) if user else cls.env["res.partner"]
        return partner_form_fields(Partner)

    def _read_partner_form(self, partner, form_fields):
        """Read `partner` as the web client does for its form view, from a cold cache.
        Returns the values and the number of queries it took."""
        spec = form_read_spec(form_fields)
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        data = partner.web_read(spec)[0]
        return data, self.env.cr.sql_log_count - before
