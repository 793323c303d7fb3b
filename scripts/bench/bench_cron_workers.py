"""Benchmark: one refresh of 1,000,000 customers' metrics shared by two cron worker processes.

    make bench ARGS=cron_workers      (its own database: <bench database>_workers)
    smaller, on a copy of the 100,000-customer crm_bench (createdb -T crm_bench x):
    bench_cron_workers.py --config C --database x --workers-database x \
        --customers 100000 --lines 1000000

Odoo's way past one machine is several Odoo processes over one PostgreSQL. This marks every
customer's metrics stale and refreshes them through Odoo's own cron machinery (the job is
acquired and run as a cron thread does: `_acquire_one_job`, `_process_job`, with its time
slices of about ten seconds and its progress; a worker takes its job again as soon as a slice
ends, as cron threads do when ODOO_NOTIFY_CRON_CHANGES is set), first in one worker process,
then in two processes started at once, one per refresh cron (--rounds N: N times each, in
turns; the best time of each side counts). It prints the wall time of each, the speed-up, how
many customers each worker refreshed, and checks by SQL that none was refreshed twice and none
missed: a trigger logs every committed refresh of a metrics row (what a rolled back batch wrote
is not logged), and every row must have been refreshed once after the run started. The
one-worker time is also given as a ratio to one plain SQL aggregate over the invoice lines
(bench_relationship's baseline), and to one set-based refresh of every row in one statement.

The data set: datagen's generator with 1,000,000 customers and 2,000,000 order and invoice
lines (about 500,000 orders, invoices and payments: the most active customers have dozens, most
have none or a few, by datagen's power law; 35 minutes to generate on a shared 2-core machine),
plus an empty metrics row for every customer without documents, so that the refresh covers the
1,000,000. It is kept in its own database, made on first use, so that it does not disturb the
shared crm_bench.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench_relationship import ensure_segments
from bench_relationship import plain_aggregate
from datagen import bench_arguments
from datagen import ensure_dataset
from datagen import open_env
from datagen import timed

from odoo.tools import SQL

ROOT = Path(__file__).resolve().parents[2]
MODULES = "crm_relationship,crm_loyalty,crm_analytics"
CUSTOMERS = 1_000_000
LINES = 2_000_000
WORKERS = (
    "crm_relationship.ir_cron_refresh_customer_metrics",
    "crm_relationship.ir_cron_refresh_customer_metrics_worker_2",
)


def ensure_database(config, database):
    """Create `database` with the CRM addons (no demo data), or update crm_relationship in it."""
    exists = subprocess.run(
        ["psql", "-d", "postgres", "-Atq", "-c", "SELECT datname FROM pg_database"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    option = ["-u", "crm_relationship"] if database in exists else ["-i", MODULES]
    print(f"{'updating' if database in exists else 'creating'} the database {database}", flush=True)
    command = [ROOT / "scripts/odoo", "server", "-c", config, "-d", database, *option]
    subprocess.run([*command, "--stop-after-init", "--log-level=warn", "--http-port=0"], check=True)


def psql(database, statement):
    """Run `statement` outside a transaction (VACUUM)."""
    subprocess.run(["psql", "-d", database, "-Atq", "-c", statement], check=True)


def prepare(env, company_id):
    """Give every customer a metrics row, and the refresh log (a trigger on the metrics)."""
    cr = env.cr
    cr.execute(
        SQL(
            """INSERT INTO crm_customer_metric (partner_id, company_id, refreshed_at,
                                                create_uid, create_date, write_uid, write_date)
               SELECT p.id, %(company)s, '2000-01-01', 1, now(), 1, now()
                 FROM res_partner p
                WHERE p.customer_rank > 0 AND p.id = p.commercial_partner_id
                  AND NOT EXISTS (SELECT FROM crm_customer_metric m
                                   WHERE m.partner_id = p.id AND m.company_id = %(company)s)""",
            company=company_id,
        )
    )
    added = cr.rowcount
    # The log: one row per metrics row a committed statement refreshed (refreshed_at moved),
    # with the connection that did it. A statement trigger with transition tables: a few
    # milliseconds per batch of 5,000.
    cr.execute(
        """
        CREATE TABLE IF NOT EXISTS bench_refresh_log (
            partner_id int, company_id int, backend int, logged timestamp DEFAULT clock_timestamp());
        CREATE OR REPLACE FUNCTION bench_log_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO bench_refresh_log (partner_id, company_id, backend)
                SELECT n.partner_id, n.company_id, pg_backend_pid() FROM new_rows n;
            ELSE
                INSERT INTO bench_refresh_log (partner_id, company_id, backend)
                SELECT n.partner_id, n.company_id, pg_backend_pid()
                  FROM new_rows n JOIN old_rows o ON o.id = n.id
                 WHERE n.refreshed_at IS DISTINCT FROM o.refreshed_at;
            END IF;
            RETURN NULL;
        END $$;
        DROP TRIGGER IF EXISTS bench_log_refresh_update ON crm_customer_metric;
        DROP TRIGGER IF EXISTS bench_log_refresh_insert ON crm_customer_metric;
        CREATE TRIGGER bench_log_refresh_update AFTER UPDATE ON crm_customer_metric
            REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION bench_log_refresh();
        CREATE TRIGGER bench_log_refresh_insert AFTER INSERT ON crm_customer_metric
            REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION bench_log_refresh();
        """
    )
    cr.commit()
    return added


def mark_all_stale(env, database, company_id):
    """Every metrics row of the company last refreshed two days ago and to recompute from its
    documents (as on the day of the weekly recompute): all stale, none brought forward."""
    # not a refresh: not logged
    env.cr.execute("ALTER TABLE crm_customer_metric DISABLE TRIGGER bench_log_refresh_update")
    env.cr.execute(
        SQL(
            """UPDATE crm_customer_metric
                  SET refreshed_at = now() AT TIME ZONE 'UTC' - interval '2 days',
                      facts_date = NULL
                WHERE company_id = %s""",
            company_id,
        )
    )
    env.cr.execute("ALTER TABLE crm_customer_metric ENABLE TRIGGER bench_log_refresh_update")
    env.cr.execute("TRUNCATE bench_refresh_log")
    env.cr.execute("DELETE FROM ir_cron_progress")
    env.cr.commit()
    psql(database, "VACUUM ANALYZE crm_customer_metric")
    env.cr.execute("SELECT count(*) FROM crm_customer_metric WHERE company_id = %s", [company_id])
    return env.cr.fetchone()[0]


def run_workers(env, args, database, xmlids):
    """Start one process per worker cron, let them load Odoo, then start them at once; return
    (wall seconds, run start in UTC, {xmlid: result of the worker})."""
    for xmlid in WORKERS:
        # the first worker wakes the other ones it finds active: only those of this run
        env.ref(xmlid).active = xmlid in xmlids
    env.cr.commit()
    processes = {
        xmlid: subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--config",
                args.config,
                "--database",
                args.database,
                "--worker",
                xmlid,
                "--workers-database",
                database,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for xmlid in xmlids
    }
    for process in processes.values():
        if process.stdout.readline().strip() != "ready":
            raise RuntimeError("a worker failed to start")
    env.cr.execute("SELECT clock_timestamp() AT TIME ZONE 'UTC'")
    started_at = env.cr.fetchone()[0]
    env.cr.commit()
    started = time.perf_counter()
    for process in processes.values():
        process.stdin.write("go\n")
        process.stdin.flush()
    results = {}
    for xmlid, process in processes.items():
        results[xmlid] = json.loads(process.stdout.readline())
        process.wait()
    return time.perf_counter() - started, started_at, results


def check(env, company_id, started_at):
    """(rows, rows refreshed once, twice or more, never) since `started_at`, and the refreshes
    per database connection, read from the metrics and the refresh log."""
    env.cr.execute(
        SQL(
            """WITH logged AS (SELECT partner_id, company_id, count(*) AS n
                                 FROM bench_refresh_log WHERE logged >= %(start)s
                                GROUP BY 1, 2)
               SELECT count(*),
                      count(*) FILTER (WHERE l.n = 1 AND m.refreshed_at >= %(start)s),
                      count(*) FILTER (WHERE l.n > 1),
                      count(*) FILTER (WHERE l.n IS NULL OR m.refreshed_at < %(start)s)
                 FROM crm_customer_metric m
                 LEFT JOIN logged l USING (partner_id, company_id)
                WHERE m.company_id = %(company)s""",
            start=started_at,
            company=company_id,
        )
    )
    counts = env.cr.fetchone()
    env.cr.execute(
        "SELECT backend, count(*) FROM bench_refresh_log WHERE logged >= %s GROUP BY 1 ORDER BY 1",
        [started_at],
    )
    return counts, env.cr.fetchall()


def worker(args):
    """A worker process: run the cron `args.worker` as Odoo's cron thread does until its job
    reports nothing left, then print what it did (JSON)."""
    import logging

    from odoo.addons.base.models.ir_cron import IrCron

    with open_env(args.config, args.workers_database) as env:
        logging.getLogger("odoo").setLevel(logging.WARNING)
        registry = env.registry
        cron_id = env.ref(args.worker).id
        env.cr.commit()
        print("ready", flush=True)
        sys.stdin.readline()
        started = time.perf_counter()
        acquisitions = 0
        while True:
            with registry.cursor() as cron_cr:
                job = IrCron._acquire_one_job(cron_cr, cron_id, include_not_ready=True)
                if not job:
                    raise RuntimeError(f"the cron {args.worker} is running elsewhere")
                registry["ir.cron"]._process_job(cron_cr, job)
                cron_cr.commit()
            acquisitions += 1
            env.cr.execute(
                """SELECT c.failure_count, p.remaining FROM ir_cron c
                     LEFT JOIN LATERAL (SELECT remaining FROM ir_cron_progress
                                         WHERE cron_id = c.id ORDER BY id DESC LIMIT 1) p ON TRUE
                    WHERE c.id = %s""",
                [cron_id],
            )
            failures, remaining = env.cr.fetchone()
            env.cr.commit()
            if failures:
                raise RuntimeError(f"the cron {args.worker} failed: see the log above")
            if not remaining:
                break
        seconds = time.perf_counter() - started
        env.cr.execute(
            "SELECT count(*), COALESCE(sum(done), 0) FROM ir_cron_progress WHERE cron_id = %s",
            [cron_id],
        )
        calls, refreshed = env.cr.fetchone()
    print(
        json.dumps(
            {
                "seconds": round(seconds, 1),
                "acquisitions": acquisitions,
                "calls": calls,
                "refreshed": refreshed,
            }
        ),
        flush=True,
    )


def main():
    parser = bench_arguments(__doc__, sized=False)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument(
        "--workers-database",
        help="the database refreshed (default: <database>_workers, made on first use)",
    )
    parser.add_argument("--rounds", type=int, default=1, help="times to run each side")
    parser.add_argument("--customers", type=int, default=CUSTOMERS, help="customers")
    parser.add_argument("--lines", type=int, default=LINES, help="order and invoice lines")
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    database = args.workers_database or f"{args.database}_workers"
    args.workers_database = database
    ensure_database(args.config, database)
    with open_env(args.config, database) as env:
        stats = ensure_dataset(env, args.customers, args.lines)
        company_id = stats["company_id"]
        env = env(context=dict(env.context, allowed_company_ids=[company_id]))
        ensure_segments(env, env["res.company"].browse(company_id))
        added = prepare(env, company_id)
        print(
            f"data set ({database}): {stats['customers']} customers, {stats['orders']} orders,"
            f" {stats['invoice_product_lines']} invoice lines, {stats['payments']} payments,"
            f" {stats['credit_notes']} credit notes; {stats['customers_with_orders']} customers"
            f" with documents; generated in {stats['generation_seconds']} s"
            + (f"; {added} empty metrics rows added" if added else ""),
            flush=True,
        )
        # warm the caches for both sides alike: the baseline reads the invoices, the stale
        # list the orders and metrics
        base_s, groups = timed(plain_aggregate, env, company_id)
        base_s = min(base_s, timed(plain_aggregate, env, company_id)[0])
        env.cr.rollback()
        print(
            f"baseline: plain SQL aggregate over the invoice lines ({groups} groups): {base_s:.2f} s"
        )
        sides = {1: WORKERS[:1], 2: WORKERS}
        walls = {1: [], 2: []}
        for _round in range(args.rounds):
            for n, xmlids in sides.items():
                total = mark_all_stale(env, database, company_id)
                load = os.getloadavg()[0]
                wall, started_at, results = run_workers(env, args, database, xmlids)
                (rows, once, twice, missed), backends = check(env, company_id, started_at)
                walls[n].append(wall)
                per_worker = ", ".join(
                    f"worker {i}: {r['refreshed']} ({r['calls']} calls in"
                    f" {r['acquisitions']} cron runs, {r['seconds']} s)"
                    for i, r in enumerate(results.values(), start=1)
                )
                print(
                    f"{n} worker process{'es' if n > 1 else ''}: {total} stale customers"
                    f" refreshed in {wall:.1f} s (load average {load:.2f} before,"
                    f" {os.getloadavg()[0]:.2f} after); {per_worker};"
                    f" sum {sum(r['refreshed'] for r in results.values())}",
                    flush=True,
                )
                print(
                    f"  checked by SQL: {rows} rows, refreshed once: {once}, processed twice:"
                    f" {twice}, missed: {missed}; refreshes per connection:"
                    f" {', '.join(str(c) for _b, c in backends)}",
                    flush=True,
                )
        one, two = min(walls[1]), min(walls[2])
        print(f"speed-up of two worker processes: {one / two:.2f} x ({one:.1f} s -> {two:.1f} s)")
        print(f"one-worker refresh = {one / base_s:.1f} x the plain SQL aggregate")
        # what the batches cost: the same rows in one statement (not resumable, one
        # transaction, no classification), rolled back
        whole_s, _ = timed(env["crm.customer.metric"]._refresh_metrics, None, [company_id], False)
        env.cr.rollback()
        print(
            f"for comparison, one set-based refresh of every row in one statement (no"
            f" classification, rolled back): {whole_s:.1f} s = {whole_s / base_s:.1f} x the"
            f" plain SQL aggregate"
        )
        print(f"cores: {os.cpu_count()}, load average now: {os.getloadavg()}")


if __name__ == "__main__":
    main()
