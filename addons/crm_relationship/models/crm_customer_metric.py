from datetime import datetime
from datetime import time

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..tools import SCAN_SETTINGS
from ..tools import local_settings

# Partners refreshed per statement by the cron: big enough to stay set-based, small enough to
# commit often and resume after an interruption (the cron workers' plan claims as many).
CRON_BATCH_SIZE = 5000


class CrmCustomerMetric(models.Model):
    """Behaviour of one commercial partner in one company (the CRM data registry).

    Rows are written only by `_refresh_metrics` (set-based SQL per batch, one row per
    (partner_id, company_id)); amounts are in the company currency. `segment_id` is written by
    the classification that follows every refresh, `pinned_segment_id` by managers.
    """

    _name = "crm.customer.metric"
    _description = "Customer Metrics"
    _order = "revenue_12m desc, id"
    _rec_name = "partner_id"
    _check_company_auto = True

    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, readonly=True, ondelete="cascade"
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id", string="Currency")
    first_order_date = fields.Date(readonly=True)
    last_order_date = fields.Date(readonly=True)
    order_count = fields.Integer(string="Confirmed Orders", readonly=True)
    invoice_count = fields.Integer(string="Invoices", readonly=True)
    revenue_total = fields.Monetary(
        string="Invoiced Revenue", readonly=True, help="Untaxed, net of credit notes, all time."
    )
    revenue_12m = fields.Monetary(
        string="Revenue (12 months)",
        readonly=True,
        help="Untaxed invoiced revenue net of credit notes over the last 12 months.",
    )
    average_ticket = fields.Monetary(
        readonly=True, help="Untaxed amount of the confirmed orders divided by their number."
    )
    orders_per_month = fields.Float(readonly=True, digits=(16, 2), aggregator="avg")
    mean_days_between_orders = fields.Float(readonly=True, digits=(16, 1), aggregator="avg")
    days_since_last_order = fields.Integer(
        string="Days Since Last Purchase", readonly=True, aggregator="avg"
    )
    margin_total = fields.Monetary(
        string="Gross Margin (orders)",
        readonly=True,
        help="Margin of the confirmed orders (sale price minus cost), untaxed, all time.",
    )
    margin_percent = fields.Float(string="Margin %", readonly=True, aggregator="avg")
    avg_days_late = fields.Float(
        string="Average Days Late",
        readonly=True,
        digits=(16, 1),
        aggregator="avg",
        help="Days between due date and payment, weighted by the amount paid.",
    )
    on_time_ratio = fields.Float(
        string="Paid On Time",
        readonly=True,
        aggregator="avg",
        help="Share of the invoices due or paid whose payments all arrived by the due date.",
    )
    overdue_amount = fields.Monetary(readonly=True)
    oldest_overdue_days = fields.Integer(readonly=True, aggregator="max")
    preferred_team_id = fields.Many2one("crm.team", string="Preferred Sales Team", readonly=True)
    preferred_medium_id = fields.Many2one("utm.medium", string="Preferred Channel", readonly=True)
    lang = fields.Selection(related="partner_id.lang")
    property_payment_term_id = fields.Many2one(
        related="partner_id.property_payment_term_id", string="Payment Terms"
    )
    category_id = fields.Many2many(related="partner_id.category_id", string="Tags")
    segment_id = fields.Many2one(
        "crm.customer.segment", readonly=True, index=True, check_company=True
    )
    pinned_segment_id = fields.Many2one(
        "crm.customer.segment", string="Pinned Segment", readonly=True, check_company=True
    )
    pinned_by_id = fields.Many2one("res.users", string="Pinned By", readonly=True)
    pinned_date = fields.Datetime(string="Pinned On", readonly=True)
    pin_reason = fields.Char(readonly=True)
    refreshed_at = fields.Datetime(readonly=True)

    _partner_company_uniq = models.UniqueIndex(
        "(partner_id, company_id)", "A customer has one metrics row per company."
    )
    _counts_positive = models.Constraint(
        "CHECK (order_count >= 0 AND invoice_count >= 0)", "Counts cannot be negative."
    )

    @api.constrains("segment_id", "pinned_segment_id", "company_id")
    def _check_segment_company(self):
        for metric in self:
            segments = metric.segment_id | metric.pinned_segment_id
            if segments.company_id - metric.company_id:
                raise ValidationError(
                    self.env._(
                        "The segment of %(partner)s must belong to %(company)s.",
                        partner=metric.partner_id.display_name,
                        company=metric.company_id.name,
                    )
                )

    def init(self):
        # Every refresh rewrites the rows in place: leave room in each page so that the updates
        # stay "HOT" (no new index entries), which halves the cost of a full refresh. A full
        # refresh writes a new version of every row before the old ones can be pruned: half of
        # each page left free holds them all (at 60 %, 37 % of the benchmark's updates were
        # HOT). Applies to the pages written from now on.
        self.env.cr.execute(SQL("ALTER TABLE crm_customer_metric SET (fillfactor = 50)"))

    # ------------------------------------------------------------------ refresh
    def _metric_sql(self, company_ids, partner_ids=None, as_of=None):
        """The SELECT computing every metric per (commercial partner, company), all history up
        to ``as_of`` (default today), from the customer facts (crm.customer.facts).

        `partner_ids` limits it to those commercial partners (one row per partner and company
        then, even with no documents); without it, every pair that has documents (the parts
        joined as they are: no list of keys to sort first; `_refresh_metrics` resets the rows
        whose documents are gone).
        """
        facts = self.env["crm.customer.facts"]
        window = facts._window(as_of)
        keys = "documents"
        if partner_ids is not None:
            keys = SQL(
                """SELECT pa.id AS partner_id, co.id AS company_id
                     FROM unnest(%s::int[]) AS pa(id), unnest(%s::int[]) AS co(id)""",
                list(partner_ids),
                list(company_ids),
            )
        # the columns that are customer facts (extensions may add columns computed over them)
        registry = facts._fact_registry()
        return facts._facts_query(
            [name for name in self._metric_columns()[2:] if name in registry],
            company_ids,
            window,
            partner_ids,
            keys=keys,
        )

    @api.model
    def _refresh_query(self, company_ids, partner_ids=None, as_of=None):
        """SQL: the rows the refresh writes, with (at least) the columns of `_metric_columns`
        by their names: the facts of `_metric_sql`. Extensions wrap it to add the columns
        they compute over the facts."""
        return self._metric_sql(company_ids, partner_ids, as_of)

    @api.model
    def _refresh_rows(self, company_ids, partner_ids=None, as_of=None):
        """SQL: the columns of `_metric_columns` of `_refresh_query`, by name, in that order."""
        return SQL(
            "SELECT %s FROM (%s) AS q",
            SQL(", ").join(SQL.identifier("q", c) for c in self._metric_columns()),
            self._refresh_query(company_ids, partner_ids, as_of),
        )

    @api.model
    def _metric_columns(self):
        """Columns written by the refresh (`_refresh_query` names them; hook for extensions)."""
        return [
            "partner_id",
            "company_id",
            "first_order_date",
            "last_order_date",
            "order_count",
            "invoice_count",
            "revenue_total",
            "revenue_12m",
            "average_ticket",
            "orders_per_month",
            "mean_days_between_orders",
            "days_since_last_order",
            "margin_total",
            "margin_percent",
            "avg_days_late",
            "on_time_ratio",
            "overdue_amount",
            "oldest_overdue_days",
            "preferred_team_id",
            "preferred_medium_id",
        ]

    @api.model
    def _refresh_metrics(self, partner_ids=None, company_ids=None, classify=True, as_of=None):
        """Recompute the metrics of `partner_ids` (commercial partners; None = everyone) in
        `company_ids` (default: the allowed companies) in one pass, then classify them.

        `as_of` (a date, default today) computes them as they were at the end of that day
        (documents after it ignored) and dates the segment changes on that day: the demo
        replays its history month by month with it.

        Returns the refreshed metrics (a recordset).
        """
        company_ids = list(company_ids or self.env.companies.ids)
        if partner_ids is not None:
            partner_ids = list(partner_ids)
            if not partner_ids:
                return self.browse()
        self.env.flush_all()
        columns = self._metric_columns()
        # Compute first into a temporary table: unlike INSERT ... SELECT, CREATE TABLE AS may
        # run in parallel workers.
        self.env.execute_query(SQL("DROP TABLE IF EXISTS crm_customer_metric_refresh"))
        with local_settings(self.env.cr, SCAN_SETTINGS):
            self.env.execute_query(
                SQL(
                    "CREATE TEMPORARY TABLE crm_customer_metric_refresh AS %s",
                    self._refresh_rows(company_ids, partner_ids, as_of),
                )
            )
        if partner_ids is None:
            self._add_rows_without_documents(company_ids, as_of)
        # Then write it: existing rows by one joined UPDATE (cheaper than an upsert probing the
        # unique index row by row), new ones by an insert that tolerates a concurrent refresh.
        now = SQL("now() AT TIME ZONE 'UTC'")

        def assign_from(source):
            return SQL(", ").join(
                SQL("%s = %s", SQL.identifier(c), SQL.identifier(source, c)) for c in columns[2:]
            )

        updated = self.env.execute_query(
            SQL(
                """UPDATE crm_customer_metric m
                      SET %(updates)s, refreshed_at = %(now)s, write_uid = %(uid)s,
                          write_date = %(now)s
                     FROM crm_customer_metric_refresh r
                    WHERE m.partner_id = r.partner_id AND m.company_id = r.company_id
                RETURNING m.id""",
                updates=assign_from("r"),
                now=now,
                uid=self.env.uid,
            )
        )
        [(rows,)] = self.env.execute_query(SQL("SELECT count(*) FROM crm_customer_metric_refresh"))
        inserted = []
        if len(updated) < rows:  # the customers without metrics yet (0.1 s saved otherwise)
            inserted = self.env.execute_query(
                SQL(
                    """INSERT INTO crm_customer_metric (%(cols)s, refreshed_at, create_uid,
                                                        create_date, write_uid, write_date)
                       SELECT %(cols)s, %(now)s, %(uid)s, %(now)s, %(uid)s, %(now)s
                         FROM crm_customer_metric_refresh r
                        WHERE NOT EXISTS (SELECT FROM crm_customer_metric m
                                           WHERE m.partner_id = r.partner_id
                                             AND m.company_id = r.company_id)
                       ON CONFLICT (partner_id, company_id) DO UPDATE
                          SET %(updates)s, refreshed_at = EXCLUDED.refreshed_at,
                              write_uid = EXCLUDED.write_uid, write_date = EXCLUDED.write_date
                       RETURNING id""",
                    cols=SQL(", ").join(SQL.identifier(c) for c in columns),
                    now=now,
                    uid=self.env.uid,
                    updates=assign_from("excluded"),
                )
            )
        self.env.execute_query(SQL("DROP TABLE crm_customer_metric_refresh"))
        self.invalidate_model()
        metrics = self.browse(row[0] for row in updated + inserted)
        if classify:
            self.env["crm.customer.segment"]._classify_metrics(metrics, as_of=as_of)
        return metrics

    @api.model
    def _add_rows_without_documents(self, company_ids, as_of=None):
        """Add to the refresh of every customer of `company_ids` (crm_customer_metric_refresh)
        the existing rows it lacks: customers whose documents are all gone (cancelled, deleted,
        moved to another customer), whose metrics are then reset to zero."""
        gone = self.env.execute_query(
            SQL(
                """SELECT m.company_id, array_agg(m.partner_id)
                     FROM crm_customer_metric m
                    WHERE m.company_id = ANY(%s)
                      AND NOT EXISTS (SELECT FROM crm_customer_metric_refresh r
                                       WHERE r.partner_id = m.partner_id
                                         AND r.company_id = m.company_id)
                    GROUP BY 1""",
                list(company_ids),
            )
        )
        for company_id, partner_ids in gone:
            self.env.execute_query(
                SQL(
                    "INSERT INTO crm_customer_metric_refresh %s",
                    self._refresh_rows([company_id], partner_ids, as_of),
                )
            )

    @api.model
    def _get_stale_keys(self, company_ids, partner_ids=None):
        """(partner, company) pairs whose metrics are missing or out of date: a sale order or
        customer invoice (payments update the invoice) changed after the last refresh, or the
        row was not refreshed today (recency and the 12-month window move every day).

        `partner_ids` (commercial partners) limits the check to them."""
        return self.env.execute_query(
            SQL(
                "SELECT partner_id, company_id FROM (%s) AS s ORDER BY 2, 1",
                self._stale_keys_query(company_ids, partner_ids),
            )
        )

    @api.model
    def _stale_keys_query(self, company_ids, partner_ids=None):
        """SQL of `_get_stale_keys`, with the keys' `refreshed_at` (NULL: no row yet)."""
        day_start = datetime.combine(fields.Datetime.now().date(), time.min)  # UTC, as write_date
        self.env.flush_all()
        partners = self.env["crm.customer.facts"]._partner_condition
        return SQL(
            """
            WITH docs AS (
                SELECT p.commercial_partner_id AS partner_id, so.company_id,
                       max(so.write_date) AS changed
                  FROM sale_order so JOIN res_partner p ON p.id = so.partner_id
                 WHERE so.company_id = ANY(%(companies)s) AND so.state != 'draft'
                   AND %(so_partners)s
                 GROUP BY 1, 2
                UNION ALL
                SELECT am.commercial_partner_id, am.company_id, max(am.write_date)
                  FROM account_move am
                 WHERE am.company_id = ANY(%(companies)s)
                   AND am.move_type IN ('out_invoice', 'out_refund')
                   AND am.state != 'draft' AND am.commercial_partner_id IS NOT NULL
                   AND %(am_partners)s
                 GROUP BY 1, 2
            )
            SELECT d.partner_id, d.company_id, m.refreshed_at
              FROM docs d
              LEFT JOIN crm_customer_metric m
                ON m.partner_id = d.partner_id AND m.company_id = d.company_id
             WHERE m.id IS NULL OR m.refreshed_at < d.changed
            UNION
            SELECT partner_id, company_id, refreshed_at FROM crm_customer_metric
             WHERE company_id = ANY(%(companies)s) AND refreshed_at < %(day_start)s
               AND %(metric_partners)s
            """,
            companies=list(company_ids),
            day_start=day_start,
            so_partners=partners(partner_ids, "so", SQL("p.commercial_partner_id")),
            am_partners=partners(partner_ids, "am", SQL("am.commercial_partner_id")),
            metric_partners=SQL("TRUE")
            if partner_ids is None
            else SQL("partner_id = ANY(%s)", list(partner_ids)),
        )

    # ------------------------------------------------------------------ cron
    @api.model
    def _cron_refresh_metrics(self):
        """Refresh the stale metrics of every company, in batches committed one by one.

        Several crons may run it at once, in several threads or processes, and share the work
        without refreshing a customer twice or missing one (crm.customer.metric.plan).
        Resumable: an interrupted run continues where it stopped.
        """
        companies = self.env["res.company"].search([])
        self.env["crm.customer.metric.plan"]._run_worker(companies.ids)
