"""Benchmark of the IFRS 15 accounting of loyalty points (crm_loyalty, issue 14).

    bash scripts/bench.sh ifrs        (100,000 earning invoices and 50,000 redemptions)

Posting one month of a program that defers points revenue: 100,000 orders of the data set
earned points in that month (one ``earn`` ledger entry per order, its posted invoice dated in
the month) and 50,000 redemptions were made in it. Prints the time of the period posting
(``crm.loyalty.accounting._post`` on the month's last day: it allocates each invoice between
goods and points, releases the liability for the redemptions, writes the revenue lines and one
journal entry) and the queries it made, then of a second posting right after (nothing new), as
ratios to one plain SQL pass reading the same rows measured in the same run, with the
seconds spent in each step of the posting (its methods, timed by wrapping them).

The program, its cards and ledger entries are generated with bulk SQL once (tagged
"bench-ifrs", an inactive program) and reused by the next run; moving the invoices into the
month and everything measured happen inside a savepoint that is rolled back, so the shared
data set stays as datagen made it.

Options: --earns and --redeems size the month (capped by the orders of a smaller data set),
e.g. python bench_ifrs.py --config C --database D --customers 2000 --lines 20000 --earns 4000
--redeems 2000.
"""

import contextlib
import datetime
import time
from collections import defaultdict
from unittest.mock import patch

from datagen import bench_arguments
from datagen import ensure_dataset
from datagen import open_env
from datagen import timed

from odoo import fields
from odoo.tools import SQL

TAG = "bench-ifrs"


def _month(stats):
    """First and last day of the month before the data set's last day (fixed per data set)."""
    last = fields.Date.to_date(stats["last_date"])
    end = last.replace(day=1) - datetime.timedelta(days=1)
    return end.replace(day=1), end


def _program(env, company, start):
    """The benchmark's program: ledger and IFRS 15 on, inactive (never offered on orders)."""
    Program = env["loyalty.program"].with_context(active_test=False)
    program = Program.search([("name", "=", TAG)], limit=1)
    if not program:
        program = Program.create(
            {
                "name": TAG,
                "program_type": "loyalty",
                "applies_on": "both",
                "trigger": "auto",
                "company_id": company.id,
                "rule_ids": [
                    (5, 0, 0),
                    (0, 0, {"reward_point_mode": "money", "reward_point_amount": 0.1}),
                ],
                "crm_ifrs": True,
                "crm_ifrs_start": start,
                "crm_point_value": 1.0,
                "crm_redemption_rate": 97.0,
            }
        )
        program.active = False
    if program.crm_ifrs_start != start:
        program.crm_ifrs_start = start
    return program


def _ledger_counts(env, program, start, end):
    return env.execute_query(
        SQL(
            """
            SELECT count(*) FILTER (WHERE kind = 'earn'), count(*) FILTER (WHERE kind = 'redeem'),
                   count(*) FILTER (WHERE date::date < %(start)s OR date::date > %(end)s)
              FROM crm_loyalty_ledger WHERE program_id = %(program)s
            """,
            program=program.id,
            start=start,
            end=end,
        )
    )[0]


def _ensure_ledger(env, program, start, end, earns, redeems):
    """Cards and ledger entries of the month (generated once per size and month, committed).

    ``earns`` orders whose invoice is posted each earn a tenth of their amount on the card of
    their customer, on a day of the month; every other one of those entries (the first
    ``redeems``) is followed by a redemption of half its points, later the same month.
    """
    counts = _ledger_counts(env, program, start, end)
    if counts == (earns, redeems, 0):
        return
    env.flush_all()
    for query in (
        "DELETE FROM crm_loyalty_consumption WHERE entry_id IN (SELECT id FROM crm_loyalty_ledger"
        " WHERE program_id = %(program)s) OR lot_id IN (SELECT id FROM crm_loyalty_ledger"
        " WHERE program_id = %(program)s)",
        "DELETE FROM crm_loyalty_ledger WHERE program_id = %(program)s",
        "DELETE FROM loyalty_card WHERE program_id = %(program)s",
    ):
        env.execute_query(SQL(query, program=program.id))
    days = (end - start).days + 1
    env.execute_query(
        SQL(
            """
            CREATE TEMP TABLE bench_ifrs_orders ON COMMIT DROP AS
            SELECT row_number() OVER (ORDER BY so.id) AS idx, so.id, so.partner_id,
                   round(so.amount_total / 10, 2) AS points
              FROM sale_order so
             WHERE so.company_id = %(company)s AND so.amount_total > 0
               AND EXISTS (SELECT 1 FROM sale_order_line sol
                             JOIN sale_order_line_invoice_rel rel ON rel.order_line_id = sol.id
                             JOIN account_move_line aml ON aml.id = rel.invoice_line_id
                             JOIN account_move m ON m.id = aml.move_id
                            WHERE sol.order_id = so.id AND m.state = 'posted'
                              AND m.move_type = 'out_invoice')
             ORDER BY so.id
             LIMIT %(earns)s
            """,
            company=program.company_id.id,
            earns=earns,
        )
    )
    env.cr.execute("CREATE UNIQUE INDEX ON bench_ifrs_orders (id)")
    env.cr.execute("ANALYZE bench_ifrs_orders")
    env.execute_query(
        SQL(
            """
            INSERT INTO loyalty_card (program_id, company_id, partner_id, code, points, active,
                                      create_uid, write_uid, create_date, write_date)
            SELECT %(program)s, %(company)s, partner_id, %(tag)s || '-' || partner_id, 0, TRUE,
                   1, 1, now(), now()
              FROM (SELECT DISTINCT partner_id FROM bench_ifrs_orders) p
            """,
            program=program.id,
            company=program.company_id.id,
            tag=TAG,
        )
    )
    env.cr.execute("ANALYZE loyalty_card")
    # earn on day idx % (days - 1) of the month at 10:00; redeemed ones: half the next day
    env.execute_query(
        SQL(
            """
            INSERT INTO crm_loyalty_ledger (
                card_id, program_id, partner_id, company_id, kind, points, date, state,
                remaining, debt, expiry_date, source_type, source_model, source_id, source_name,
                reason, reminder_sent, create_uid, write_uid, create_date, write_date)
            SELECT c.id, %(program)s, o.partner_id, %(company)s, 'earn', o.points,
                   %(start)s + (o.idx %% (%(days)s - 1))::int + time '10:00', 'available',
                   o.points - CASE WHEN o.idx %% 2 = 1 AND o.idx < 2 * %(redeems)s
                                   THEN round(o.points / 2, 2) ELSE 0 END,
                   0, %(start)s + interval '1 year', 'sale', 'sale.order', o.id, %(tag)s,
                   %(tag)s, FALSE, 1, 1, now(), now()
              FROM bench_ifrs_orders o
              JOIN loyalty_card c ON c.program_id = %(program)s AND c.partner_id = o.partner_id
            """,
            program=program.id,
            company=program.company_id.id,
            start=start,
            days=days,
            redeems=redeems,
            tag=TAG,
        )
    )
    env.cr.execute("ANALYZE crm_loyalty_ledger")  # the planner must see the new rows
    env.execute_query(
        SQL(
            """
            INSERT INTO crm_loyalty_ledger (
                card_id, program_id, partner_id, company_id, kind, points, date, state,
                remaining, debt, source_type, source_model, source_id, source_name,
                reason, reminder_sent, create_uid, write_uid, create_date, write_date)
            SELECT l.card_id, l.program_id, l.partner_id, l.company_id, 'redeem',
                   -round(l.points / 2, 2), l.date + interval '1 day 6 hours', 'available',
                   0, 0, 'sale', 'sale.order', l.source_id, %(tag)s, %(tag)s, FALSE,
                   1, 1, now(), now()
              FROM crm_loyalty_ledger l
              JOIN bench_ifrs_orders o ON o.id = l.source_id
             WHERE l.program_id = %(program)s AND l.kind = 'earn'
               AND o.idx %% 2 = 1 AND o.idx < 2 * %(redeems)s
            """,
            program=program.id,
            redeems=redeems,
            tag=TAG,
        )
    )
    env.execute_query(
        SQL(
            """
            UPDATE loyalty_card c SET points = s.points
              FROM (SELECT card_id, SUM(points) AS points FROM crm_loyalty_ledger
                     WHERE program_id = %(program)s AND state = 'available'
                  GROUP BY card_id) s
             WHERE c.id = s.card_id
            """,
            program=program.id,
        )
    )
    env.execute_query(SQL("DROP TABLE bench_ifrs_orders"))
    env.cr.execute("ANALYZE crm_loyalty_ledger")
    env.cr.execute("ANALYZE loyalty_card")
    env.cr.commit()
    env.invalidate_all()


def _move_invoices(env, program):
    """Date the posted invoices of the program's earning orders on their earning day (the
    caller's savepoint rolls it back)."""
    env.flush_all()
    env.execute_query(
        SQL(
            """
            UPDATE account_move m SET date = d.day, invoice_date = d.day
              FROM (SELECT aml.move_id, min(l.date::date) AS day
                      FROM crm_loyalty_ledger l
                      JOIN sale_order_line sol ON sol.order_id = l.source_id
                      JOIN sale_order_line_invoice_rel rel ON rel.order_line_id = sol.id
                      JOIN account_move_line aml ON aml.id = rel.invoice_line_id
                     WHERE l.program_id = %(program)s AND l.kind = 'earn'
                  GROUP BY aml.move_id) d
             WHERE m.id = d.move_id AND m.state = 'posted' AND m.move_type = 'out_invoice'
            """,
            program=program.id,
        )
    )
    env.cr.execute("ANALYZE account_move")
    env.invalidate_all()


def plain_pass(env, program, start, end):
    """The baseline: the month's earn entries with their orders' invoice lines, grouped by entry
    and invoice, and the sum of its redemptions (two plain queries)."""
    rows = env.execute_query(
        SQL(
            """
            SELECT l.id, m.id, l.points, l.partner_id,
                   SUM(aml.price_total) FILTER (WHERE sol.reward_id IS NULL), SUM(-aml.balance)
              FROM crm_loyalty_ledger l
              JOIN sale_order_line sol ON sol.order_id = l.source_id
              JOIN sale_order_line_invoice_rel rel ON rel.order_line_id = sol.id
              JOIN account_move_line aml ON aml.id = rel.invoice_line_id
              JOIN account_move m ON m.id = aml.move_id
             WHERE l.program_id = %(program)s AND l.kind = 'earn'
               AND l.source_model = 'sale.order'
               AND m.state = 'posted' AND m.move_type = 'out_invoice' AND m.date <= %(end)s
          GROUP BY l.id, m.id, l.points, l.partner_id
            """,
            program=program.id,
            end=end,
        )
    )
    redeemed = env.execute_query(
        SQL(
            """
            SELECT COALESCE(-SUM(points), 0) FROM crm_loyalty_ledger
             WHERE program_id = %(program)s AND kind = 'redeem' AND state != 'cancelled'
               AND date >= %(start)s AND date < %(next)s
            """,
            program=program.id,
            start=start,
            next=end + datetime.timedelta(days=1),
        )
    )[0][0]
    return rows, redeemed


@contextlib.contextmanager
def _step_timer(env, steps):
    """Add the seconds spent in the posting's steps to ``steps`` (label -> seconds)."""
    Accounting = type(env["crm.loyalty.accounting"])
    patches = []
    for cls, name in (
        (Accounting, "_opening_values"),
        (Accounting, "_undo_values"),
        (Accounting, "_allocated"),
        (Accounting, "_allocation_values"),
        (Accounting, "_adjustment_values"),
        (Accounting, "_reward_cost_values"),
        (Accounting, "_release_values"),
        (Accounting, "_post_move"),
        (Accounting, "_insert_lines"),
    ):
        original = getattr(cls, name)

        def wrapper(self, *args, _original=original, _name=name, **kwargs):
            label = _name
            if _name == "_allocation_values":
                label = f"_allocation_values {args[2]}"
            started = time.perf_counter()
            try:
                return _original(self, *args, **kwargs)
            finally:
                steps[label] += time.perf_counter() - started

        patches.append(patch.object(cls, name, wrapper))
    with contextlib.ExitStack() as stack:
        for each in patches:
            stack.enter_context(each)
        yield


def _posting(env, program, end):
    """(seconds, queries, journal entries, step seconds) of one posting of the month."""
    Accounting = env["crm.loyalty.accounting"]
    env.flush_all()
    env.invalidate_all()
    steps = defaultdict(float)
    before = env.cr.sql_log_count
    started = time.perf_counter()
    with _step_timer(env, steps):
        moves = Accounting._post(program, end)
    flushing = time.perf_counter()
    env.flush_all()  # the writes the ORM left pending are part of the posting
    steps["flush at the end"] = time.perf_counter() - flushing
    seconds = time.perf_counter() - started
    return seconds, env.cr.sql_log_count - before, moves, steps


def _print_steps(steps, base):
    for label, seconds in sorted(steps.items(), key=lambda item: -item[1]):
        if seconds >= 0.005:
            print(f"    {label:<24} {seconds:8.2f} s  x{seconds / base:.1f} vs baseline")


def main():
    parser = bench_arguments(__doc__)
    parser.add_argument("--earns", type=int, default=100_000, help="earning invoices")
    parser.add_argument("--redeems", type=int, default=50_000, help="redemptions")
    args = parser.parse_args()
    with open_env(args.config, args.database) as env:
        stats = ensure_dataset(env, customers=args.customers, lines=args.lines)
        company = env["res.company"].browse(stats["company_id"])
        env = env(context=dict(env.context, allowed_company_ids=[company.id]))
        start, end = _month(stats)
        program = _program(env, company, start)
        env.cr.commit()
        posted = env.execute_query(
            SQL(
                "SELECT count(*) FROM account_move WHERE company_id = %s AND state = 'posted'"
                " AND move_type = 'out_invoice'",
                company.id,
            )
        )[0][0]
        earns = min(args.earns, posted)
        redeems = min(args.redeems, (earns + 1) // 2)
        _ensure_ledger(env, program, start, end, earns, redeems)
        earns, redeems, _outside = _ledger_counts(env, program, start, end)

        env.execute_query(SQL("SAVEPOINT bench_ifrs"))
        _move_invoices(env, program)
        plain_pass(env, program, start, end)  # warm the cache, like the posting below
        base, (rows, redeemed) = timed(plain_pass, env, program, start, end)
        invoices = len({row[1] for row in rows})
        print(
            f"Posting {start:%Y-%m} of program {program.id} (IFRS 15): {earns:,} earn entries "
            f"({invoices:,} posted invoices in the month), {redeems:,} redemptions"
        )
        print(
            f"  plain SQL pass (baseline)   {base:8.2f} s  {len(rows):,} rows (entry x invoice),"
            f" {float(redeemed):,.0f} points redeemed"
        )

        first, queries, moves, steps = _posting(env, program, end)
        lines = env.execute_query(
            SQL(
                """SELECT kind, count(*), round(SUM(amount), 2) FROM crm_loyalty_revenue_line
                    WHERE program_id = %s GROUP BY kind ORDER BY kind""",
                program.id,
            )
        )
        move_lines = env.execute_query(
            SQL("SELECT count(*) FROM account_move_line WHERE move_id = ANY(%s)", moves.ids)
        )[0][0]
        total = sum(count for _kind, count, _amount in lines)
        print(
            f"  posting the month           {first:8.2f} s  x{first / base:.1f} vs baseline  "
            f"{queries:,} queries, {total:,} revenue lines, {len(moves)} journal entry "
            f"({move_lines} lines)"
        )
        for kind, count, amount in lines:
            print(f"    {kind:<10} {count:8,} lines  liability change {amount:16,.2f}")
        print("  of which (seconds inside the posting's steps; nested steps counted twice)")
        _print_steps(steps, base)

        again, queries, moves, steps = _posting(env, program, end)
        print(
            f"  second posting, nothing new {again:8.2f} s  x{again / base:.1f} vs baseline  "
            f"{queries:,} queries, {len(moves)} journal entry"
        )
        _print_steps(steps, base)
        env.execute_query(SQL("ROLLBACK TO SAVEPOINT bench_ifrs"))
        env.invalidate_all()


if __name__ == "__main__":
    main()
