"""DEMO DATA ONLY: the Chilean retailer "Tienda Andina SpA" and two years of its customers.

`story.story(today)` plans, deterministically and relative to the install day, who buys what and
when; `crm.relationship.demo` turns the plan into confirmed orders, posted invoices, payments and
credit notes through the ORM, then replays the customers' segments month by month. The loyalty
card holders' purchases are built by crm_loyalty's demo (demo/cards.py), once the store card
exists, so that every one of their orders earns points.
"""

import random
from datetime import datetime
from datetime import time
from datetime import timedelta

from odoo import Command
from odoo import api
from odoo import fields
from odoo import models

from .story import DEMO_PRODUCTS
from .story import SEED
from .story import month_ends
from .story import pay_date
from .story import story


class CrmRelationshipDemo(models.AbstractModel):
    """DEMO DATA ONLY: builds the demo retailer and its customers' history (demo/*.xml)."""

    _name = "crm.relationship.demo"
    _description = "Demo Store Generator"

    @api.model
    def _demo_env(self, company):
        """An environment in `company`, without mail tracking (the history is generated)."""
        return (
            self.with_company(company)
            .with_context(
                allowed_company_ids=company.ids,
                tracking_disable=True,
                mail_notrack=True,
                mail_create_nolog=True,
                mail_create_nosubscribe=True,
            )
            .env
        )

    @api.model
    def _staff_roles(self, user_xmlids, group_xmlids=(), lang="es_CL"):
        """Give the store's demo users `user_xmlids` the groups `group_xmlids` (an addon adds
        its own role to crm_relationship's users) and the store's language when the database
        has it (make run loads Spanish (Chile); the test database has English only). Called on
        install and on update, so that the demo users of an older database get their new
        groups; a demo user deleted since is left out."""
        users = self.env["res.users"]
        for xmlid in user_xmlids:
            users |= self.env.ref(xmlid, raise_if_not_found=False) or users.browse()
        groups = [self.env.ref(xmlid).id for xmlid in group_xmlids]
        if groups:
            users.write({"group_ids": [Command.link(group_id) for group_id in groups]})
        if lang and self.env["res.lang"]._lang_get(lang):
            users.write({"lang": lang})

    @api.model
    def _create_store(self, company_id):
        """Set up the accounting of the demo retailer in Chilean pesos, create its products and
        the two-year history of its customers who hold no store card, then replay their segments
        month by month. Called once by demo/crm_demo_store_demo.xml (demo functions do not run on
        update)."""
        company = self.env["res.company"].browse(company_id)
        self._setup_accounting(company)
        self._setup_warehouse(company)
        demo = self._demo_env(company)["crm.relationship.demo"]
        products = demo._create_products(company)
        today = fields.Date.context_today(self)
        customers = [c for c in story(today) if not c.holder]
        partners = demo._customer_partners(company, customers)
        demo._create_history(company, customers, partners, products)
        demo._replay_segments(company, customers, partners)

    @api.model
    def _setup_warehouse(self, company):
        """The store's warehouse, when the inventory app is installed: its orders are
        delivered from it (Odoo 19 gives a new company none outside tests, and sale_stock
        refuses to confirm an order without one). Installing the inventory app after the demo
        store exists meets Odoo's own 'create a warehouse' refusal instead."""
        Warehouse = self.env.get("stock.warehouse")
        if Warehouse is not None and not Warehouse.search_count([("company_id", "=", company.id)]):
            Warehouse.create(
                {
                    "name": company.name,
                    "code": "ANDIN",
                    "company_id": company.id,
                    "partner_id": company.partner_id.id,
                }
            )

    @api.model
    def _setup_accounting(self, company):
        """The generic chart of accounts in CLP, Chile as fiscal country and a 19% VAT (IVA)
        instead of the generic 15% sales tax."""
        company.ensure_one()
        chile = self.env.ref("base.cl")
        clp = self.env.ref("base.CLP")
        clp.active = True
        # generic_coa writes the United States as fiscal country and its currency (see
        # _get_generic_coa_res_company and _pre_load_data): put Chile back before any entry.
        # _load, not try_loading: the latter warns whenever the registry is still loading,
        # which is always the case in demo data; its guard is about chart templates of modules
        # not installed yet, and generic_coa belongs to account.
        self.env["account.chart.template"]._load("generic_coa", company, install_demo=False)
        company.write({"currency_id": clp.id, "account_fiscal_country_id": chile.id})
        Tax = self.env["account.tax"].with_context(active_test=False)
        taxes = Tax.search([("company_id", "=", company.id)])
        taxes.tax_group_id.country_id = chile
        taxes.country_id = chile
        self.env["account.fiscal.position"].search(
            [("company_id", "=", company.id), ("country_id", "!=", False)]
        ).country_id = chile
        (company.account_sale_tax_id | company.account_purchase_tax_id).write(
            {"name": "IVA 19%", "amount": 19}
        )
        company.account_sale_tax_id.tax_group_id.name = "IVA 19%"

    @api.model
    def _create_products(self, company):
        """The store's products and their categories, priced in CLP: {key: product.product}."""
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
    def _products(self):
        """The store's products created by `_create_products`: {key: product.product}."""
        return {
            key: self.env.ref(f"crm_relationship.product_andina_{key}_demo")
            for key in DEMO_PRODUCTS
        }

    @api.model
    def _customer_partners(self, company, customers):
        """The ordering contact of each planned customer: the named ones' demo records, new
        partners for the generated ones. Returns {key: res.partner}."""
        partners = {
            c.key: self.env.ref(f"crm_relationship.res_partner_andina_{c.key}_demo")
            for c in customers
            if not c.name
        }
        generated = [c for c in customers if c.name]
        records = self.env["res.partner"].create(
            [
                {
                    "name": c.name,
                    "email": "{}@example.com".format(
                        c.name.lower()
                        .replace(" ", ".")
                        .translate(str.maketrans("áéíóúñ", "aeioun"))
                    ),
                    "city": c.city,
                    "country_id": self.env.ref("base.cl").id,
                    "lang": "es_CL" if self.env["res.lang"]._lang_get("es_CL") else False,
                    "customer_rank": 1,
                }
                for c in generated
            ]
        )
        partners.update(zip((c.key for c in generated), records, strict=True))
        return partners

    @api.model
    def _order_values(self, company, partner, basket, products):
        """Values of a sales order of `basket` ({product key: quantity}) for `partner`."""
        return {
            "partner_id": partner.id,
            "company_id": company.id,
            "user_id": self.env.ref("base.user_admin").id,
            "payment_term_id": self.env.ref("account.account_payment_term_30days").id,
            "order_line": [
                Command.create({"product_id": products[key].id, "product_uom_qty": qty})
                for key, qty in basket.items()
            ],
        }

    @api.model
    def _confirm_dated(self, orders, dates):
        """Confirm `orders`, put back each order's day (confirmation sets the date to now) and
        invoice each one on that day. Returns {order: posted invoice}.

        The invoices are built from `sale.order._prepare_invoice` and
        `sale.order.line._prepare_invoice_line` and created in one batch: one
        `_create_invoices` per day costs twice as much for a history of a few hundred days.
        """
        orders.action_confirm()
        by_day = {}
        for order, day in zip(orders, dates, strict=True):
            by_day[day] = by_day.get(day, self.env["sale.order"]) | order
        for day, day_orders in by_day.items():
            # mid-afternoon UTC: late morning in Santiago, the same day in both time zones
            day_orders.write({"date_order": datetime.combine(day, time(15))})
        vals_list = []
        for order, day in zip(orders, dates, strict=True):
            vals = order._prepare_invoice()
            vals["invoice_date"] = day
            vals["invoice_line_ids"] = [
                Command.create(line._prepare_invoice_line()) for line in order.order_line
            ]
            vals_list.append(vals)
        invoices = (
            self.env["account.move"].with_context(default_move_type="out_invoice").create(vals_list)
        )
        invoices.sorted(lambda move: (move.invoice_date, move.id)).action_post()
        return dict(zip(orders, invoices, strict=True))

    @api.model
    def _create_history(self, company, customers, partners, products, rng=None):
        """Orders, invoices, payments and credit notes of `customers` (all of them at once:
        nothing in them depends on the order they happen in). Returns {order: invoice}."""
        rng = rng or random.Random(SEED)
        plan = sorted(
            (day, index, customer, basket)
            for customer in customers
            for index, (day, basket) in enumerate(customer.orders)
        )
        orders = self.env["sale.order"].create(
            [
                self._order_values(company, partners[customer.key], basket, products)
                for _day, _index, customer, basket in plan
            ]
        )
        invoice_of = self._confirm_dated(orders, [row[0] for row in plan])
        self._settle(
            company,
            [(invoice_of[o], row[2], row[1]) for o, row in zip(orders, plan, strict=True)],
            rng,
        )
        return invoice_of

    @api.model
    def _settle(self, company, rows, rng):
        """Give back the planned returns and pay the invoices of `rows` ([(invoice, customer,
        order index)]) as each customer's habit says; payments due after today are not made."""
        today = fields.Date.context_today(self)
        products = self._products()
        payments = []
        for invoice, customer, index in rows:
            if index in customer.returns:
                key = next(iter(customer.orders[index][1]))
                day = min(invoice.invoice_date + timedelta(days=3), today)
                self._credit_note(invoice, products[key], day)
            day = pay_date(rng, customer.habit, invoice.invoice_date)
            if day <= today:
                payments.append((day, invoice, customer.habit == "partial"))
        self._pay(company, payments)

    @api.model
    def _credit_note(self, invoice, product, date):
        """A posted credit note of one unit of `product`, set against `invoice`."""
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
    def _pay(self, company, payments):
        """Customer payments `payments` ([(date, invoice, half)]), one per invoice: its residual
        amount, or half of it when `half`; each reconciled with its invoice. In one batch, in
        date order (a batch costs a third of one payment wizard per invoice)."""
        payments = sorted(
            (row for row in payments if row[1].amount_residual > 0), key=lambda row: row[0]
        )
        if not payments:
            return
        journal = self.env["account.journal"].search(
            [("company_id", "=", company.id), ("type", "=", "bank")], limit=1
        )
        records = self.env["account.payment"].create(
            [
                {
                    "payment_type": "inbound",
                    "partner_type": "customer",
                    "partner_id": invoice.commercial_partner_id.id,
                    "amount": company.currency_id.round(
                        invoice.amount_residual / 2 if half else invoice.amount_residual
                    ),
                    "date": day,
                    "journal_id": journal.id,
                    "memo": invoice.name,
                }
                for day, invoice, half in payments
            ]
        )
        records.action_post()

        def receivable(line):
            return line.account_id.account_type == "asset_receivable" and not line.reconciled

        self.env["account.move.line"]._reconcile_plan(
            [
                (payment.move_id.line_ids | invoice.line_ids).filtered(receivable)
                for payment, (_day, invoice, _half) in zip(records, payments, strict=True)
            ]
        )

    @api.model
    def _replay_segments(self, company, customers, partners, months=24):
        """Refresh and classify the metrics of `customers` (`partners`: {key: res.partner}) as
        of each month end of the last `months` months, oldest first, then as of today: the
        segment history shows how they moved between segments month after month. A customer
        enters the replay at the end of the month of their first purchase."""
        Metric = self.env["crm.customer.metric"]
        first = {}
        for customer in customers:
            partner = partners[customer.key].commercial_partner_id
            day = customer.orders[0][0]
            first[partner.id] = min(first.get(partner.id, day), day)
        for day in month_ends(fields.Date.context_today(self), months):
            partner_ids = sorted(pid for pid, start in first.items() if start <= day)
            if partner_ids:
                Metric._refresh_metrics(partner_ids, company.ids, as_of=day)
        Metric._refresh_metrics(sorted(first), company.ids)
