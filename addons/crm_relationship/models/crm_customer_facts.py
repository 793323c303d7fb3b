from dataclasses import dataclass
from datetime import date
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api
from odoo import fields
from odoo import models
from odoo.tools import SQL


@dataclass(frozen=True)
class FactWindow:
    """The period the facts of a customer are computed over.

    ``as_of`` is the day the facts are computed for ("today"): documents dated after it do not
    exist yet, and recency, overdue days and the last-12-months window count back from it.
    Documents count from ``date_from`` (None: all history) up to ``as_of`` included.
    """

    as_of: date
    date_from: date | None = None

    @property
    def date_to(self):
        """First day after the window (the window is [date_from, date_to))."""
        return self.as_of + timedelta(days=1)

    @property
    def since_12m(self):
        return self.as_of - relativedelta(months=12)


@dataclass(frozen=True)
class Fact:
    """One column of the customer facts: ``expression`` is SQL over the aliases of the final
    SELECT (``so`` for the orders part, ``sod`` for purchase days, ``inv`` for invoices and credit notes, ``pay`` for
    payments and installments, ``w`` for the window's parameters ``w.as_of``), or over ``k``
    for the (partner_id, company_id) key.

    ``aged``, for a fact that moves with the day alone (no document written or dated in
    between): SQL giving it on the day ``w.as_of`` from the metrics row ``m`` that stored it on
    the day ``m.facts_date``, where ``so`` reads the stored orders columns of the same names
    (crm.customer.metric's daily update brings those rows forward instead of recomputing
    them). None: the fact only changes with a document, a payment or a date its part reads,
    which that update's `_crossed_keys_query` then sees."""

    name: str
    part: str
    expression: str
    aged: str | None = None


ORDERS_PER_MONTH = (
    "COALESCE(so.order_count / GREATEST((w.as_of - so.first_order_date) / 30.4375, 1), 0)"
)
DAYS_SINCE_LAST_ORDER = "w.as_of - so.last_order_date"


# The facts of one customer (commercial partner) in one company over a window, one column each.
# Each one is computed here and nowhere else; the labels of the fields that store them say which
# measure they are (ordered vs invoiced, all time vs window).
FACTS = [
    # orders part: confirmed sale orders, untaxed, in company currency
    Fact("first_order_date", "so", "so.first_order_date"),
    Fact("last_order_date", "so", "so.last_order_date"),
    Fact("order_count", "so", "COALESCE(so.order_count, 0)"),
    Fact("ordered_amount", "so", "COALESCE(so.amount, 0)"),
    Fact("margin_total", "so", "COALESCE(so.margin, 0)"),
    Fact("margin_known", "so", "COALESCE(so.margin_known, FALSE)"),
    Fact("average_ticket", "so", "COALESCE(so.amount / NULLIF(so.order_count, 0), 0)"),
    Fact("orders_per_month", "so", ORDERS_PER_MONTH, aged=ORDERS_PER_MONTH),
    Fact(
        "mean_days_between_orders",
        "so",
        """CASE WHEN so.order_count > 1
                THEN (so.last_order_date - so.first_order_date)::float / (so.order_count - 1)
           END""",
    ),
    Fact("days_since_last_order", "so", DAYS_SINCE_LAST_ORDER, aged=DAYS_SINCE_LAST_ORDER),
    Fact("margin_percent", "so", "COALESCE(so.margin / NULLIF(so.amount, 0), 0)"),
    Fact("preferred_team_id", "so", "so.team_id"),
    Fact("preferred_medium_id", "so", "so.medium_id"),
    # purchase days part: orders of one day form one purchase (the unit of BG/NBD)
    Fact("purchase_days", "sod", "COALESCE(sod.purchase_days, 0)"),
    Fact("repeat_amount", "sod", "COALESCE(sod.repeat_amount, 0)"),
    # invoices part: posted customer invoices net of credit notes, untaxed
    Fact("invoice_count", "inv", "COALESCE(inv.invoice_count, 0)"),
    Fact("revenue_total", "inv", "COALESCE(inv.revenue_total, 0)"),
    Fact("revenue_12m", "inv", "COALESCE(inv.revenue_12m, 0)"),
    Fact("first_invoice_date", "inv", "inv.first_invoice_date"),
    # payments part: how the invoices' installments were paid
    Fact("avg_days_late", "pay", "COALESCE(pay.avg_days_late, 0)"),
    Fact("on_time_ratio", "pay", "pay.on_time_ratio"),
    Fact("overdue_amount", "pay", "COALESCE(pay.overdue_amount, 0)"),
    Fact("overdue_invoice_count", "pay", "COALESCE(pay.overdue_invoice_count, 0)"),
    Fact(
        "oldest_overdue_days",
        "pay",
        "COALESCE(pay.oldest_overdue_days, 0)",
        # the oldest overdue installment stays the oldest while none falls due or is paid
        aged="CASE WHEN m.oldest_overdue_days > 0"
        " THEN m.oldest_overdue_days + (w.as_of - m.facts_date) ELSE 0 END",
    ),
]


class CrmCustomerFacts(models.AbstractModel):
    """The single source of what a customer did: one SQL builder per (commercial partner,
    company, window), one part per concern.

    - :meth:`_order_rows`, :meth:`_order_line_rows`: the confirmed sales themselves, row by row,
      for the computations that need them (affinity, propensity, retention, BG/NBD's
      purchase days);
    - :meth:`_facts_query`: one row per customer and company with the facts of :data:`FACTS`
      (and those other addons add through :meth:`_fact_registry` and :meth:`_fact_parts`).

    Everything is computed by PostgreSQL, set-based; amounts are in company currency.
    """

    _name = "crm.customer.facts"
    _description = "Customer Facts"

    # ------------------------------------------------------------------------------------------
    # windows

    @api.model
    def _window(self, as_of=None, months=None, date_from=None):
        """The window ending on ``as_of`` (default today) and starting on ``date_from``, or
        ``months`` long, or else at the beginning of history."""
        as_of = fields.Date.to_date(as_of) or fields.Date.context_today(self)
        if months:
            date_from = as_of - relativedelta(months=months) + timedelta(days=1)
        return FactWindow(as_of=as_of, date_from=fields.Date.to_date(date_from))

    # ------------------------------------------------------------------------------------------
    # row sources

    @api.model
    def _partner_condition(self, partners, document_alias, commercial_column):
        """SQL restricting documents (alias ``document_alias``, with a partner_id column) to
        ``partners``: None (everyone), a list of commercial partner ids (through the indexed
        partner_id column: the partners and their contacts), or a function returning the SQL
        condition on a commercial partner column (an id range of a batch, a shard)."""
        if partners is None:
            return SQL("TRUE")
        if callable(partners):
            return partners(commercial_column)
        return SQL(
            "%s IN (SELECT id FROM res_partner WHERE commercial_partner_id = ANY(%s))",
            SQL.identifier(document_alias, "partner_id"),
            list(partners),
        )

    @api.model
    def _order_rows(self, company_ids=None, window=None, partners=None):
        """SQL: one row per confirmed sale order: order_id, partner_id (commercial partner),
        company_id, date_order, day, amount and margin (untaxed, company currency), margin_known
        (the order has a cost: its margin differs from its amount), team_id, medium_id.

        ``company_ids`` None means every company (report views); ``window`` None all history.
        """
        return SQL(
            """
            SELECT so.id AS order_id, p.commercial_partner_id AS partner_id, so.company_id,
                   so.date_order, so.date_order::date AS day,
                   so.amount_untaxed / COALESCE(NULLIF(so.currency_rate, 0), 1) AS amount,
                   COALESCE(so.margin, 0) / COALESCE(NULLIF(so.currency_rate, 0), 1) AS margin,
                   so.margin IS NOT NULL AND so.margin <> so.amount_untaxed AS margin_known,
                   so.team_id, so.medium_id
              FROM sale_order so
              -- LEFT JOIN: every order has a partner, so the rows are the same, and PostgreSQL
              -- leaves the join out when the caller reads no partner column.
              LEFT JOIN res_partner p ON p.id = so.partner_id
             WHERE so.state = 'sale' AND %(companies)s AND %(window)s AND %(partners)s
            """,
            companies=self._company_condition(SQL("so.company_id"), company_ids),
            window=self._window_condition(SQL("so.date_order"), window),
            partners=self._partner_condition(partners, "so", SQL("p.commercial_partner_id")),
        )

    @api.model
    def _order_line_rows(self, company_ids=None, window=None, partners=None):
        """SQL: one row per product line of a confirmed sale order (no section, note or reward
        line, a positive quantity): order_id, partner_id (commercial), company_id, day,
        product_id, product_tmpl_id, categ_id."""
        return SQL(
            """
            SELECT l.order_id, p.commercial_partner_id AS partner_id, so.company_id,
                   so.date_order::date AS day, l.product_id, pp.product_tmpl_id, pt.categ_id
              FROM sale_order_line l
              JOIN sale_order so ON so.id = l.order_id
              -- LEFT JOINs: every order has a partner and every product line a product (a
              -- constraint of sale.order.line), so the rows are the same, and PostgreSQL
              -- leaves out the joins whose columns the caller does not read (the affinity
              -- reads no partner, the next offers no category).
              LEFT JOIN res_partner p ON p.id = so.partner_id
              LEFT JOIN product_product pp ON pp.id = l.product_id
              LEFT JOIN product_template pt ON pt.id = pp.product_tmpl_id
             WHERE so.state = 'sale' AND %(companies)s AND %(window)s AND %(partners)s
               AND l.display_type IS NULL AND l.reward_id IS NULL AND l.product_uom_qty > 0
            """,
            companies=self._company_condition(SQL("so.company_id"), company_ids),
            window=self._window_condition(SQL("so.date_order"), window),
            partners=self._partner_condition(partners, "so", SQL("p.commercial_partner_id")),
        )

    @api.model
    def _company_condition(self, column, company_ids):
        if company_ids is None:
            return SQL("TRUE")
        return SQL("%s = ANY(%s)", column, list(company_ids))

    @api.model
    def _window_condition(self, column, window):
        """``column`` (a date, or a UTC datetime) inside ``window``."""
        if window is None:
            return SQL("TRUE")
        condition = SQL("%s < %s", column, window.date_to)
        if window.date_from:
            condition = SQL("%s AND %s >= %s", condition, column, window.date_from)
        return condition

    # ------------------------------------------------------------------------------------------
    # parts: one CTE per concern, one row per (partner_id, company_id)

    @api.model
    def _fact_parts(self, company_ids, window, partners):
        """{alias: SQL of the part}; every part has partner_id and company_id columns and is
        LEFT JOINed on them. Extend to add a part (then add its facts to _fact_registry)."""
        return {
            "so": self._orders_part(company_ids, window, partners),
            "sod": self._purchase_days_part(company_ids, window, partners),
            "inv": self._invoices_part(company_ids, window, partners),
            "pay": self._payments_part(company_ids, window, partners),
        }

    @api.model
    def _fact_registry(self):
        """{name: Fact}: every fact the builder can compute. Extend to add one."""
        return {fact.name: fact for fact in FACTS}

    @api.model
    def _orders_part(self, company_ids, window, partners, purchase_days=False):
        """Confirmed orders per customer: first and last order dates, orders, amount and
        margin, whether the margin is known, the most frequent sales team and medium.

        With ``purchase_days``, also the days with orders (orders of one day form one
        purchase, the unit of BG/NBD) and the amount ordered on the days after the first: the
        columns of :meth:`_purchase_days_part`, computed here so that a caller needing both
        (the customer scores) reads the orders once. Off by default: the metrics read this
        part twice, which makes PostgreSQL compute every column.
        """
        orders = self._order_rows(company_ids, window, partners)
        days = SQL()
        if purchase_days:
            orders = SQL(
                """SELECT o.*, min(day) OVER (PARTITION BY partner_id, company_id) AS first_day
                     FROM (%s) AS o""",
                orders,
            )
            days = SQL(
                """, count(DISTINCT day) AS purchase_days,
                   COALESCE(sum(amount) FILTER (WHERE day > first_day), 0) AS repeat_amount"""
            )
        return SQL(
            """
            SELECT partner_id, company_id,
                   min(day) AS first_order_date, max(day) AS last_order_date,
                   count(*) AS order_count, sum(amount) AS amount, sum(margin) AS margin,
                   bool_or(margin_known) AS margin_known,
                   mode() WITHIN GROUP (ORDER BY team_id) AS team_id,
                   mode() WITHIN GROUP (ORDER BY medium_id) AS medium_id%s
              FROM (%s) AS o
             GROUP BY 1, 2
            """,
            days,
            orders,
        )

    @api.model
    def _purchase_days_part(self, company_ids, window, partners):
        """Days with confirmed orders, and the amount ordered on the days after the first (see
        :meth:`_orders_part`)."""
        return SQL(
            "SELECT partner_id, company_id, purchase_days, repeat_amount FROM (%s) AS so",
            self._orders_part(company_ids, window, partners, purchase_days=True),
        )

    @api.model
    def _invoices_part(self, company_ids, window, partners):
        """Posted customer invoices and credit notes (untaxed, signed: credit notes count
        negative) by invoice date."""
        return SQL(
            """
            SELECT am.commercial_partner_id AS partner_id, am.company_id,
                   count(*) FILTER (WHERE am.move_type = 'out_invoice') AS invoice_count,
                   min(am.invoice_date) FILTER (WHERE am.move_type = 'out_invoice')
                       AS first_invoice_date,
                   sum(am.amount_untaxed_signed) AS revenue_total,
                   sum(am.amount_untaxed_signed)
                       FILTER (WHERE am.invoice_date > %(since_12m)s) AS revenue_12m
              FROM account_move am
             WHERE am.state = 'posted' AND am.move_type IN ('out_invoice', 'out_refund')
               AND %(companies)s AND %(window)s AND %(partners)s
             GROUP BY 1, 2
            """,
            since_12m=window.since_12m,
            companies=self._company_condition(SQL("am.company_id"), company_ids),
            window=self._window_condition(SQL("am.invoice_date"), window),
            partners=self._partner_condition(partners, "am", SQL("am.commercial_partner_id")),
        )

    @api.model
    def _payments_part(self, company_ids, window, partners):
        """How customers paid: per invoice (a receivable move) that is paid or overdue on
        ``window.as_of``, two kinds of rows on its installments (payment-term lines): each
        payment received by then, with the days it came after the installment's due date
        (max_date is the later of the invoice and payment dates), and each installment still
        unpaid past its due date. A credit note settles an invoice but is not a payment: left
        out. Installments neither paid nor due do not count.

        avg_days_late is weighted by the amount paid; on_time_ratio is the share of those
        invoices whose payments all arrived by the due date.
        """
        as_of = window.as_of
        partner_moves = self._partner_condition(partners, "am", SQL("am.commercial_partner_id"))
        partials = SQL("account_partial_reconcile part ON part.debit_move_id = i.id")
        if partners is not None and not callable(partners):
            # A list of customers: their installments' payments through the index on
            # debit_move_id (the planner, misjudging how many installments they have, hashed
            # every payment of the company: 1,300 customers 0.37 s -> 0.17 s).
            partials = SQL(
                """LATERAL (SELECT * FROM account_partial_reconcile part
                             WHERE part.debit_move_id = i.id OFFSET 0) AS part ON TRUE"""
            )
        # One row per payment and per unpaid installment, aggregated once per customer (an
        # invoice counts once: count(DISTINCT move_id)). The installments are read from the
        # index on posted payment-term lines (account_move_line.py: parent_state = 'posted'
        # lets PostgreSQL use it) and joined once to the payments. Measured on the 100,000-
        # customer data set (CPU of the statement): this part of the full refresh 2.4 s -> 1.3 s,
        # the whole metrics statement of a cron batch of 5,000 customers 1.0 s -> 0.6 s.
        return SQL(
            """
            WITH installments AS (
                SELECT am.commercial_partner_id AS partner_id, am.company_id, aml.move_id,
                       aml.id, aml.date_maturity, aml.amount_residual
                  FROM account_move_line aml
                  JOIN account_move am ON am.id = aml.move_id
                 WHERE aml.display_type = 'payment_term' AND aml.parent_state = 'posted'
                   AND am.state = 'posted' AND am.move_type = 'out_invoice'
                   AND am.invoice_date <= %(as_of)s
                   AND %(companies)s AND %(window)s AND %(partner_moves)s
            ), refund_lines AS (
                SELECT aml.id
                  FROM account_move_line aml
                  JOIN account_move am ON am.id = aml.move_id
                 WHERE aml.display_type = 'payment_term' AND am.state = 'posted'
                   AND am.move_type = 'out_refund' AND %(companies)s AND %(partner_moves)s
            ), installment_rows AS (
                -- each payment received by as_of, with how late it came; each one received
                -- after as_of on an installment due before: unpaid then
                SELECT i.partner_id, i.company_id, i.move_id,
                       CASE WHEN part.max_date <= %(as_of)s THEN part.amount END AS paid,
                       CASE WHEN part.max_date <= %(as_of)s
                            THEN part.amount * GREATEST(part.max_date - i.date_maturity, 0)
                       END AS late,
                       part.max_date <= %(as_of)s AND part.max_date <= i.date_maturity
                           AS on_time,
                       CASE WHEN part.max_date > %(as_of)s THEN part.amount END AS overdue_amount,
                       CASE WHEN part.max_date > %(as_of)s THEN i.date_maturity END
                           AS overdue_since
                  FROM installments i
                  JOIN %(partials)s
                 WHERE (part.max_date <= %(as_of)s OR i.date_maturity < %(as_of)s)
                   AND part.credit_move_id NOT IN (SELECT id FROM refund_lines)
                UNION ALL
                -- due before as_of and still unpaid now
                SELECT partner_id, company_id, move_id, NULL, NULL, FALSE, amount_residual,
                       date_maturity
                  FROM installments
                 WHERE date_maturity < %(as_of)s AND amount_residual > 0
            )
            SELECT partner_id, company_id,
                   sum(late) / NULLIF(sum(paid), 0) AS avg_days_late,
                   (count(DISTINCT move_id) - count(DISTINCT move_id) FILTER (WHERE NOT on_time))
                       ::float / count(DISTINCT move_id) AS on_time_ratio,
                   sum(overdue_amount) AS overdue_amount,
                   count(DISTINCT move_id) FILTER (WHERE overdue_amount > 0)
                       AS overdue_invoice_count,
                   %(as_of)s - min(overdue_since) AS oldest_overdue_days
              FROM installment_rows
             GROUP BY partner_id, company_id
            """,
            as_of=as_of,
            companies=self._company_condition(SQL("am.company_id"), company_ids),
            window=self._window_condition(SQL("am.invoice_date"), window),
            partner_moves=partner_moves,
            partials=partials,
        )

    @api.model
    def _crossed_keys_query(self, company_ids, date_from, as_of, partners=None):
        """SQL: the (partner_id, company_id) pairs whose facts on ``as_of`` may differ from
        those on ``date_from`` (earlier) although none of their documents was written in
        between: an order, invoice or credit note dated in between, an invoice leaving the
        last 12 months, an installment falling due, a payment dated in between. The facts of
        every other pair move with the day alone (:attr:`Fact.aged`). Extend it with the
        dates a part added reads."""
        # the moves' company and customers, read by the invoices, installments and payments
        moves = SQL(
            "%s AND %s",
            self._company_condition(SQL("am.company_id"), company_ids),
            self._partner_condition(partners, "am", SQL("am.commercial_partner_id")),
        )
        return SQL(
            """
            SELECT p.commercial_partner_id, so.company_id
              FROM sale_order so JOIN res_partner p ON p.id = so.partner_id
             WHERE so.state = 'sale' AND so.date_order >= %(after)s
               AND so.date_order < %(date_to)s AND %(so_companies)s AND %(so_partners)s
            UNION
            SELECT am.commercial_partner_id, am.company_id
              FROM account_move am
             WHERE am.state = 'posted' AND am.move_type IN ('out_invoice', 'out_refund')
               AND ((am.invoice_date > %(date_from)s AND am.invoice_date <= %(as_of)s)
                    OR (am.invoice_date > %(since_from)s AND am.invoice_date <= %(since_to)s))
               AND %(moves)s
            UNION
            SELECT am.commercial_partner_id, am.company_id
              FROM account_move_line aml
              JOIN account_move am ON am.id = aml.move_id
             WHERE aml.display_type = 'payment_term' AND aml.parent_state = 'posted'
               AND am.move_type = 'out_invoice'
               AND aml.date_maturity >= %(date_from)s AND aml.date_maturity < %(as_of)s
               AND %(moves)s
            UNION
            SELECT am.commercial_partner_id, am.company_id
              FROM account_partial_reconcile part
              JOIN account_move_line aml ON aml.id = part.debit_move_id
              JOIN account_move am ON am.id = aml.move_id
             WHERE part.max_date > %(date_from)s AND part.max_date <= %(as_of)s
               AND am.move_type = 'out_invoice' AND %(moves)s
            """,
            after=date_from + timedelta(days=1),
            date_to=as_of + timedelta(days=1),
            date_from=date_from,
            as_of=as_of,
            since_from=self._window(date_from).since_12m,
            since_to=self._window(as_of).since_12m,
            so_companies=self._company_condition(SQL("so.company_id"), company_ids),
            so_partners=self._partner_condition(partners, "so", SQL("p.commercial_partner_id")),
            moves=moves,
        )

    # ------------------------------------------------------------------------------------------
    # the builder

    @api.model
    def _facts_query(
        self, names, company_ids, window, partners=None, keys="documents", key_parts=()
    ):
        """SQL: one row per (partner_id, company_id) with the facts ``names`` (in that order,
        after partner_id and company_id).

        ``partners``: see :meth:`_partner_condition`. ``keys`` says which pairs get a row:
        "documents" those with a document in any part used, "orders" those with confirmed
        orders in the window, or SQL selecting (partner_id, company_id) pairs, which then get a
        row each even without documents; that SQL may read the parts named in ``key_parts`` by
        their alias.
        """
        registry = self._fact_registry()
        facts = [registry[name] for name in names]
        used = list(dict.fromkeys(fact.part for fact in facts))
        if keys == "orders" and "so" not in used:
            used.insert(0, "so")
        if not isinstance(keys, SQL):
            # the key comes from the parts themselves
            first = "so" if keys == "orders" else used[0]
            used.remove(first)
            used.insert(0, first)
        parts = self._fact_parts(company_ids, window, partners)
        if isinstance(keys, SQL):
            used = list(dict.fromkeys([*used, *key_parts]))
            source = SQL("(%s) AS k", keys)
            joins = [
                SQL("LEFT JOIN %s USING (partner_id, company_id)", SQL.identifier(a)) for a in used
            ]
        else:
            join = "LEFT JOIN" if keys == "orders" else "FULL JOIN"
            source = SQL.identifier(used[0])
            joins = [
                SQL("%s %s USING (partner_id, company_id)", SQL(join), SQL.identifier(a))
                for a in used[1:]
            ]
        return SQL(
            """
            WITH %(ctes)s, w AS (SELECT %(as_of)s::date AS as_of)
            SELECT partner_id, company_id%(columns)s
              FROM %(source)s %(joins)s CROSS JOIN w
            """,
            ctes=SQL(", ").join(
                SQL("%s AS (%s)", SQL.identifier(alias), parts[alias]) for alias in used
            ),
            as_of=window.as_of,
            columns=SQL("").join(
                SQL(", %s AS %s", SQL(fact.expression), SQL.identifier(fact.name)) for fact in facts
            ),
            source=source,
            joins=SQL(" ").join(joins),
        )
