"""Benchmark of crm_relationship: full metrics refresh, classification, the 360° form.

    bash scripts/bench.sh relationship        (100,000 customers, 1,000,000 invoice lines)

Prints the full refresh time, the classification time, the ratio of the full refresh to one
plain SQL aggregate over the same invoice lines (measured in the same run), the cost of the
incremental staleness check, the daily update a day later (as a ratio to the same plain pass,
and checked against a recompute of everyone from the documents), and the number of queries
that load the partner form of a customer with 10,000 invoices. That customer is built inside a transaction that is rolled back, so the
shared data set stays as datagen made it.
"""

from datetime import timedelta

from datagen import bench_arguments
from datagen import ensure_dataset
from datagen import open_env
from datagen import timed

from odoo import fields
from odoo.tools import SQL

SEGMENTS = [
    ("Premium", 10, "[('revenue_12m', '>', 1000000)]"),
    ("Late payer", 20, "['|', ('avg_days_late', '>', 15), ('oldest_overdue_days', '>', 30)]"),
    ("Frequent", 30, "[('orders_per_month', '>=', 1), ('days_since_last_order', '<=', 60)]"),
    ("At risk", 40, "[('order_count', '>', 0), ('days_since_last_order', '>', 120)]"),
    ("Regular", 100, "[]"),
]
BIG_CUSTOMER_INVOICES = 10_000


def plain_aggregate(env, company_id):
    """The baseline: one GROUP BY over every posted customer invoice line of the company."""
    env.cr.execute(
        SQL(
            """SELECT am.commercial_partner_id, count(*), sum(aml.balance), max(aml.date)
                 FROM account_move_line aml
                 JOIN account_move am ON am.id = aml.move_id
                WHERE am.state = 'posted' AND am.company_id = %s
                  AND am.move_type IN ('out_invoice', 'out_refund')
                  AND aml.display_type = 'product'
                GROUP BY am.commercial_partner_id""",
            company_id,
        )
    )
    return len(env.cr.fetchall())


def touch_documents(env, company_id, share):
    """Write one posted invoice of every 1/`share`-th customer, as a day's sales and payments
    do: the daily update then recomputes those customers from their documents."""
    env.cr.execute(
        SQL(
            """UPDATE account_move SET write_date = now() AT TIME ZONE 'UTC'
                WHERE id IN (SELECT min(id) FROM account_move
                              WHERE move_type = 'out_invoice' AND state = 'posted'
                                AND company_id = %s AND commercial_partner_id %% %s = 0
                              GROUP BY commercial_partner_id)""",
            company_id,
            round(1 / share),
        )
    )
    return env.cr.rowcount


def metric_rows(env, company_id, columns):
    """{partner id: the values of `columns`} of the company's crm_customer_metric rows."""
    env.cr.execute(
        SQL(
            "SELECT partner_id, %s FROM crm_customer_metric WHERE company_id = %s",
            SQL(", ").join(SQL.identifier(c) for c in columns),
            company_id,
        )
    )
    return {row[0]: row[1:] for row in env.cr.fetchall()}


def ensure_segments(env, company):
    Segment = env["crm.customer.segment"].with_company(company)
    for name, sequence, domain in SEGMENTS:
        if not Segment.search([("name", "=", name), ("company_id", "=", company.id)]):
            Segment.create(
                {"name": name, "sequence": sequence, "domain": domain, "company_id": company.id}
            )


def form_queries(env, partner):
    """Queries of reading `partner` as the web client does for the form view (cold cache)."""
    # importable once open_env has set the addons path
    from odoo.addons.crm_relationship.tests.common import form_read_spec
    from odoo.addons.crm_relationship.tests.common import partner_form_fields

    spec = form_read_spec(partner_form_fields(env["res.partner"]))
    partner.web_read(spec)  # warm the registry caches (views, ACLs, rules)
    env.invalidate_all()
    before = env.cr.sql_log_count
    partner.web_read(spec)
    return env.cr.sql_log_count - before


def grow_customer(env, partner, company_id):
    """Move 10,000 posted invoices (with their lines) of other customers to `partner`."""
    env.flush_all()
    env.cr.execute(
        SQL(
            """WITH moved AS (
                   UPDATE account_move SET partner_id = %(p)s, commercial_partner_id = %(p)s
                    WHERE id IN (SELECT id FROM account_move
                                  WHERE move_type = 'out_invoice' AND state = 'posted'
                                    AND company_id = %(c)s AND commercial_partner_id != %(p)s
                                  ORDER BY id LIMIT %(n)s)
                RETURNING id)
               UPDATE account_move_line SET partner_id = %(p)s
                WHERE move_id IN (SELECT id FROM moved)""",
            p=partner.id,
            c=company_id,
            n=BIG_CUSTOMER_INVOICES,
        )
    )
    env.invalidate_all()


def main():
    parser = bench_arguments(__doc__)
    parser.add_argument("--runs", type=int, default=3, help="turns of baseline and refresh")
    args = parser.parse_args()
    with open_env(args.config, args.database) as env:
        stats = ensure_dataset(env, args.customers, args.lines)
        company = env["res.company"].browse(stats["company_id"])
        env = env(context=dict(env.context, allowed_company_ids=company.ids))
        Metric = env["crm.customer.metric"]
        ensure_segments(env, company)
        env.cr.commit()
        print(
            f"data set: {stats['customers']} customers, {stats['orders']} orders,"
            f" {stats['invoice_product_lines']} invoice lines, {stats['payments']} payments,"
            f" {stats['credit_notes']} credit notes"
        )

        # The two sides take turns, three times each (--runs), and each keeps its best time:
        # neither pays alone for a cold cache or for a moment when the machine is busy. The
        # first refresh of a new database inserts every row, later ones update them.
        base_runs, refresh_runs = [], []
        for _run in range(args.runs):
            base_runs.append(timed(plain_aggregate, env, company.id))
            refresh_runs.append(timed(Metric._refresh_metrics, None, company.ids, classify=False))
            env.cr.commit()  # as the cron does after each batch
        base_s, groups = min(base_runs)
        refresh_s = min(run[0] for run in refresh_runs)
        metrics = refresh_runs[-1][1]
        classify = env["crm.customer.segment"]._classify_metrics
        classify_s, _ = timed(classify, metrics)
        again_s, _ = timed(classify, metrics)  # steady state: nothing moves
        env.cr.commit()
        stale_s, stale = timed(Metric._get_stale_keys, company.ids)
        counts = env["crm.customer.metric"]._read_group(
            [("company_id", "=", company.id)], ["segment_id"], ["__count"]
        )
        print(
            f"baseline: plain SQL aggregate over the invoice lines ({groups} groups):"
            f" {base_s:.2f} s (runs: {', '.join(f'{run[0]:.2f}' for run in base_runs)})"
        )
        print(
            f"full refresh of {len(metrics)} customers: {refresh_s:.2f} s"
            f" (runs: {', '.join(f'{run[0]:.2f}' for run in refresh_runs)})"
            f"  = {refresh_s / base_s:.2f} x baseline (the first refresh, then once a week)"
        )
        print(
            f"classification of {len(metrics)} customers: {classify_s:.2f} s = {classify_s / base_s:.2f} x baseline"
        )
        print(
            f"classification again, no segment change: {again_s:.2f} s"
            f" = {again_s / base_s:.2f} x baseline"
        )
        print(
            f"incremental check (stale customers: {len(stale)}): {stale_s:.2f} s = {stale_s / base_s:.2f} x baseline"
        )
        print("segments: " + ", ".join(f"{s.name or 'none'} {n}" for s, n in counts))

        # The daily update, as the cron runs it: a day later, with 1 % of the customers'
        # documents written since, it recomputes those and every customer whose documents
        # crossed a date (an invoice leaving the 12 months, an installment falling due...),
        # brings the other rows forward; each turn is rolled back to the refreshed state.
        tomorrow = fields.Date.context_today(Metric) + timedelta(days=1)
        # every document was read for changes today (the weekly scan): tomorrow is a plain day
        env["ir.config_parameter"].set_param(
            f"crm_relationship.metrics_scanned_{company.id}", str(tomorrow - timedelta(days=1))
        )
        env.cr.commit()
        update_runs = []
        for _run in range(args.runs):
            touched = touch_documents(env, company.id, share=0.01)
            recompute = env.execute_query(
                SQL(
                    "SELECT count(*) FILTER (WHERE recompute), count(*) FROM (%s) AS s",
                    Metric._stale_keys_query(company.ids, None, tomorrow),
                )
            )[0]
            update_runs.append(timed(Metric._update_metrics, company.ids, None, tomorrow, False))
            if _run < args.runs - 1:
                env.cr.rollback()
        update_s = min(run[0] for run in update_runs)
        columns = Metric._metric_columns()[2:]
        updated = metric_rows(env, company.id, columns)
        Metric._refresh_metrics(None, company.ids, classify=False, as_of=tomorrow)
        recomputed = metric_rows(env, company.id, columns)
        differing = sum(1 for partner, row in recomputed.items() if updated.get(partner) != row)
        env.cr.rollback()
        print(
            f"daily update, a day later, {touched} customers with a document written"
            f" ({recompute[0]} of {recompute[1]} recomputed, the others brought forward):"
            f" {update_s:.2f} s (runs: {', '.join(f'{run[0]:.2f}' for run in update_runs)})"
            f" = {update_s / base_s:.2f} x baseline (target <= 2); rows differing from a"
            f" recompute of everyone from the documents: {differing}"
        )

        # The same customer before and after its history grows to 10,000 more invoices.
        customer = Metric.search([("invoice_count", "=", 1)], limit=1).partner_id
        small_queries = form_queries(env, customer)
        grow_customer(env, customer, company.id)
        one_s, _ = timed(Metric._refresh_metrics, customer.ids, company.ids)
        metric = Metric.search([("partner_id", "=", customer.id)])
        queries = form_queries(env, customer)
        print(
            f"customer with {metric.invoice_count} invoices: refresh button {one_s:.2f} s,"
            f" partner form {queries} queries (target < 60; the same customer with 1 invoice:"
            f" {small_queries})"
        )
        env.cr.rollback()  # keep the shared data set unchanged


if __name__ == "__main__":
    main()
