from datetime import timedelta

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
# The daily update recomputes from their documents the customers whose last recompute is so
# many days old (all of them once a week, in one pass over the documents; the other days it
# recomputes only those whose documents changed): the changes no write date shows (a document
# moved to another customer: the one it left; a write committed while a refresh was running)
# last at most that long. Spreading the recomputes over the days (a seventh of the customers
# each day) cost each day more than recomputing everyone once: 6,500 of the benchmark's 87,000
# customers take 1.1 s, a third of the full refresh (by their ids, not one pass).
RECOMPUTE_DAYS = 7
# A document counts as changed when written less than this before its customer's last refresh:
# a transaction that began before a refresh and committed after it gives its documents its own
# start as write date, earlier than the refresh. Their customers are recomputed once more.
WRITE_MARGIN = timedelta(hours=1)


class CrmCustomerMetric(models.Model):
    """Behaviour of one commercial partner in one company (the CRM data registry).

    Rows are written only by `_refresh_metrics` (set-based SQL per batch, one row per
    (partner_id, company_id)), which recomputes them from the documents or brings them forward
    to the day (the daily update: `_age_metrics`, which also marks the rows to recompute);
    amounts are in the company currency. `segment_id` is written by
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
    facts_date = fields.Date(
        "Facts As Of", readonly=True, help="The day the metrics hold for (recency counts to it)."
    )
    recomputed_date = fields.Date(
        "Recomputed On",
        readonly=True,
        help="The day the metrics were last computed from all of the customer's documents; on "
        "the days in between, the daily update brings forward those of the customers none of "
        "whose documents changed.",
    )

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

    def _aged_sql(self, company_ids, partner_ids=None, as_of=None):
        """The facts of the metrics rows of `partner_ids` (None: every row) that hold for a day
        before ``as_of`` (default today), brought forward to it, as `_metric_sql` names them:
        the facts that move with the day alone recomputed (`Fact.aged`), the others as stored.
        Only right for customers none of whose documents changed or crossed a date since
        (`_stale_keys_query` tells them apart)."""
        facts = self.env["crm.customer.facts"]
        registry = facts._fact_registry()
        names = [name for name in self._metric_columns()[2:] if name in registry]
        return SQL(
            """
            WITH w AS (SELECT %(as_of)s::date AS as_of)
            SELECT m.partner_id, m.company_id, m.refreshed_at AS seen_refreshed_at%(columns)s
              FROM crm_customer_metric m
             CROSS JOIN LATERAL (SELECT m.first_order_date, m.last_order_date,
                                        m.order_count) AS so
             CROSS JOIN w
             WHERE m.company_id = ANY(%(companies)s) AND m.facts_date < %(as_of)s
               AND %(partners)s
            """,
            as_of=facts._window(as_of).as_of,
            columns=SQL("").join(
                SQL(
                    ", %s AS %s",
                    SQL(registry[name].aged) if registry[name].aged else SQL.identifier("m", name),
                    SQL.identifier(name),
                )
                for name in names
            ),
            companies=list(company_ids),
            partners=SQL("TRUE")
            if partner_ids is None
            else SQL("m.partner_id = ANY(%s)", list(partner_ids)),
        )

    @api.model
    def _refresh_query(self, company_ids, partner_ids=None, as_of=None, aged=False):
        """SQL: the rows the refresh writes, with (at least) the columns of `_metric_columns`
        by their names: the facts of `_metric_sql` (of `_aged_sql` with `aged`). Extensions
        wrap it to add the columns they compute over the facts."""
        if aged:
            return self._aged_sql(company_ids, partner_ids, as_of)
        return self._metric_sql(company_ids, partner_ids, as_of)

    @api.model
    def _refresh_rows(self, company_ids, partner_ids=None, as_of=None, aged=False):
        """SQL: the columns `_written_columns` of `_refresh_query`, by name, in that order."""
        columns = self._written_columns(aged)
        if aged:
            columns = [*columns, "seen_refreshed_at"]
        return SQL(
            "SELECT %s FROM (%s) AS q",
            SQL(", ").join(SQL.identifier("q", c) for c in columns),
            self._refresh_query(company_ids, partner_ids, as_of, aged),
        )

    @api.model
    def _written_columns(self, aged=False):
        """The columns of `_metric_columns` a refresh writes: all of them, or bringing rows
        forward (`aged`) the key and those that may move with the day: the facts that do
        (`Fact.aged`) and the columns computed over the facts (the others stay as they are,
        and writing fewer columns makes it faster)."""
        columns = self._metric_columns()
        if not aged:
            return columns
        registry = self.env["crm.customer.facts"]._fact_registry()
        return columns[:2] + [
            c for c in columns[2:] if c not in registry or registry[c].aged is not None
        ]

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
    def _refresh_metrics(
        self, partner_ids=None, company_ids=None, classify=True, as_of=None, aged=False
    ):
        """Recompute the metrics of `partner_ids` (commercial partners; None = everyone) in
        `company_ids` (default: the allowed companies) in one pass, then classify them.

        `as_of` (a date, default today) computes them as they were at the end of that day
        (documents after it ignored) and dates the segment changes on that day: the demo
        replays its history month by month with it.

        With `aged`, bring the existing rows of `partner_ids` (None: all) forward to `as_of`
        instead (`_aged_sql`): only for customers `_stale_keys_query` says need no recompute
        (recompute the others first).

        Returns the refreshed metrics (a recordset).
        """
        company_ids = list(company_ids or self.env.companies.ids)
        as_of = self.env["crm.customer.facts"]._window(as_of).as_of
        if partner_ids is not None:
            partner_ids = list(partner_ids)
            if not partner_ids:
                return self.browse()
        self.env.flush_all()
        columns = self._written_columns(aged)
        # Compute first into a temporary table: unlike INSERT ... SELECT or UPDATE ... FROM,
        # CREATE TABLE AS may run in parallel workers (bringing the benchmark's 86,000
        # customers forward: 1.2 s by one UPDATE from the query, 0.9 s so).
        self.env.execute_query(SQL("DROP TABLE IF EXISTS crm_customer_metric_refresh"))
        with local_settings(self.env.cr, SCAN_SETTINGS):
            self.env.execute_query(
                SQL(
                    "CREATE TEMPORARY TABLE crm_customer_metric_refresh AS %s",
                    self._refresh_rows(company_ids, partner_ids, as_of, aged),
                )
            )
        if partner_ids is None and not aged:
            self._add_rows_without_documents(company_ids, as_of)
        # Then write it: existing rows by one joined UPDATE (cheaper than an upsert probing the
        # unique index row by row), new ones by an insert that tolerates a concurrent refresh.
        now = SQL("now() AT TIME ZONE 'UTC'")
        dates = {"facts_date": as_of} if aged else {"facts_date": as_of, "recomputed_date": as_of}

        def assign_from(source):
            return SQL(", ").join(
                [SQL("%s = %s", SQL.identifier(c), SQL.identifier(source, c)) for c in columns[2:]]
                + [SQL("%s = %s", SQL.identifier(c), day) for c, day in dates.items()]
            )

        updated = self.env.execute_query(
            SQL(
                """UPDATE crm_customer_metric m
                      SET %(updates)s, refreshed_at = %(now)s, write_uid = %(uid)s,
                          write_date = %(now)s
                     FROM crm_customer_metric_refresh r
                    WHERE m.partner_id = r.partner_id AND m.company_id = r.company_id
                      AND %(unchanged)s
                RETURNING m.id""",
                updates=assign_from("r"),
                now=now,
                uid=self.env.uid,
                # a row brought forward is written only if nobody refreshed it meanwhile
                unchanged=SQL("m.refreshed_at IS NOT DISTINCT FROM r.seen_refreshed_at")
                if aged
                else SQL("TRUE"),
            )
        )
        inserted = []
        rows = 0
        if not aged:
            [(rows,)] = self.env.execute_query(
                SQL("SELECT count(*) FROM crm_customer_metric_refresh")
            )
        if len(updated) < rows:  # the customers without metrics yet (0.1 s saved otherwise)
            inserted = self.env.execute_query(
                SQL(
                    """INSERT INTO crm_customer_metric (%(cols)s, facts_date, recomputed_date,
                                                        refreshed_at, create_uid, create_date,
                                                        write_uid, write_date)
                       SELECT %(cols)s, %(as_of)s, %(as_of)s, %(now)s, %(uid)s, %(now)s,
                              %(uid)s, %(now)s
                         FROM crm_customer_metric_refresh r
                        WHERE NOT EXISTS (SELECT FROM crm_customer_metric m
                                           WHERE m.partner_id = r.partner_id
                                             AND m.company_id = r.company_id)
                       ON CONFLICT (partner_id, company_id) DO UPDATE
                          SET %(updates)s, refreshed_at = EXCLUDED.refreshed_at,
                              write_uid = EXCLUDED.write_uid, write_date = EXCLUDED.write_date
                       RETURNING id""",
                    cols=SQL(", ").join(SQL.identifier(c) for c in columns),
                    as_of=as_of,
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
    def _get_stale_keys(self, company_ids, partner_ids=None, as_of=None):
        """(partner, company) pairs whose metrics are missing or out of date on `as_of`
        (default today): see `_stale_keys_query`. `partner_ids` (commercial partners) limits
        the check to them."""
        query = self._stale_keys_query(company_ids, partner_ids, as_of)
        with local_settings(self.env.cr, SCAN_SETTINGS):
            return self.env.execute_query(
                SQL("SELECT partner_id, company_id FROM (%s) AS s ORDER BY 2, 1", query)
            )

    @api.model
    def _stale_keys_query(self, company_ids, partner_ids=None, as_of=None, scan_all=()):
        """SQL: the (partner_id, company_id) pairs whose metrics are missing or out of date on
        `as_of` (default today), with the `refreshed_at` of their row (NULL: no row yet) and
        whether they must be recomputed from their documents (`recompute`) or may be brought
        forward from their row (`_aged_sql`).

        Recomputed: the customers without a row; those with a sale order, customer invoice or
        credit note (payments update them) or customer payment written after their last
        refresh; those with a document or payment dated, an installment falling due or an
        invoice leaving the last 12 months since the day their row holds for
        (`crm.customer.facts._crossed_keys_query`); and those last recomputed RECOMPUTE_DAYS
        ago. Brought forward: every other row not of `as_of` yet.

        Only documents written since the oldest refresh of the company are read for changes,
        but all of them for the companies `scan_all` (`_age_metrics` asks for it once a
        week): a customer without a row whose documents are older (its contact moved under
        it; metrics refreshed one by one before any daily update) is found then.
        """
        facts = self.env["crm.customer.facts"]
        as_of = facts._window(as_of).as_of
        company_ids = list(company_ids)
        self.env.flush_all()
        metric_partners = (
            SQL("TRUE") if partner_ids is None else SQL("m.partner_id = ANY(%s)", list(partner_ids))
        )
        # The rows brought forward hold for a day between `oldest` and as_of (older ones are
        # recomputed): what crossed a date since `oldest` may have changed their facts.
        oldest = as_of - timedelta(days=RECOMPUTE_DAYS)
        [(first_day,)] = self.env.execute_query(
            SQL(
                """SELECT min(m.facts_date) FROM crm_customer_metric m
                    WHERE m.company_id = ANY(%s) AND m.facts_date < %s AND m.facts_date > %s
                      AND %s""",
                company_ids,
                as_of,
                oldest,
                metric_partners,
            )
        )
        if first_day:
            crossed = facts._crossed_keys_query(company_ids, first_day, as_of, partner_ids)
        else:
            crossed = SQL("SELECT NULL::int, NULL::int WHERE FALSE")
        # the documents written since the oldest refresh, by company (all of a company
        # without metrics yet)
        since = dict(
            self.env.execute_query(
                SQL(
                    """SELECT c.id, min(m.refreshed_at) - %s
                         FROM unnest(%s::int[]) AS c(id)
                         LEFT JOIN crm_customer_metric m ON m.company_id = c.id AND %s
                        GROUP BY 1""",
                    WRITE_MARGIN,
                    company_ids,
                    metric_partners,
                )
            )
        )

        def written(alias):
            if not since:
                return SQL("FALSE")
            return SQL(" OR ").join(
                SQL("%s = %s", SQL.identifier(alias, "company_id"), company_id)
                if day is None or company_id in scan_all
                else SQL(
                    "(%s = %s AND %s >= %s)",
                    SQL.identifier(alias, "company_id"),
                    company_id,
                    SQL.identifier(alias, "write_date"),
                    day,
                )
                for company_id, day in since.items()
            )

        partners = facts._partner_condition
        return SQL(
            """
            WITH docs AS (
                -- quotations too: an order cancelled and reset to draft no longer counts
                SELECT p.commercial_partner_id AS partner_id, so.company_id,
                       max(so.write_date) AS changed
                  FROM sale_order so
                  JOIN res_partner p ON p.id = so.partner_id
                 WHERE (%(so_written)s) AND %(so_partners)s
                 GROUP BY 1, 2
                UNION ALL
                -- drafts too: an invoice reset to draft no longer counts
                SELECT am.commercial_partner_id, am.company_id, max(am.write_date)
                  FROM account_move am
                 WHERE am.move_type IN ('out_invoice', 'out_refund')
                   AND am.commercial_partner_id IS NOT NULL
                   AND (%(am_written)s) AND %(am_partners)s
                 GROUP BY 1, 2
                UNION ALL
                SELECT p.commercial_partner_id, ap.company_id, max(ap.write_date)
                  FROM account_payment ap
                  JOIN res_partner p ON p.id = ap.partner_id
                 WHERE ap.partner_type = 'customer' AND (%(ap_written)s) AND %(ap_partners)s
                 GROUP BY 1, 2
            ), changed AS (
                SELECT DISTINCT d.partner_id, d.company_id, m.id AS metric_id, m.refreshed_at
                  FROM docs d
                  LEFT JOIN crm_customer_metric m
                    ON m.partner_id = d.partner_id AND m.company_id = d.company_id
                 WHERE m.id IS NULL OR m.refreshed_at - %(margin)s < d.changed
            ), crossed AS (
                SELECT DISTINCT * FROM (%(crossed)s) AS c(partner_id, company_id)
            )
            SELECT partner_id, company_id, refreshed_at, TRUE AS recompute FROM changed
            UNION ALL
            -- a document dated in between for a customer without a row yet
            SELECT c.partner_id, c.company_id, NULL, TRUE
              FROM crossed c
             WHERE NOT EXISTS (SELECT FROM crm_customer_metric m
                                WHERE m.partner_id = c.partner_id
                                  AND m.company_id = c.company_id)
               AND NOT EXISTS (SELECT FROM changed ch
                                WHERE ch.partner_id = c.partner_id
                                  AND ch.company_id = c.company_id)
            UNION ALL
            SELECT m.partner_id, m.company_id, m.refreshed_at,
                   m.facts_date IS NULL OR m.facts_date > %(as_of)s
                   OR m.recomputed_date IS NULL OR m.recomputed_date <= %(oldest)s
                   OR c.partner_id IS NOT NULL
              FROM crm_customer_metric m
              LEFT JOIN crossed c ON c.partner_id = m.partner_id AND c.company_id = m.company_id
             WHERE m.company_id = ANY(%(companies)s) AND %(metric_partners)s
               AND m.facts_date IS DISTINCT FROM %(as_of)s
               AND m.id NOT IN (SELECT metric_id FROM changed WHERE metric_id IS NOT NULL)
            """,
            companies=company_ids,
            as_of=as_of,
            oldest=oldest,
            margin=WRITE_MARGIN,
            crossed=crossed,
            so_written=written("so"),
            am_written=written("am"),
            ap_written=written("ap"),
            so_partners=partners(partner_ids, "so", SQL("p.commercial_partner_id")),
            am_partners=partners(partner_ids, "am", SQL("am.commercial_partner_id")),
            ap_partners=partners(partner_ids, "ap", SQL("p.commercial_partner_id")),
            metric_partners=metric_partners,
        )

    @api.model
    def _age_metrics(self, company_ids=None, partner_ids=None, as_of=None, classify=True):
        """Bring forward to `as_of` (default today) the metrics rows of `company_ids` (of
        `partner_ids` only, if given) that need no recompute (`_stale_keys_query`), in one
        pass per company, and mark the others to recompute (their facts_date emptied: they
        stay stale until recomputed from their documents). A company most of whose customers
        need a recompute is left alone: one pass over all its documents is cheaper.
        Once a week per company, every document is read for changes (`scan_all`).

        The stale customers stay listed in the temporary table crm_customer_metric_stale until
        the transaction ends (`crm.customer.metric.plan._make_plan` plans them from it).
        Returns the metrics brought forward, and {company id: (the stale customers left to
        recompute, whether that is all of them)}.
        """
        company_ids = list(company_ids or self.env.companies.ids)
        as_of = self.env["crm.customer.facts"]._window(as_of).as_of
        Param = self.env["ir.config_parameter"].sudo()  # the scans' days: not a user's setting
        scanned = {c: Param.get_param(f"crm_relationship.metrics_scanned_{c}") for c in company_ids}
        oldest = str(as_of - timedelta(days=RECOMPUTE_DAYS))
        scan_all = [c for c, day in scanned.items() if not day or day <= oldest]
        query = self._stale_keys_query(company_ids, partner_ids, as_of, scan_all)
        self.env.execute_query(SQL("DROP TABLE IF EXISTS crm_customer_metric_stale"))
        with local_settings(self.env.cr, SCAN_SETTINGS):
            self.env.execute_query(
                SQL("CREATE TEMPORARY TABLE crm_customer_metric_stale ON COMMIT DROP AS %s", query)
            )
        if partner_ids is None:
            for company_id in scan_all:
                Param.set_param(f"crm_relationship.metrics_scanned_{company_id}", str(as_of))
        counts = self.env.execute_query(
            SQL(
                """SELECT s.company_id, array_agg(s.partner_id ORDER BY s.partner_id),
                          array_agg(s.partner_id ORDER BY s.partner_id) FILTER (WHERE recompute),
                          (SELECT count(*) FROM crm_customer_metric m
                            WHERE m.company_id = s.company_id)
                     FROM crm_customer_metric_stale s GROUP BY 1"""
            )
        )
        todo = {}
        for company_id, stale, recompute, rows in counts:
            recompute = recompute or []
            everyone = len(recompute) * 2 > rows
            todo[company_id] = (stale, True) if everyone else (recompute, False)
        ageing = [company_id for company_id, (_keys, everyone) in todo.items() if not everyone]
        self.env.execute_query(
            SQL(
                """UPDATE crm_customer_metric m SET facts_date = NULL
                     FROM crm_customer_metric_stale s
                    WHERE s.recompute AND m.partner_id = s.partner_id
                      AND m.company_id = s.company_id AND m.company_id = ANY(%s)""",
                ageing,
            )
        )
        # what the plan lists: the customers to recompute (all the stale ones where no row is
        # brought forward)
        self.env.execute_query(
            SQL(
                "DELETE FROM crm_customer_metric_stale WHERE NOT recompute AND company_id = ANY(%s)",
                ageing,
            )
        )
        metrics = self.browse()
        for company_id in ageing:
            metrics |= self._refresh_metrics(partner_ids, [company_id], classify, as_of, aged=True)
        return metrics, todo

    @api.model
    def _update_metrics(self, company_ids=None, partner_ids=None, as_of=None, classify=True):
        """Bring the metrics of `company_ids` (default: the allowed companies; of `partner_ids`
        only, if given) up to date on `as_of` (default today) in one call, as the daily cron
        does over its workers: bring forward the rows that need only that (`_age_metrics`),
        then recompute the other stale customers from their documents (everyone of the
        company in one pass when they are most). Returns the metrics written."""
        metrics, todo = self._age_metrics(company_ids, partner_ids, as_of, classify)
        for company_id, (stale, everyone) in todo.items():
            if everyone and partner_ids is None:
                metrics |= self._refresh_metrics(None, [company_id], classify, as_of)
            else:
                metrics |= self._refresh_metrics(stale, [company_id], classify, as_of)
        return metrics

    # ------------------------------------------------------------------ cron
    @api.model
    def _cron_refresh_metrics(self):
        """Bring the metrics of every company up to date, in batches committed one by one:
        recompute from their documents the customers whose documents changed or crossed a
        date, bring the others forward to the day (`_stale_keys_query`).

        Several crons may run it at once, in several threads or processes, and share the work
        without refreshing a customer twice or missing one (crm.customer.metric.plan).
        Resumable: an interrupted run continues where it stopped.
        """
        companies = self.env["res.company"].search([])
        self.env["crm.customer.metric.plan"]._run_worker(companies.ids)
