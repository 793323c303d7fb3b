"""Benchmark of house credit (crm_relationship): scoring every customer's payment history.

    bash scripts/bench.sh credit        (100,000 customers, 1,000,000 invoice lines)

Prints the time of scoring, deciding and suggesting a limit for every customer of the data
set (the credit columns are computed by the metrics' refresh statement, the decisions recorded
in one INSERT), first when every decision is new and then when none changed, as ratios to one
plain SQL pass over the same customers' invoices measured in the same run. The work is rolled
back, so the shared data set stays as datagen made it.
"""

from datagen import bench_arguments
from datagen import ensure_dataset
from datagen import open_env
from datagen import timed

from odoo import fields
from odoo.tools import SQL


def plain_pass(env, company_id):
    """The baseline: one GROUP BY customer over the company's posted customer invoices."""
    return env.execute_query(
        SQL(
            """SELECT commercial_partner_id, count(*), sum(amount_total_signed),
                      sum(amount_residual_signed), min(invoice_date_due)
                 FROM account_move
                WHERE state = 'posted' AND company_id = %s AND move_type = 'out_invoice'
                GROUP BY commercial_partner_id""",
            company_id,
        )
    )


def main():
    args = bench_arguments(__doc__).parse_args()
    with open_env(args.config, args.database) as env:
        stats = ensure_dataset(env, customers=args.customers, lines=args.lines)
        company = env["res.company"].browse(stats["company_id"])
        env = env(context=dict(env.context, allowed_company_ids=[company.id]))
        Metric = env["crm.customer.metric"]
        metrics = Metric.search([("company_id", "=", company.id)])
        if len(metrics) < stats["customers_with_orders"] // 2:
            Metric._refresh_metrics(None, company.ids, classify=False)
            metrics = Metric.search([("company_id", "=", company.id)])
        env.flush_all()
        plain_pass(env, company.id)  # warm the cache, like the job below
        base, rows = timed(plain_pass, env, company.id)
        print(
            f"data: {len(metrics)} customers with metrics; baseline plain SQL pass over their "
            f"invoices: {base:.2f} s ({len(rows)} rows)"
        )
        env.execute_query(SQL("SAVEPOINT bench_credit"))
        env.execute_query(SQL("UPDATE crm_customer_metric SET credit_decision_id = NULL"))
        env.execute_query(SQL("DELETE FROM crm_credit_decision WHERE company_id = %s", company.id))
        env.invalidate_all()

        def refresh():
            return Metric._refresh_metrics(None, company.ids, classify=False)

        first, metrics = timed(refresh)
        recorded = env["crm.credit.decision"].search_count([("company_id", "=", company.id)])
        print(
            f"metrics refresh with credit scoring, every decision new ({recorded} recorded): "
            f"{first:.2f} s = {first / base:.2f} x baseline"
        )
        again, _ = timed(refresh)
        print(
            f"metrics refresh with credit scoring, no decision changed: {again:.2f} s = "
            f"{again / base:.2f} x baseline"
        )
        today = fields.Date.context_today(Metric)
        check, _ = timed(env["crm.credit.decision"]._record_reviews, metrics, today)
        print(
            f"  of which the check for new decisions: {check:.2f} s = {check / base:.2f} x baseline"
        )
        decisions = env.execute_query(
            SQL(
                """SELECT credit_decision, count(*), round(avg(credit_score)),
                          round(sum(credit_limit_suggested))
                     FROM crm_customer_metric WHERE company_id = %s
                    GROUP BY 1 ORDER BY 1""",
                company.id,
            )
        )
        for decision, count, score, limit in decisions:
            print(
                f"  {decision:<7} {count:7d} customers, average score {score}, limits {limit:,.0f}"
            )
        env.execute_query(SQL("ROLLBACK TO SAVEPOINT bench_credit"))


if __name__ == "__main__":
    main()
