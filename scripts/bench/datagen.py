"""Benchmark data set shared by every benchmark: customers, orders, invoices, payments.

The ORM makes one real template of each document (a customer, a confirmed sale order, its
posted invoice, a payment reconciled with it); bulk SQL then clones those rows by the hundred
thousand with `INSERT ... SELECT` over `generate_series`, so every column Odoo requires keeps a
valid value and only the business columns (ids, partners, dates, amounts, products) vary.

    from datagen import open_env, ensure_dataset
    with open_env(config_path, database) as env:
        stats = ensure_dataset(env, customers=100_000, lines=1_000_000)

The data set is generated once per database and size, then reused (table crm_bench_dataset).
Random choices are seeded, so two runs build the same data.
"""

import argparse
import contextlib
import json
import time

# Odoo 19: `odoo` is a namespace package; odoo.init patches libraries and fills it.
import odoo.init
from odoo import api
from odoo.api import SUPERUSER_ID
from odoo.modules.registry import Registry
from odoo.tools import SQL

CATEGORIES = 40
PRODUCTS = 2000
DAYS = 3 * 365
SEED = 0.42


@contextlib.contextmanager
def open_env(config_path, database):
    """Yield a superuser environment on `database`; commit when the block exits normally."""
    odoo.tools.config.parse_config(["-c", config_path, "-d", database])
    registry = Registry(database)
    with registry.cursor() as cr:
        yield api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})


def ensure_dataset(env, customers=100_000, lines=1_000_000):
    """Generate the data set once (bulk SQL) and return its statistics (a dict)."""
    cr = env.cr
    cr.execute(
        """CREATE TABLE IF NOT EXISTS crm_bench_dataset (
               customers integer, lines integer, stats jsonb, created timestamp DEFAULT now())"""
    )
    cr.execute(
        "SELECT stats FROM crm_bench_dataset WHERE customers = %s AND lines = %s",
        (customers, lines),
    )
    row = cr.fetchone()
    if row:
        return row[0]
    cr.execute("SELECT count(*) FROM crm_bench_dataset")
    if cr.fetchone()[0]:
        raise RuntimeError(
            "This database holds a benchmark data set of another size: drop it (dropdb) first."
        )
    started = time.perf_counter()
    generator = _Generator(env, customers, lines)
    stats = generator.run()
    stats["generation_seconds"] = round(time.perf_counter() - started, 1)
    cr.execute(
        "INSERT INTO crm_bench_dataset (customers, lines, stats) VALUES (%s, %s, %s)",
        (customers, lines, json.dumps(stats)),
    )
    cr.commit()
    return stats


class _Generator:
    def __init__(self, env, customers, lines):
        self.env = env
        self.cr = env.cr
        self.customers = customers
        self.lines = lines
        self.company = env.company

    # ------------------------------------------------------------------ helpers
    def _log(self, message):
        print(f"  datagen: {message}", flush=True)

    def _columns(self, table):
        self.cr.execute(
            """SELECT column_name FROM information_schema.columns
               WHERE table_name = %s AND table_schema = current_schema()
               ORDER BY ordinal_position""",
            (table,),
        )
        return [name for (name,) in self.cr.fetchall()]

    def _clone(self, table, template_id, source, overrides):
        """INSERT one row per row of `source` (alias src), copying the template row's columns
        except those in `overrides` (column -> SQL expression over src and tpl)."""
        columns = self._columns(table)
        unknown = set(overrides) - set(columns)
        if unknown:
            raise RuntimeError(f"{table} has no column {sorted(unknown)}")
        values = [
            overrides[col] if col in overrides else SQL("tpl.%s", SQL.identifier(col))
            for col in columns
        ]
        self.cr.execute(
            SQL(
                "INSERT INTO %s (%s) SELECT %s FROM %s AS tpl, (%s) AS src WHERE tpl.id = %s",
                SQL.identifier(table),
                SQL(", ").join(SQL.identifier(col) for col in columns),
                SQL(", ").join(values),
                SQL.identifier(table),
                source,
                template_id,
            )
        )
        return self.cr.rowcount

    def _seq(self, table):
        return SQL("nextval(pg_get_serial_sequence(%s, 'id'))", table)

    # ------------------------------------------------------------------ templates (ORM)
    def _make_catalogue(self):
        categories = self.env["product.category"].create(
            [{"name": f"Bench Category {i:02d}"} for i in range(CATEGORIES)]
        )
        rng = [(i * 7919) % 997 for i in range(PRODUCTS)]  # deterministic spread of prices
        products = self.env["product.product"].create(
            [
                {
                    "name": f"Bench Product {i:04d}",
                    "categ_id": categories[i % CATEGORIES].id,
                    "type": "consu",
                    "sale_ok": True,
                    "list_price": 2990 + rng[i] * 500,
                    "standard_price": round((2990 + rng[i] * 500) * (0.5 + (i % 30) / 100)),
                    "invoice_policy": "order",
                    "taxes_id": [(5, 0, 0)],
                }
                for i in range(PRODUCTS)
            ]
        )
        return products

    def _make_templates(self, product):
        env = self.env
        partner = env["res.partner"].create(
            {"name": "Bench Template Customer", "is_company": True, "customer_rank": 1}
        )
        order = env["sale.order"].create(
            {
                "partner_id": partner.id,
                "order_line": [
                    (0, 0, {"product_id": product.id, "product_uom_qty": 1, "tax_ids": False})
                ],
            }
        )
        order.action_confirm()
        invoice = order._create_invoices()
        invoice.action_post()
        payment = (
            env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"payment_date": invoice.invoice_date})
            ._create_payments()
        )
        env.flush_all()
        pay_move = payment.move_id
        receivable = invoice.line_ids.filtered(lambda line: line.display_type == "payment_term")
        pay_counterpart = pay_move.line_ids.filtered(
            lambda line: line.account_id == receivable.account_id
        )
        pay_liquidity = pay_move.line_ids - pay_counterpart
        partial = receivable.matched_credit_ids
        if not (pay_counterpart and pay_liquidity and len(partial) == 1):
            raise RuntimeError("the template payment is not reconciled as expected")
        return {
            "partner": partner.id,
            "order": order.id,
            "order_line": order.order_line.id,
            "invoice": invoice.id,
            "invoice_product_line": invoice.invoice_line_ids.id,
            "invoice_receivable_line": receivable.id,
            "payment_move": pay_move.id,
            "payment_counterpart_line": pay_counterpart.id,
            "payment_liquidity_line": pay_liquidity[0].id,
            "partial": partial.id,
        }

    # ------------------------------------------------------------------ plan (temp tables)
    def _plan(self, product_ids):
        cr = self.cr
        cr.execute("SELECT setseed(%s)", (SEED,))
        cr.execute(
            SQL(
                """CREATE TEMP TABLE g_cust ON COMMIT DROP AS
                   SELECT i AS idx, %s AS id FROM generate_series(1, %s) i""",
                self._seq("res_partner"),
                self.customers,
            )
        )
        cr.execute("CREATE UNIQUE INDEX ON g_cust (idx)")
        n_orders = self.lines // 4 + 1000
        # Customers are unequal: a power law on the customer index gives a few very frequent
        # buyers, many occasional ones and some who never bought. Each customer has a favourite
        # category: most of their orders are a basket "themed" on it, the others on a random one.
        cr.execute(
            """CREATE TEMP TABLE g_order0 ON COMMIT DROP AS
               SELECT o.*, CASE WHEN random() < 0.7 THEN (o.cust_idx * 17) %% %(categs)s
                                ELSE floor(random() * %(categs)s)::int END AS theme
               FROM (SELECT i AS idx,
                            1 + least(%(n)s - 1, floor(%(n)s * power(random(), 1.7)))::int
                                AS cust_idx,
                            current_date - floor(random() * %(days)s)::int AS odate,
                            1 + floor(random() * 7)::int AS nlines,
                            random() AS r_pay, random() AS r_late, random() AS r_partial
                     FROM generate_series(1, %(orders)s) i) o""",
            {"n": self.customers, "days": DAYS, "orders": n_orders, "categs": CATEGORIES},
        )
        cr.execute(
            SQL(
                """CREATE TEMP TABLE g_order ON COMMIT DROP AS
                   SELECT o.idx, c.id AS partner_id, o.odate, o.r_pay, o.r_late, o.r_partial,
                          o.theme,
                          least(o.nlines, %(lines)s - o.before) AS nlines,
                          %(so)s AS id, %(inv)s AS inv_id, %(rcv)s AS rcv_line_id
                   FROM (SELECT *, coalesce(sum(nlines) OVER (ORDER BY idx
                            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
                         FROM g_order0) o
                   JOIN g_cust c ON c.idx = o.cust_idx
                   WHERE o.before < %(lines)s""",
                lines=self.lines,
                so=self._seq("sale_order"),
                inv=self._seq("account_move"),
                rcv=self._seq("account_move_line"),
            )
        )
        cr.execute("CREATE UNIQUE INDEX ON g_order (idx)")
        cr.execute(
            """CREATE TEMP TABLE g_prod ON COMMIT DROP AS
               SELECT row_number() OVER (ORDER BY pp.id) AS idx, pp.id, pt.list_price AS price,
                      coalesce((pp.standard_price ->> %s)::numeric, 0) AS cost
               FROM product_product pp JOIN product_template pt ON pt.id = pp.product_tmpl_id
               WHERE pp.id = ANY(%s)""",
            (str(self.company.id), product_ids),
        )
        cr.execute("CREATE UNIQUE INDEX ON g_prod (idx)")
        # Product i (g_prod.idx i + 1) is in category i % CATEGORIES. Most lines of an order
        # come from its theme category, where a few products sell much more than the rest;
        # the other lines are any product. So co-purchases have a structure to find.
        cr.execute(
            SQL(
                """CREATE TEMP TABLE g_line ON COMMIT DROP AS
                   SELECT l.order_idx, l.order_id, l.seq, p.id AS product_id, p.price, p.cost,
                          l.qty, %(sol)s AS id, %(aml)s AS aml_id
                   FROM (SELECT o.idx AS order_idx, o.id AS order_id, s AS seq,
                                CASE WHEN random() < 0.8
                                     THEN 1 + o.theme + %(categs)s
                                          * floor(%(per_categ)s * power(random(), 2.5))::int
                                     ELSE 1 + floor(random() * %(n)s)::int END AS prod_idx,
                                1 + floor(random() * 3)::int AS qty
                         FROM g_order o CROSS JOIN generate_series(1, o.nlines) s) l
                   JOIN g_prod p ON p.idx = l.prod_idx
                   ORDER BY l.order_idx, l.seq""",
                sol=self._seq("sale_order_line"),
                aml=self._seq("account_move_line"),
                n=len(product_ids),
                categs=CATEGORIES,
                per_categ=len(product_ids) // CATEGORIES,
            )
        )
        cr.execute("CREATE INDEX ON g_line (order_id)")
        # Totals, due date, and how the invoice ends: open, paid (early, on time, late,
        # very late, partially) or refunded by a credit note.
        cr.execute(
            """CREATE TEMP TABLE g_inv ON COMMIT DROP AS
               SELECT o.*, t.total, t.cost_total, o.odate + 30 AS due,
                      CASE WHEN o.r_pay < 0.03 THEN 'refund'
                           WHEN o.r_pay < 0.09 THEN 'open'
                           ELSE 'pay' END AS fate,
                      o.odate + 30 + CASE WHEN o.r_late < 0.65 THEN -floor(o.r_late * 30)::int
                                           WHEN o.r_late < 0.90 THEN floor((o.r_late - 0.65) * 180)::int + 1
                                           ELSE floor((o.r_late - 0.90) * 1500)::int + 46 END AS pay_date
               FROM g_order o
               JOIN (SELECT order_id, sum(price * qty) AS total, sum(cost * qty) AS cost_total
                     FROM g_line GROUP BY order_id) t ON t.order_id = o.id"""
        )
        cr.execute(
            SQL(
                """CREATE TEMP TABLE g_pay ON COMMIT DROP AS
                   SELECT i.id AS order_id, i.inv_id, i.rcv_line_id, i.partner_id, i.odate,
                          CASE WHEN i.fate = 'refund' THEN least(i.odate + 10, current_date)
                               ELSE least(i.pay_date, current_date) END AS pdate,
                          CASE WHEN i.fate = 'pay' AND i.r_partial < 0.05
                               THEN round(i.total / 2) ELSE i.total END AS amount,
                          i.fate, i.total,
                          %(mv)s AS move_id, %(cp)s AS cp_line_id, %(lq)s AS lq_line_id,
                          %(pr)s AS partial_id
                   FROM g_inv i
                   WHERE i.fate = 'refund' OR (i.fate = 'pay' AND i.pay_date <= current_date)""",
                mv=self._seq("account_move"),
                cp=self._seq("account_move_line"),
                lq=self._seq("account_move_line"),
                pr=self._seq("account_partial_reconcile"),
            )
        )
        cr.execute("CREATE INDEX ON g_pay (order_id)")

    # ------------------------------------------------------------------ clones (SQL)
    def _clone_partners(self, tpl):
        return self._clone(
            "res_partner",
            tpl["partner"],
            SQL("SELECT * FROM g_cust"),
            {
                "id": SQL("src.id"),
                "name": SQL("'Cliente ' || lpad(src.idx::text, 6, '0')"),
                "complete_name": SQL("'Cliente ' || lpad(src.idx::text, 6, '0')"),
                "commercial_partner_id": SQL("src.id"),
                "email": SQL("'cliente' || src.idx || '@example.com'"),
                "ref": SQL("'B' || src.idx"),
            },
        )

    def _clone_orders(self, tpl):
        self._clone(
            "sale_order",
            tpl["order"],
            SQL("SELECT * FROM g_inv"),
            {
                "id": SQL("src.id"),
                "name": SQL("'BSO' || lpad(src.idx::text, 8, '0')"),
                "partner_id": SQL("src.partner_id"),
                "partner_invoice_id": SQL("src.partner_id"),
                "partner_shipping_id": SQL("src.partner_id"),
                "date_order": SQL("src.odate + time '10:00'"),
                "create_date": SQL("src.odate + time '10:00'"),
                "write_date": SQL("src.odate + time '10:00'"),
                "amount_untaxed": SQL("src.total"),
                "amount_tax": SQL("0"),
                "amount_total": SQL("src.total"),
                "margin": SQL("src.total - src.cost_total"),
                "margin_percent": SQL("(src.total - src.cost_total) / nullif(src.total, 0)"),
                "access_token": SQL("NULL"),
            },
        )
        return self._clone(
            "sale_order_line",
            tpl["order_line"],
            SQL(
                "SELECT l.*, o.partner_id, o.odate FROM g_line l JOIN g_order o ON o.id = l.order_id"
            ),
            {
                "id": SQL("src.id"),
                "order_id": SQL("src.order_id"),
                "sequence": SQL("src.seq"),
                "order_partner_id": SQL("src.partner_id"),
                "product_id": SQL("src.product_id"),
                "name": SQL("'Bench Product'"),
                "product_uom_qty": SQL("src.qty"),
                "qty_delivered": SQL("src.qty"),
                "qty_invoiced": SQL("src.qty"),
                "qty_to_invoice": SQL("0"),
                "price_unit": SQL("src.price"),
                "technical_price_unit": SQL("src.price"),
                "price_subtotal": SQL("src.price * src.qty"),
                "price_total": SQL("src.price * src.qty"),
                "price_tax": SQL("0"),
                "price_reduce_taxexcl": SQL("src.price"),
                "price_reduce_taxinc": SQL("src.price"),
                "untaxed_amount_invoiced": SQL("src.price * src.qty"),
                "untaxed_amount_to_invoice": SQL("0"),
                "purchase_price": SQL("src.cost"),
                "margin": SQL("(src.price - src.cost) * src.qty"),
                "margin_percent": SQL("(src.price - src.cost) / nullif(src.price, 0)"),
                "create_date": SQL("src.odate + time '10:00'"),
                "write_date": SQL("src.odate + time '10:00'"),
            },
        )

    def _invoice_moves(self, tpl):
        """Customer invoices, and the credit notes that refund some of them."""
        paid = SQL(
            """coalesce((SELECT sum(p.amount) FROM g_pay p
                         WHERE p.order_id = src.id AND p.fate = 'pay'), 0)"""
        )
        residual = SQL(
            "src.total - %s - CASE WHEN src.fate = 'refund' THEN src.total ELSE 0 END", paid
        )
        self._clone(
            "account_move",
            tpl["invoice"],
            SQL("SELECT * FROM g_inv"),
            {
                "id": SQL("src.inv_id"),
                "name": SQL("'BINV/' || lpad(src.idx::text, 8, '0')"),
                "sequence_prefix": SQL("'BINV/'"),
                "sequence_number": SQL("src.idx"),
                "partner_id": SQL("src.partner_id"),
                "commercial_partner_id": SQL("src.partner_id"),
                "partner_shipping_id": SQL("src.partner_id"),
                "invoice_partner_display_name": SQL("NULL"),
                "invoice_origin": SQL("'BSO' || lpad(src.idx::text, 8, '0')"),
                "payment_reference": SQL("'BINV/' || lpad(src.idx::text, 8, '0')"),
                "date": SQL("src.odate"),
                "invoice_date": SQL("src.odate"),
                "invoice_date_due": SQL("src.due"),
                "amount_untaxed": SQL("src.total"),
                "amount_tax": SQL("0"),
                "amount_total": SQL("src.total"),
                "amount_residual": residual,
                "amount_untaxed_signed": SQL("src.total"),
                "amount_untaxed_in_currency_signed": SQL("src.total"),
                "amount_tax_signed": SQL("0"),
                "amount_total_signed": SQL("src.total"),
                "amount_total_in_currency_signed": SQL("src.total"),
                "amount_residual_signed": residual,
                "payment_state": SQL(
                    """CASE WHEN src.fate = 'refund' THEN 'reversed'
                            WHEN %s = 0 THEN 'paid'
                            WHEN %s < src.total THEN 'partial' ELSE 'not_paid' END""",
                    residual,
                    residual,
                ),
                "access_token": SQL("NULL"),
                "inalterable_hash": SQL("NULL"),
                "secure_sequence_number": SQL("NULL"),
                "create_date": SQL("src.odate + time '11:00'"),
                "write_date": SQL(
                    "greatest(src.odate, least(src.pay_date, current_date)) + time '12:00'"
                ),
            },
        )
        # Product lines (income, credit) linked to the sale lines.
        self._clone(
            "account_move_line",
            tpl["invoice_product_line"],
            SQL(
                """SELECT l.*, i.inv_id, i.partner_id, i.odate, i.idx
                   FROM g_line l JOIN g_inv i ON i.id = l.order_id"""
            ),
            {
                "id": SQL("src.aml_id"),
                "move_id": SQL("src.inv_id"),
                "move_name": SQL("'BINV/' || lpad(src.idx::text, 8, '0')"),
                "sequence": SQL("src.seq"),
                "partner_id": SQL("src.partner_id"),
                "product_id": SQL("src.product_id"),
                "name": SQL("'Bench Product'"),
                "date": SQL("src.odate"),
                "invoice_date": SQL("src.odate"),
                "quantity": SQL("src.qty"),
                "price_unit": SQL("src.price"),
                "price_subtotal": SQL("src.price * src.qty"),
                "price_total": SQL("src.price * src.qty"),
                "debit": SQL("0"),
                "credit": SQL("src.price * src.qty"),
                "balance": SQL("-src.price * src.qty"),
                "amount_currency": SQL("-src.price * src.qty"),
                "matching_number": SQL("NULL"),
                "full_reconcile_id": SQL("NULL"),
                "create_date": SQL("src.odate + time '11:00'"),
                "write_date": SQL("src.odate + time '11:00'"),
            },
        )
        self.cr.execute(
            "INSERT INTO sale_order_line_invoice_rel (invoice_line_id, order_line_id) "
            "SELECT aml_id, id FROM g_line"
        )
        # The receivable line (one due date per invoice).
        self._clone(
            "account_move_line",
            tpl["invoice_receivable_line"],
            SQL("SELECT * FROM g_inv"),
            {
                "id": SQL("src.rcv_line_id"),
                "move_id": SQL("src.inv_id"),
                "move_name": SQL("'BINV/' || lpad(src.idx::text, 8, '0')"),
                "partner_id": SQL("src.partner_id"),
                "name": SQL("'BINV/' || lpad(src.idx::text, 8, '0')"),
                "date": SQL("src.odate"),
                "invoice_date": SQL("src.odate"),
                "date_maturity": SQL("src.due"),
                "debit": SQL("src.total"),
                "credit": SQL("0"),
                "balance": SQL("src.total"),
                "amount_currency": SQL("src.total"),
                "price_unit": SQL("-src.total"),
                "price_subtotal": SQL("-src.total"),
                "price_total": SQL("-src.total"),
                "amount_residual": residual,
                "amount_residual_currency": residual,
                "reconciled": SQL("(%s) = 0", residual),
                "matching_number": SQL("NULL"),
                "full_reconcile_id": SQL("NULL"),
                "create_date": SQL("src.odate + time '11:00'"),
                "write_date": SQL("src.odate + time '11:00'"),
            },
        )

    def _settlement_moves(self, tpl):
        """Payments (bank journal) and credit notes (sales journal), each reconciled with its
        invoice's receivable line through one account.partial.reconcile."""
        self.cr.execute("SELECT journal_id FROM account_move WHERE id = %s", (tpl["invoice"],))
        sales_journal = self.cr.fetchone()[0]
        kind = SQL("CASE WHEN src.fate = 'refund' THEN 'RINV/' ELSE 'BPAY/' END")
        self._clone(
            "account_move",
            tpl["payment_move"],
            SQL("SELECT * FROM g_pay"),
            {
                "id": SQL("src.move_id"),
                "name": SQL("%s || lpad(src.move_id::text, 9, '0')", kind),
                "sequence_prefix": kind,
                "sequence_number": SQL("src.move_id"),
                "journal_id": SQL(
                    "CASE WHEN src.fate = 'refund' THEN %s ELSE tpl.journal_id END", sales_journal
                ),
                "move_type": SQL(
                    "CASE WHEN src.fate = 'refund' THEN 'out_refund' ELSE 'entry' END"
                ),
                "reversed_entry_id": SQL("CASE WHEN src.fate = 'refund' THEN src.inv_id END"),
                "origin_payment_id": SQL("NULL"),
                "partner_id": SQL("src.partner_id"),
                "commercial_partner_id": SQL("src.partner_id"),
                "date": SQL("src.pdate"),
                "invoice_date": SQL("CASE WHEN src.fate = 'refund' THEN src.pdate END"),
                "invoice_date_due": SQL("CASE WHEN src.fate = 'refund' THEN src.pdate END"),
                "amount_untaxed": SQL("CASE WHEN src.fate = 'refund' THEN src.amount ELSE 0 END"),
                "amount_total": SQL("src.amount"),
                "amount_residual": SQL("0"),
                "amount_untaxed_signed": SQL(
                    "CASE WHEN src.fate = 'refund' THEN -src.amount ELSE 0 END"
                ),
                "amount_total_signed": SQL(
                    "CASE WHEN src.fate = 'refund' THEN -src.amount ELSE src.amount END"
                ),
                "amount_total_in_currency_signed": SQL(
                    "CASE WHEN src.fate = 'refund' THEN -src.amount ELSE src.amount END"
                ),
                "amount_residual_signed": SQL("0"),
                "payment_state": SQL(
                    "CASE WHEN src.fate = 'refund' THEN 'reversed' ELSE tpl.payment_state END"
                ),
                "access_token": SQL("NULL"),
                "inalterable_hash": SQL("NULL"),
                "secure_sequence_number": SQL("NULL"),
                "create_date": SQL("src.pdate + time '12:00'"),
                "write_date": SQL("src.pdate + time '12:00'"),
            },
        )
        common = {
            "move_id": SQL("src.move_id"),
            "move_name": SQL("%s || lpad(src.move_id::text, 9, '0')", kind),
            "journal_id": SQL(
                "CASE WHEN src.fate = 'refund' THEN %s ELSE tpl.journal_id END", sales_journal
            ),
            "partner_id": SQL("src.partner_id"),
            "payment_id": SQL("NULL"),
            "date": SQL("src.pdate"),
            "date_maturity": SQL("src.pdate"),
            "matching_number": SQL("NULL"),
            "full_reconcile_id": SQL("NULL"),
            "create_date": SQL("src.pdate + time '12:00'"),
            "write_date": SQL("src.pdate + time '12:00'"),
        }
        # Receivable counterpart (credit), fully reconciled with the invoice.
        self._clone(
            "account_move_line",
            tpl["payment_counterpart_line"],
            SQL("SELECT * FROM g_pay"),
            {
                **common,
                "id": SQL("src.cp_line_id"),
                "debit": SQL("0"),
                "credit": SQL("src.amount"),
                "balance": SQL("-src.amount"),
                "amount_currency": SQL("-src.amount"),
                "amount_residual": SQL("0"),
                "amount_residual_currency": SQL("0"),
                "reconciled": SQL("true"),
            },
        )
        # Liquidity line of a payment, income reversal of a credit note (debit).
        self.cr.execute(
            "SELECT account_id FROM account_move_line WHERE id = %s", (tpl["invoice_product_line"],)
        )
        income_account = self.cr.fetchone()[0]
        self._clone(
            "account_move_line",
            tpl["payment_liquidity_line"],
            SQL("SELECT * FROM g_pay"),
            {
                **common,
                "id": SQL("src.lq_line_id"),
                "account_id": SQL(
                    "CASE WHEN src.fate = 'refund' THEN %s ELSE tpl.account_id END", income_account
                ),
                "display_type": SQL("'product'"),
                "debit": SQL("src.amount"),
                "credit": SQL("0"),
                "balance": SQL("src.amount"),
                "amount_currency": SQL("src.amount"),
                "amount_residual": SQL("0"),
                "amount_residual_currency": SQL("0"),
                "reconciled": SQL("false"),
            },
        )
        return self._clone(
            "account_partial_reconcile",
            tpl["partial"],
            SQL("SELECT * FROM g_pay"),
            {
                "id": SQL("src.partial_id"),
                "debit_move_id": SQL("src.rcv_line_id"),
                "credit_move_id": SQL("src.cp_line_id"),
                "full_reconcile_id": SQL("NULL"),
                "exchange_move_id": SQL("NULL"),
                "amount": SQL("src.amount"),
                "debit_amount_currency": SQL("src.amount"),
                "credit_amount_currency": SQL("src.amount"),
                "max_date": SQL("greatest(src.odate, src.pdate)"),
                "create_date": SQL("src.pdate + time '12:00'"),
                "write_date": SQL("src.pdate + time '12:00'"),
            },
        )

    # ------------------------------------------------------------------ main
    def run(self):
        cr = self.cr
        self._log("catalogue and ORM templates")
        products = self._make_catalogue()
        tpl = self._make_templates(products[0])
        self.env.flush_all()
        self._log("planning")
        self._plan(products.ids)
        timings = {}
        for label, step in (
            ("customers", self._clone_partners),
            ("orders", self._clone_orders),
            ("invoices", self._invoice_moves),
            ("settlements", self._settlement_moves),
        ):
            started = time.perf_counter()
            step(tpl)
            timings[label] = round(time.perf_counter() - started, 1)
            self._log(f"{label}: {timings[label]} s")
        cr.execute("SELECT count(*), min(odate), max(odate) FROM g_inv")
        orders, first, last = cr.fetchone()
        cr.execute("SELECT count(*) FROM g_line")
        order_lines = cr.fetchone()[0]
        cr.execute(
            "SELECT count(*) FILTER (WHERE fate = 'pay'), count(*) FILTER (WHERE fate = 'refund') FROM g_pay"
        )
        payments, refunds = cr.fetchone()
        cr.execute("SELECT count(DISTINCT partner_id) FROM g_inv")
        buyers = cr.fetchone()[0]
        for table in (
            "res_partner",
            "sale_order",
            "sale_order_line",
            "account_move",
            "account_move_line",
            "account_partial_reconcile",
        ):
            cr.execute(SQL("ANALYZE %s", SQL.identifier(table)))
        self.env.invalidate_all()
        return {
            "company_id": self.company.id,
            "customers": self.customers,
            "customers_with_orders": buyers,
            "orders": orders,
            "order_lines": order_lines,
            "invoices": orders,
            "invoice_product_lines": order_lines,
            "payments": payments,
            "credit_notes": refunds,
            "first_date": str(first),
            "last_date": str(last),
            "template_partner_id": tpl["partner"],
            "step_seconds": timings,
        }


def timed(function, *args, **kwargs):
    """(seconds, result) of calling ``function``."""
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - started, result


def bench_arguments(description, sized=True):
    """The command line every benchmark takes (what scripts/bench.sh passes), as a parser the
    caller may extend; `sized` adds the data set's size (--customers, --lines)."""
    parser = argparse.ArgumentParser(description=description.strip().splitlines()[0])
    parser.add_argument("--config", required=True, help="Odoo configuration file")
    parser.add_argument("--database", required=True)
    if sized:
        parser.add_argument("--customers", type=int, default=100_000)
        parser.add_argument("--lines", type=int, default=1_000_000)
    return parser


def main():
    args = bench_arguments(__doc__).parse_args()
    with open_env(args.config, args.database) as env:
        print(json.dumps(ensure_dataset(env, args.customers, args.lines), indent=2))


if __name__ == "__main__":
    main()
