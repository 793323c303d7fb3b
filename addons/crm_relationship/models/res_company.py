from datetime import timedelta

from odoo import Command
from odoo import api
from odoo import fields
from odoo import models

# DEMO DATA ONLY. The Chilean retailer "Tienda Andina SpA" (demo/crm_demo_store_demo.xml):
# products priced in pesos and the purchase history of its customers, in days before the day
# the demo is installed, so that each demo segment has members on any install date.
# Products: xml id suffix -> (name, list price, cost, category), in CLP.
DEMO_PRODUCTS = {
    "zapatillas": ("Zapatillas Trekking Andes", 59990, 32000, "Calzado"),
    "chaqueta": ("Chaqueta Impermeable", 89990, 48000, "Vestuario"),
    "polera": ("Polera de Algodón", 12990, 5500, "Vestuario"),
    "jeans": ("Jeans Clásico", 29990, 14000, "Vestuario"),
    "parka": ("Parka de Pluma", 149990, 82000, "Vestuario"),
    "mochila": ("Mochila 30 L", 34990, 17000, "Camping"),
    "gorro": ("Gorro de Lana", 9990, 3500, "Accesorios"),
    "saco": ("Saco de Dormir", 69990, 38000, "Camping"),
}
# Customer (xml id suffix of res_partner_andina_<x>_demo; the ordering contact for companies)
# -> (days ago of each order, basket {product: quantity}, payment habit).
# Habits: "on_time" pays 12 days after the invoice, "late" 45 days after the due date (30 days),
# "slightly_late" 5 days after it; payments that would fall after today are not made yet.
DEMO_HISTORY = {
    # Premium: over 1,000,000 invoiced in the last 12 months
    "cordillera_paula": ([300, 200, 90, 40], {"polera": 20, "zapatillas": 10}, "slightly_late"),
    "ignacio": (range(340, 0, -25), {"chaqueta": 1, "polera": 1}, "on_time"),
    "martina": (range(330, 0, -50), {"parka": 1, "zapatillas": 1}, "on_time"),
    # Late payer: pays about a month and a half late
    "rodrigo": (range(250, 80, -40), {"jeans": 1, "polera": 1}, "late"),
    # Frequent: at least one purchase a month, the last one recent
    "catalina": (range(170, 0, -20), {"polera": 1, "gorro": 1}, "on_time"),
    "benjamin": (range(155, 0, -25), {"jeans": 1, "polera": 2}, "on_time"),
    "francisca": (range(75, 0, -14), {"mochila": 1}, "on_time"),
    # At risk: bought before, nothing in the last four months
    "sebastian": ([480, 400, 300, 200], {"chaqueta": 1}, "on_time"),
    "fernanda": ([150], {"saco": 1, "mochila": 1}, "on_time"),
    "tomas": ([520, 380, 250], {"zapatillas": 1, "gorro": 1}, "on_time"),
    # Regular: occasional buyers
    "javiera": ([140, 15], {"jeans": 1}, "on_time"),
    "diego": ([110, 70], {"polera": 3}, "on_time"),
    "antonia": ([200, 95], {"chaqueta": 1}, "on_time"),
    "joaquin": ([320, 180, 50], {"gorro": 2, "polera": 1}, "on_time"),
    "valeria": ([110, 35], {"zapatillas": 1}, "on_time"),
}


class ResCompany(models.Model):
    _inherit = "res.company"

    @api.model
    def _crm_demo_create_store(self, company_id):
        """DEMO DATA ONLY: set up the accounting of the demo retailer in Chilean pesos, create
        its products and a sales, invoicing and payment history over the last 18 months, then
        refresh and classify its customers' metrics.

        Called once by demo/crm_demo_store_demo.xml (demo functions do not run on update).
        """
        company = self.browse(company_id)
        company._crm_demo_setup_accounting()
        env_company = self.with_context(
            allowed_company_ids=company.ids, tracking_disable=True, mail_notrack=True
        ).env
        products = env_company["res.company"]._crm_demo_create_products(company)
        env_company["res.company"]._crm_demo_create_history(company, products)
        env_company["crm.customer.metric"]._refresh_metrics(company_ids=company.ids)

    def _crm_demo_setup_accounting(self):
        """DEMO DATA ONLY: the generic chart of accounts in CLP, Chile as fiscal country and a
        19% VAT (IVA) instead of the generic 15% sales tax."""
        self.ensure_one()
        chile = self.env.ref("base.cl")
        clp = self.env.ref("base.CLP")
        clp.active = True
        # generic_coa writes the United States as fiscal country and its currency (see
        # _get_generic_coa_res_company and _pre_load_data): put Chile back before any entry.
        # _load, not try_loading: the latter warns whenever the registry is still loading,
        # which is always the case in demo data; its guard is about chart templates of modules
        # not installed yet, and generic_coa belongs to account.
        self.env["account.chart.template"]._load("generic_coa", self, install_demo=False)
        self.write({"currency_id": clp.id, "account_fiscal_country_id": chile.id})
        Tax = self.env["account.tax"].with_context(active_test=False)
        taxes = Tax.search([("company_id", "=", self.id)])
        taxes.tax_group_id.country_id = chile
        taxes.country_id = chile
        self.env["account.fiscal.position"].search(
            [("company_id", "=", self.id), ("country_id", "!=", False)]
        ).country_id = chile
        (self.account_sale_tax_id | self.account_purchase_tax_id).write(
            {"name": "IVA 19%", "amount": 19}
        )
        self.account_sale_tax_id.tax_group_id.name = "IVA 19%"

    @api.model
    def _crm_demo_create_products(self, company):
        """DEMO DATA ONLY: the store's products and their categories, priced in CLP:
        {key: product.product}."""
        names = sorted({row[3] for row in DEMO_PRODUCTS.values()})
        categories = dict(
            zip(
                names,
                self.env["product.category"].create([{"name": n} for n in names]),
                strict=True,
            )
        )
        products = self.env["product.product"].create(
            [
                {
                    "name": name,
                    "categ_id": categories[category].id,
                    "type": "consu",
                    "list_price": price,
                    "standard_price": cost,
                    "invoice_policy": "order",
                    "company_id": company.id,
                    "taxes_id": [Command.set(company.account_sale_tax_id.ids)],
                }
                for name, price, cost, category in DEMO_PRODUCTS.values()
            ]
        )
        by_key = dict(zip(DEMO_PRODUCTS, products, strict=True))
        self.env["ir.model.data"]._update_xmlids(
            [
                {
                    "xml_id": f"crm_relationship.product_andina_{key}_demo",
                    "record": product,
                    "noupdate": True,
                }
                for key, product in by_key.items()
            ]
        )
        return by_key

    @api.model
    def _crm_demo_create_history(self, company, products):
        """DEMO DATA ONLY: confirmed orders, posted invoices and payments of DEMO_HISTORY, plus
        a partial payment and a credit note."""
        today = fields.Date.context_today(self)
        term = self.env.ref("account.account_payment_term_30days")
        salesman = self.env.ref("base.user_admin")
        plan = sorted(
            (today - timedelta(days=days), key, basket, habit)
            for key, (days_list, basket, habit) in DEMO_HISTORY.items()
            for days in days_list
        )
        # An uniform supplier's debt: half of a big order paid, the rest long overdue.
        plan.append((today - timedelta(days=150), "don_lucho_luis", {"polera": 60}, "partial"))
        plan.sort(key=lambda row: row[0])
        partner = {
            key: self.env.ref(f"crm_relationship.res_partner_andina_{key}_demo")
            for key in {row[1] for row in plan}
        }
        orders = self.env["sale.order"].create(
            [
                {
                    "partner_id": partner[key].id,
                    "company_id": company.id,
                    "user_id": salesman.id,
                    "payment_term_id": term.id,
                    "order_line": [
                        Command.create({"product_id": products[p].id, "product_uom_qty": qty})
                        for p, qty in basket.items()
                    ],
                }
                for _date, key, basket, _habit in plan
            ]
        )
        orders.action_confirm()
        for order, (date, *_rest) in zip(orders, plan, strict=True):
            order.date_order = fields.Datetime.to_datetime(date) + timedelta(hours=11)
        invoices = orders._create_invoices(grouped=True)
        invoice_of = {
            invoice.invoice_line_ids.sale_line_ids.order_id: invoice for invoice in invoices
        }
        for order, (date, *_rest) in zip(orders, plan, strict=True):
            invoice_of[order].invoice_date = date
        invoices.sorted("invoice_date").action_post()
        # The customer of the third order of "benjamin" gave back a polera before paying.
        returned = invoice_of[orders.filtered(lambda o: o.partner_id == partner["benjamin"])[2]]
        self._crm_demo_credit_note(
            returned, products["polera"], returned.invoice_date + timedelta(days=3)
        )
        for order, (date, _key, _basket, habit) in zip(orders, plan, strict=True):
            invoice = invoice_of[order]
            due = invoice.invoice_date_due  # the orders' 30-day payment term
            amount = invoice.amount_residual
            pay_date = {
                "on_time": date + timedelta(days=12),
                "slightly_late": due + timedelta(days=5),
                "late": due + timedelta(days=45),
                "partial": date + timedelta(days=20),
            }[habit]
            if habit == "partial":
                amount = company.currency_id.round(amount / 2)
            if pay_date <= today:
                self._crm_demo_pay(invoice, amount, pay_date)

    @api.model
    def _crm_demo_credit_note(self, invoice, product, date):
        """DEMO DATA ONLY: a posted credit note of one unit of `product`, set against `invoice`."""
        line = invoice.invoice_line_ids.filtered(lambda line: line.product_id == product)[:1]
        refund = self.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": invoice.partner_id.id,
                "invoice_date": date,
                "reversed_entry_id": invoice.id,
                "ref": f"Devolución {invoice.name}",
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "quantity": 1,
                            "price_unit": line.price_unit,
                            "tax_ids": [Command.set(line.tax_ids.ids)],
                            "sale_line_ids": [Command.set(line.sale_line_ids.ids)],
                        }
                    )
                ],
            }
        )
        refund.action_post()
        (invoice | refund).line_ids.filtered(
            lambda line: line.display_type == "payment_term" and not line.reconciled
        ).reconcile()
        return refund

    @api.model
    def _crm_demo_pay(self, invoice, amount, date):
        """DEMO DATA ONLY: register a customer payment of `amount` on `invoice` on `date`."""
        return (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"payment_date": date, "amount": amount})
            ._create_payments()
        )
