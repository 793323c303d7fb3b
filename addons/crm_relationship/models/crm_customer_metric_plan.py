from contextlib import contextmanager
from dataclasses import dataclass

from psycopg2.extensions import ISOLATION_LEVEL_READ_COMMITTED

from odoo import api
from odoo import fields
from odoo import models
from odoo import sql_db
from odoo.tools import SQL
from odoo.tools import split_every

from ..tools import SCAN_SETTINGS
from ..tools import local_settings
from .crm_customer_metric import CRON_BATCH_SIZE

# Stale customers refreshed per batch (one statement, one commit), and at most claimed at once.
BATCH_SIZE = CRON_BATCH_SIZE
# A range of the plan: the stale customers of one company whose ids fall in one span of
# CLAIM_ID_SPAN ids. Its lock is the advisory lock (CLAIM_LOCK_SPACE, a number of the company
# and range): two ranges sharing a number only make a worker wait or skip a range for a while,
# never refresh one twice. PLANNER_LOCK (never a range's number) lets one worker plan at a time.
CLAIM_ID_SPAN = CRON_BATCH_SIZE
CLAIM_LOCK_SPACE = 0x43524D4D  # "CRMM"
PLANNER_LOCK = -1
# The crons running the refresh, woken together for a big one (copies of them join at their
# own schedule).
WORKER_CRONS = (
    "crm_relationship.ir_cron_refresh_customer_metrics",
    "crm_relationship.ir_cron_refresh_customer_metrics_worker_2",
)


@dataclass
class WorkerRun:
    """What one worker call knows of the run: the keys each range held when it joined
    ({(company id, range index): number}), those not done yet, and those it refreshed."""

    planned: dict
    outstanding: int
    refreshed: int = 0


class CrmCustomerMetricPlan(models.Model):
    """One range of the plan of a metrics refresh shared by the cron workers.

    The plan lists the stale (partner, company) keys of a run of `_cron_refresh_metrics`, by
    company and range of CLAIM_ID_SPAN partner ids, each with the `refreshed_at` its metrics
    row had when listed. The methods below are its only writers: the first worker of a run
    writes it, and a worker deletes a range in the transaction that commits its last batch.
    An empty plan means no run is going on. Internal: no user group reads it.
    """

    _name = "crm.customer.metric.plan"
    _description = "Customer Metrics Refresh Plan"
    _order = "company_id, range_index"
    _log_access = False  # written by SQL only, by the cron workers

    company_id = fields.Many2one("res.company", required=True, readonly=True, ondelete="cascade")
    range_index = fields.Integer(
        string="Range",
        required=True,
        readonly=True,
        help="Number of the slice of customer ids the range holds.",
    )
    # {partner id: refreshed_at of its metrics row when listed, or null}
    stale_keys = fields.Json(
        string="Stale Customers",
        readonly=True,
        help="Each customer to refresh, with the last refresh of its metrics when the plan was"
        " made.",
    )
    key_count = fields.Integer(string="Number of Customers", readonly=True)

    _company_range_uniq = models.UniqueIndex(
        "(company_id, range_index)", "A range is listed once per company."
    )

    # ------------------------------------------------------------------ the worker
    @api.model
    def _run_worker(self, company_ids, partner_ids=None):
        """Refresh the stale metrics of `company_ids` as one of the cron workers that may be
        running it at the same time; return how many keys this worker refreshed.
        `partner_ids` limits a new plan to those commercial partners (tests).

        Odoo runs one cron job in one thread or process at a time: a second worker is a second
        cron record calling this method (*worker 2* in the data, or any copy). The first worker
        of a run writes the plan (`_join_run`); every worker then takes claims of a few
        consecutive ranges, about BATCH_SIZE keys each (`_plan_claims`), and for each one:

        1. locks its ranges with transaction advisory locks on a second connection
           (`_lock_claim`), skipping for now the ranges another worker holds;
        2. reads them from the plan in a transaction begun after the locks were taken, so it
           sees all that their previous holder committed (`_claimed_keys`);
        3. refreshes them in batches, each committed with its progress, deletes the ranges
           with the last one, and only then lets the locks go (`_work_claim`).

        The ranges skipped are then waited for and read the same way: a worker returns when
        the plan holds none of the ranges it saw, each key refreshed once, by one worker. A
        worker that dies rolls back the batch it was writing, and PostgreSQL drops its locks
        with its transaction or connection: its ranges, the one it was in included, stay in
        the plan for the other worker or the next call. Out of time (`_commit_progress`
        returns 0) it stops after its batch; Odoo calls a cron again and again in slices of
        about 10 s, and the next call goes on with the plan instead of scanning again.
        """
        with self._lock_cursor() as lock_cr:
            ranges = self._join_run(lock_cr, company_ids, partner_ids)
            planned = {(company_id, index): keys for company_id, index, keys in ranges}
            run = WorkerRun(planned, outstanding=sum(planned.values()))
            busy = []  # the ranges other workers held when this one came
            for wait, queue in ((False, self._plan_claims(ranges)), (True, busy)):
                for company_id, indexes in queue:
                    held = self._lock_claim(lock_cr, company_id, indexes, wait)
                    if len(held) < len(indexes):
                        busy.append((company_id, sorted(set(indexes) - held)))
                    in_time = not held or self._work_claim(run, company_id, sorted(held))
                    lock_cr.rollback()  # lets the claim go, after its work was committed
                    if not in_time:
                        return run.refreshed
        return run.refreshed

    @api.model
    def _join_run(self, lock_cr, company_ids, partner_ids=None):
        """The plan's ranges of `company_ids`, as `_plan_ranges`; written first if there is
        none (and the other worker crons woken if there is more than one claim), and
        committed: the plan's writer holds the planner lock, so that the others wait for it
        and then read its plan."""
        lock_cr.execute(SQL("SELECT pg_advisory_xact_lock(%s, %s)", CLAIM_LOCK_SPACE, PLANNER_LOCK))
        ranges = self._plan_ranges(lock_cr, company_ids)
        if not ranges:
            ranges = sorted(self._make_plan(company_ids, partner_ids))
            if len(self._plan_claims(ranges)) > 1:
                self._wake_other_workers()
        # commits the plan; and the cron cursor's next transaction sees the others' work
        self.env["ir.cron"]._commit_progress(remaining=sum(n for _c, _i, n in ranges))
        lock_cr.rollback()  # lets the other workers read the plan
        return ranges

    @api.model
    def _work_claim(self, run, company_id, indexes):
        """Refresh the keys left in the locked ranges `indexes` of `company_id`, in batches
        committed one by one, and delete the ranges with the last one. Return False when the
        cron is out of time (then the ranges stay in the plan, the rest of them to do)."""
        todo = self._claimed_keys(company_id, indexes)
        run.outstanding -= sum(run.planned[company_id, i] for i in indexes) - len(todo)
        batches = list(split_every(BATCH_SIZE, todo)) or [[]]
        metrics = self.env["crm.customer.metric"].with_company(company_id)
        for number, batch in enumerate(batches, start=1):
            if batch:
                metrics._refresh_metrics(batch, [company_id])
            if number == len(batches):
                self._remove_ranges(company_id, indexes)
            run.refreshed += len(batch)
            run.outstanding -= len(batch)
            if not self.env["ir.cron"]._commit_progress(len(batch), remaining=run.outstanding):
                return False
        return True

    @api.model
    def _wake_other_workers(self):
        """From a cron run with more than one claim to do: trigger the other active worker
        crons now, so that they share this refresh instead of joining at their next call. A
        worker already running runs once more afterwards, and finds little to do.

        `cron_id` is the key Odoo's own ir.cron puts in its job's context (and reads back in
        `_commit_progress`). It grants nothing and skips nothing: it only says which worker
        not to wake. The method is private and called only from the cron's `_run_worker`; a
        forged value could at most wake both workers, which then find the plan shared."""
        cron_id = self.env.context.get("cron_id")
        if not cron_id:
            return
        for xmlid in WORKER_CRONS:
            worker = self.env.ref(xmlid, raise_if_not_found=False)
            if worker and worker.id != cron_id:
                worker._trigger()  # skipped for an inactive cron

    # ------------------------------------------------------------------ the plan
    @api.model
    def _plan_ranges(self, cr, company_ids):
        """The plan's ranges of `company_ids` as `cr` sees them: [(company id, range index,
        number of keys)], in order."""
        cr.execute(
            SQL(
                """SELECT company_id, range_index, key_count
                     FROM crm_customer_metric_plan WHERE company_id = ANY(%s)
                    ORDER BY 1, 2""",
                list(company_ids),
            )
        )
        return cr.fetchall()

    @api.model
    def _make_plan(self, company_ids, partner_ids=None):
        """Bring forward the metrics rows of `company_ids` (of `partner_ids` only, if given)
        that need no recompute, in one pass (`crm.customer.metric._age_metrics`), then write
        the other stale keys in the plan, by range, each with its refreshed_at; return the
        ranges written, as `_plan_ranges`."""
        self.env["crm.customer.metric"]._age_metrics(company_ids, partner_ids)
        # the keys _age_metrics left to recompute
        stale = SQL("SELECT partner_id, company_id, refreshed_at FROM crm_customer_metric_stale")
        with local_settings(self.env.cr, SCAN_SETTINGS):
            return self.env.execute_query(
                SQL(
                    """INSERT INTO crm_customer_metric_plan
                              (company_id, range_index, stale_keys, key_count)
                       SELECT company_id, partner_id / %(span)s,
                              jsonb_object_agg(partner_id, refreshed_at), count(*)
                         FROM (%(stale)s) AS s
                        GROUP BY 1, 2
                    RETURNING company_id, range_index, key_count""",
                    span=CLAIM_ID_SPAN,
                    stale=stale,
                )
            )

    @api.model
    def _plan_claims(self, ranges):
        """Group the plan's `ranges` into claims: [(company id, [range indexes])], consecutive
        ranges of one company holding together at most BATCH_SIZE keys (or one range)."""
        claims = []
        size = 0
        for company_id, index, keys in ranges:
            if not claims or claims[-1][0] != company_id or size + keys > BATCH_SIZE:
                claims.append((company_id, []))
                size = 0
            claims[-1][1].append(index)
            size += keys
        return claims

    @api.model
    def _claimed_keys(self, company_id, indexes):
        """The partners to refresh in the ranges `indexes` of `company_id`, in id order: those
        whose refreshed_at has not moved since they were listed (a key refreshed meanwhile, by
        a worker that died after its batch or by the Refresh button, is left alone), and which
        still exist (a partner merged away is not refreshed)."""
        rows = self.env.execute_query(
            SQL(
                """SELECT k.partner_id::int,
                          p.id IS NOT NULL
                          AND m.refreshed_at IS NOT DISTINCT FROM k.seen::timestamp
                     FROM crm_customer_metric_plan pl
                    CROSS JOIN LATERAL jsonb_each_text(pl.stale_keys) AS k(partner_id, seen)
                     LEFT JOIN res_partner p ON p.id = k.partner_id::int
                     LEFT JOIN crm_customer_metric m
                       ON m.partner_id = k.partner_id::int AND m.company_id = pl.company_id
                    WHERE pl.company_id = %s AND pl.range_index = ANY(%s)
                    ORDER BY 1""",
                company_id,
                list(indexes),
            )
        )
        return [partner_id for partner_id, todo in rows if todo]

    @api.model
    def _remove_ranges(self, company_id, indexes):
        """Delete the ranges `indexes` of `company_id` from the plan: they are done."""
        self.env.execute_query(
            SQL(
                """DELETE FROM crm_customer_metric_plan
                    WHERE company_id = %s AND range_index = ANY(%s)""",
                company_id,
                list(indexes),
            )
        )

    # ------------------------------------------------------------------ the locks
    @contextmanager
    def _lock_cursor(self):
        """A second connection holding a cron worker's locks, in READ COMMITTED: each of its
        statements sees all that was committed before it, the locks' previous holders' work
        included (the cron's own cursor, in REPEATABLE READ, sees the database as it was at
        the first statement of its transaction)."""
        with self.env.registry.cursor() as lock_cr:
            if isinstance(lock_cr, sql_db.Cursor):  # not the shared cursor of a browser test
                lock_cr.connection.set_isolation_level(ISOLATION_LEVEL_READ_COMMITTED)
            yield lock_cr

    @api.model
    def _lock_claim(self, lock_cr, company_id, indexes, wait=False):
        """Lock the ranges `indexes` of `company_id` in the transaction of `lock_cr`, and
        return the set of those locked: those free now, or all of them once their holders are
        done if `wait`. The locks last until `lock_cr` ends its transaction."""
        indexes = sorted(indexes)
        lock_keys = [(company_id * 1_000_003 + index) % 2**31 for index in indexes]
        if wait:
            # in one order for every worker: two waiting workers cannot deadlock
            lock_cr.execute(
                SQL(
                    "SELECT pg_advisory_xact_lock(%s, k) FROM unnest(%s::int[]) AS k",
                    CLAIM_LOCK_SPACE,
                    lock_keys,
                )
            )
            return set(indexes)
        lock_cr.execute(
            SQL(
                """SELECT i FROM unnest(%s::int[], %s::int[]) AS t(i, k)
                    WHERE pg_try_advisory_xact_lock(%s, t.k)""",
                indexes,
                lock_keys,
                CLAIM_LOCK_SPACE,
            )
        )
        return {index for (index,) in lock_cr.fetchall()}
