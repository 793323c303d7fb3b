"""Benchmark of the crm_loyalty points ledger.

1. Accrual on order confirmation: SQL queries (and time) of confirming one sales order for
   a card whose ledger holds 10 entries, then 100,000 entries (generated with bulk SQL).
   The baseline is the same confirmation on a program without ledger.
2. Expiry over 1,000,000 due lots: time of the expiry job (the batches its cron runs,
   without the commits) against a plain SQL UPDATE of the same rows, in the same run.
3. Opening the ledger of 100,000 cards that held points before it (what installing the addon
   on a live database does): time against one plain SQL pass copying the same cards' points.

Everything measured is rolled back; the generated rows are kept (tagged "bench-loyalty")
and reused by the next run.

Usage: bash scripts/bench.sh loyalty   (or python bench_loyalty.py --config C --database D)
"""

import datetime
import time

from datagen import bench_arguments
from datagen import open_env

from odoo.tools import SQL

TAG = "bench-loyalty"


def _program(env, name, ledger):
    Program = env["loyalty.program"].with_context(active_test=False)
    program = Program.search([("name", "=", name)], limit=1)
    if not program:
        program = Program.create(
            {
                "name": name,
                "program_type": "loyalty",
                "applies_on": "both",
                "trigger": "auto",
                "crm_expiry_mode": "months",
                "crm_expiry_months": 12,
                "rule_ids": [
                    (5, 0, 0),
                    (0, 0, {"reward_point_mode": "money", "reward_point_amount": 1}),
                ],
            }
        )
        program.crm_ledger = ledger
    return program


def _bulk_lots(env, card, count, *, expired):
    """Insert ``count`` ledger lots for ``card`` (and fix its points) with one statement."""
    today = datetime.date.today()
    expiry = today - datetime.timedelta(days=1) if expired else today + datetime.timedelta(days=365)
    env.flush_all()
    env.execute_query(
        SQL(
            """
            INSERT INTO crm_loyalty_ledger (
                card_id, program_id, partner_id, company_id, kind, points, date, state,
                remaining, debt, expiry_date, source_type, reason, reminder_sent,
                create_uid, write_uid, create_date, write_date)
            SELECT %(card)s, %(program)s, %(partner)s, %(company)s, 'earn', 10,
                   now() - make_interval(days => (g %% 300)), 'available', 10, 0, %(expiry)s,
                   'system', %(tag)s, FALSE, 1, 1, now(), now()
              FROM generate_series(1, %(count)s) g
            """,
            card=card.id,
            program=card.program_id.id,
            partner=card.partner_id.id,
            company=card.company_id.id or env.company.id,
            expiry=expiry,
            tag=TAG,
            count=count,
        )
    )
    env.execute_query(
        SQL(
            "UPDATE loyalty_card SET points = (SELECT COALESCE(SUM(points), 0) FROM crm_loyalty_ledger"
            " WHERE card_id = %(card)s AND state = 'available') WHERE id = %(card)s",
            card=card.id,
        )
    )
    env.invalidate_all()


def _card(env, program, name, entries):
    """A card of ``program`` whose ledger holds ``entries`` lots (generated once)."""
    partner = env["res.partner"].search([("name", "=", name)], limit=1) or env[
        "res.partner"
    ].create({"name": name})
    card = env["loyalty.card"].search(
        [("program_id", "=", program.id), ("partner_id", "=", partner.id)], limit=1
    ) or env["loyalty.card"].create({"program_id": program.id, "partner_id": partner.id})
    have = env["crm.loyalty.ledger"].search_count([("card_id", "=", card.id)])
    if program.crm_ledger and have < entries:
        _bulk_lots(env, card, entries - have, expired=False)
    return card


def _confirm_queries(env, card, product):
    """Queries and seconds of confirming one order of ``card``'s customer (rolled back)."""
    cr = env.cr
    cr.execute("SAVEPOINT bench_confirm")
    order = env["sale.order"].create(
        {
            "partner_id": card.partner_id.id,
            "order_line": [
                (0, 0, {"product_id": product.id, "product_uom_qty": 2, "price_unit": 100})
            ],
        }
    )
    order._update_programs_and_rewards()
    env.flush_all()
    env.invalidate_all()
    before = cr.sql_log_count
    start = time.perf_counter()
    order.action_confirm()
    env.flush_all()
    seconds = time.perf_counter() - start
    queries = cr.sql_log_count - before
    earned = env["crm.loyalty.ledger"].search_count(
        [("source_model", "=", "sale.order"), ("source_id", "=", order.id)]
    )
    cr.execute("ROLLBACK TO SAVEPOINT bench_confirm")
    env.invalidate_all()
    return queries, seconds, earned


def _measure_accrual(env, product, plain, ledger, big):
    results = {}
    for label, program, entries, name in (
        ("no ledger (baseline)", plain, 0, f"{TAG} plain customer"),
        ("ledger, 10 entries", ledger, 10, f"{TAG} small customer"),
        (f"ledger, {big:,} entries", ledger, big, f"{TAG} big customer"),
    ):
        (plain | ledger).active = False
        program.active = True
        card = _card(env, program, name, entries)
        env.cr.commit()
        _confirm_queries(env, card, product)  # warm the caches
        results[label] = _confirm_queries(env, card, product)
    return results


def bench_accrual(env, big):
    product = env["product.product"].search([("name", "=", TAG)], limit=1) or env[
        "product.product"
    ].create({"name": TAG, "type": "consu", "list_price": 100, "taxes_id": [(5, 0, 0)]})
    # Only the benchmark's programs apply while measuring; the others are restored after.
    others = env["loyalty.program"].search([("name", "not like", TAG)])
    others.active = False
    plain = _program(env, f"{TAG} plain", ledger=False)
    ledger = _program(env, f"{TAG} ledger", ledger=True)
    try:
        results = _measure_accrual(env, product, plain, ledger, big)
    finally:
        (plain | ledger).active = False
        others.active = True
        env.cr.commit()
    base = results["no ledger (baseline)"][0]
    small = results["ledger, 10 entries"][0]
    print("Accrual on order confirmation (queries, seconds, ledger entries written)")
    for label, (queries, seconds, earned) in results.items():
        print(
            f"  {label:<28} {queries:>5} queries  {seconds * 1000:8.1f} ms  "
            f"{earned} entries  x{queries / base:.2f} vs baseline  x{queries / small:.2f} vs 10 entries"
        )


def _expiry_dataset(env, lots, cards):
    program = _program(env, f"{TAG} expiry", ledger=True)
    program.active = False  # never offered on orders
    have = env.execute_query(
        SQL("SELECT count(*) FROM crm_loyalty_ledger WHERE program_id = %s", program.id)
    )[0][0]
    if have == lots:
        return program
    env.flush_all()
    if have:  # another size: start again
        for query in (
            "DELETE FROM crm_loyalty_consumption WHERE lot_id IN "
            "(SELECT id FROM crm_loyalty_ledger WHERE program_id = %(program)s)",
            "DELETE FROM crm_loyalty_ledger WHERE program_id = %(program)s",
            "DELETE FROM loyalty_history WHERE card_id IN "
            "(SELECT id FROM loyalty_card WHERE program_id = %(program)s)",
            "DELETE FROM loyalty_card WHERE program_id = %(program)s",
        ):
            env.execute_query(SQL(query, program=program.id))
    env.execute_query(
        SQL(
            """
            INSERT INTO loyalty_card (program_id, company_id, code, points, create_uid, write_uid,
                                      create_date, write_date)
            SELECT %(program)s, %(company)s, %(tag)s || '-' || g, 0, 1, 1, now(), now()
              FROM generate_series(1, %(cards)s) g
            ON CONFLICT DO NOTHING
            """,
            program=program.id,
            company=program.company_id.id,
            tag=TAG,
            cards=cards,
        )
    )
    expiry = datetime.date.today() - datetime.timedelta(days=1)
    # Every card gets lots // cards lots; the first (lots % cards) one more, so the total is exact.
    env.execute_query(
        SQL(
            """
            INSERT INTO crm_loyalty_ledger (
                card_id, program_id, company_id, kind, points, date, state, remaining, debt,
                expiry_date, source_type, reason, reminder_sent, create_uid, write_uid,
                create_date, write_date)
            SELECT c.id, %(program)s, %(company)s, 'earn', 10, now() - interval '400 days',
                   'available', 10, 0, %(expiry)s, 'system', %(tag)s, FALSE, 1, 1, now(), now()
              FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn
                      FROM loyalty_card WHERE program_id = %(program)s) c,
                   generate_series(1, %(per_card)s + (c.rn <= %(rest)s)::int) g
            """,
            program=program.id,
            company=program.company_id.id,
            expiry=expiry,
            tag=TAG,
            per_card=max(lots // cards, 1),
            rest=lots - max(lots // cards, 1) * cards if lots > cards else 0,
        )
    )
    env.execute_query(
        SQL(
            """
            UPDATE loyalty_card c SET points = s.points
              FROM (SELECT card_id, SUM(points) AS points FROM crm_loyalty_ledger
                     WHERE program_id = %(program)s GROUP BY card_id) s
             WHERE c.id = s.card_id
            """,
            program=program.id,
        )
    )
    env.cr.execute("ANALYZE crm_loyalty_ledger")
    env.cr.execute("ANALYZE loyalty_card")
    env.cr.commit()
    return program


def bench_expiry(env, lots, cards):
    program = _expiry_dataset(env, lots, cards)
    cr = env.cr
    today = datetime.date.today()
    scheduler = env["crm.loyalty.scheduler"]
    due = scheduler._count_due_lots(today)

    # Baseline: one plain UPDATE emptying the same due lots.
    start = time.perf_counter()
    env.execute_query(
        SQL(
            "UPDATE crm_loyalty_ledger SET remaining = 0 WHERE remaining > 0 AND state = 'available'"
            " AND expiry_date < %s",
            today,
        )
    )
    baseline = time.perf_counter() - start
    cr.rollback()
    env.invalidate_all()

    start = time.perf_counter()
    expired = batches = 0
    while True:
        done = scheduler._expire_due_lots(today)
        if not done:
            break
        expired += done
        batches += 1
    job = time.perf_counter() - start
    left = scheduler._count_due_lots(today)
    mismatch = env.execute_query(
        SQL(
            """
            SELECT count(*) FROM loyalty_card c
             WHERE c.program_id = %(program)s AND c.points <> (
                   SELECT COALESCE(SUM(points), 0) FROM crm_loyalty_ledger l
                    WHERE l.card_id = c.id AND l.state = 'available')
            """,
            program=program.id,
        )
    )[0][0]
    cr.rollback()
    env.invalidate_all()
    print(f"Expiry of due lots ({due:,} due lots on {cards:,} cards)")
    print(f"  plain SQL UPDATE (baseline)  {baseline:8.2f} s")
    print(
        f"  expiry job                   {job:8.2f} s  x{job / baseline:.1f} vs baseline  "
        f"{expired:,} lots in {batches} batches, {expired / job:,.0f} lots/s, "
        f"{left} left, {mismatch} cards out of balance"
    )


def _opening_dataset(env, cards):
    """A program outside the ledger with ``cards`` cards holding points (kept between runs)."""
    program = _program(env, f"{TAG} opening", ledger=False)
    program.active = False  # never offered on orders
    have = env.execute_query(
        SQL("SELECT count(*) FROM loyalty_card WHERE program_id = %s", program.id)
    )[0][0]
    if have != cards:
        env.flush_all()
        env.execute_query(SQL("DELETE FROM loyalty_card WHERE program_id = %s", program.id))
        env.execute_query(
            SQL(
                """
                INSERT INTO loyalty_card (program_id, company_id, code, points, active,
                                          create_uid, write_uid, create_date, write_date)
                SELECT %(program)s, %(company)s, %(tag)s || '-open-' || g, (g %% 997) * 1.5,
                       TRUE, 1, 1, now(), now()
                  FROM generate_series(1, %(cards)s) g
                """,
                program=program.id,
                company=program.company_id.id,
                tag=TAG,
                cards=cards,
            )
        )
        env.cr.execute("ANALYZE loyalty_card")
        env.cr.commit()
    return program


def bench_opening(env, cards):
    program = _opening_dataset(env, cards)
    cr = env.cr
    # Baseline: one plain pass over the same cards writing a row per card.
    start = time.perf_counter()
    env.execute_query(
        SQL(
            "CREATE TEMP TABLE bench_opening AS SELECT id, program_id, partner_id, points"
            " FROM loyalty_card WHERE program_id = %s AND points != 0",
            program.id,
        )
    )
    baseline = time.perf_counter() - start
    cr.rollback()
    env.invalidate_all()
    start = time.perf_counter()
    program.crm_ledger = True  # opens every card's ledger
    env.flush_all()
    job = time.perf_counter() - start
    opened, mismatch = env.execute_query(
        SQL(
            """
            SELECT count(l.card_id), count(*) FILTER (WHERE c.points <> COALESCE(l.points, 0))
              FROM loyalty_card c
         LEFT JOIN (SELECT card_id, SUM(points) FILTER (WHERE state = 'available') AS points
                      FROM crm_loyalty_ledger WHERE program_id = %(program)s
                  GROUP BY card_id) l ON l.card_id = c.id
             WHERE c.program_id = %(program)s
            """,
            program=program.id,
        )
    )[0]
    cr.rollback()
    env.invalidate_all()
    print(f"Opening the ledger of {cards:,} cards that held points before it (install)")
    print(f"  plain SQL pass (baseline)    {baseline:8.2f} s")
    print(
        f"  opening                      {job:8.2f} s  x{job / baseline:.1f} vs baseline  "
        f"{opened:,} cards opened, {mismatch} cards out of balance"
    )


def main():
    parser = bench_arguments(__doc__, sized=False)
    parser.add_argument(
        "--entries", type=int, default=100_000, help="ledger entries of the big card"
    )
    parser.add_argument("--lots", type=int, default=1_000_000, help="due lots for the expiry job")
    parser.add_argument("--cards", type=int, default=100_000, help="cards holding those lots")
    parser.add_argument(
        "--only", choices=["accrual", "expiry", "opening"], help="run one of the benchmarks"
    )
    args = parser.parse_args()
    with open_env(args.config, args.database) as env:
        if args.only in (None, "accrual"):
            bench_accrual(env, args.entries)
        if args.only in (None, "expiry"):
            bench_expiry(env, args.lots, args.cards)
        if args.only in (None, "opening"):
            bench_opening(env, args.cards)


if __name__ == "__main__":
    main()
