"""Benchmark of crm_analytics: RFM, CLV fit and scoring, affinity, propensity, KPI reports.

    bash scripts/bench.sh analytics         (100,000 customers, 1,000,000 order lines)
    ... bench_analytics.py --customers 5000 --lines 50000   (small, while iterating)

Each job's time is printed with its ratio to one plain SQL aggregate over the same confirmed
order lines, measured in the same run: the two take turns (--runs, 3 by default) and the best
time of each counts; the targets of the jobs that have one are printed beside them. The
propensity model is judged on a time-based holdout: trained on the history as of two periods
before the end (labels: the next period), tested on the history as of one period before the
end (labels: the last period), on another sample of customers; every (customer, category)
pair of the tested customers with history counts, candidates or not.
"""

from datetime import timedelta

import numpy as np
from datagen import bench_arguments
from datagen import ensure_dataset
from datagen import open_env
from datagen import timed

from odoo.tools import SQL


def plain_aggregate(env, company_id):
    """The baseline: one GROUP BY customer over every confirmed order line of the company."""
    return env.execute_query(
        SQL(
            """SELECT p.commercial_partner_id, count(*), sum(l.price_subtotal),
                      max(so.date_order)
                 FROM sale_order_line l
                 JOIN sale_order so ON so.id = l.order_id
                 JOIN res_partner p ON p.id = so.partner_id
                WHERE so.state = 'sale' AND so.company_id = %s
                GROUP BY p.commercial_partner_id""",
            company_id,
        )
    )


def rfm_job(env, company, date_from, date_to):
    """Summary SQL per customer, ntile quintile boundaries and the 1-5 scores (no write)."""
    score = env["crm.customer.score"]
    data = score._read_summary(company, date_from, date_to)
    model = env["crm.clv.model"]
    bounds = {
        "recency": model._quintile_bounds(data["recency_days"]),
        "frequency": model._quintile_bounds(data["orders"]),
        "monetary": model._quintile_bounds(data["revenue"]),
    }
    return data, score._rfm_scores(data, bounds)


def holdout_auc(env, company, end, period):
    """AUC of the propensity model on the last period: the model the refresh would have made
    one period ago (trained on the period before) scores the customers whose id is 1 modulo 9
    (the sample tested before the numpy rewrite)."""
    sample = 9
    # Addons import once open_env has loaded the configuration (addons path).
    from odoo.addons.crm_analytics.lib import propensity

    test_at = end - timedelta(days=period)
    fit, train, test = env["crm.customer.propensity"]._predict(company, test_at, until=end)
    test = test.subset(test.partner % sample == 1)
    scores = fit.predict(test.features)
    # Pairs outside the candidates get the lowest score; count the buyers among them.
    bought = env.execute_query(
        SQL(
            """SELECT DISTINCT p.commercial_partner_id, pt.categ_id
                 FROM sale_order_line l
                 JOIN sale_order so ON so.id = l.order_id
                 JOIN res_partner p ON p.id = so.partner_id
                 JOIN product_product pp ON pp.id = l.product_id
                 JOIN product_template pt ON pt.id = pp.product_tmpl_id
                WHERE so.state = 'sale' AND so.company_id = %s
                  AND so.date_order >= %s AND so.date_order < %s
                  AND p.commercial_partner_id %% %s = 1""",
            company.id,
            test_at,
            end,
            sample,
        )
    )
    customers = set(test.partner.tolist())
    candidates = set(zip(test.partner.tolist(), test.categ.tolist(), strict=True))
    missed = sum(1 for pair in bought if pair[0] in customers and pair not in candidates)
    categories = env.execute_query(SQL("SELECT count(DISTINCT categ_id) FROM product_template"))
    outside = len(customers) * categories[0][0] - len(candidates)
    low = np.full(outside, -1.0)
    labels = np.r_[test.bought, np.ones(missed, dtype=bool), np.zeros(outside - missed, dtype=bool)]
    model_auc = propensity.auc(np.r_[scores, low], labels)
    # Naive reference: "bought this category before, recently" (the recency-decay feature).
    naive_auc = propensity.auc(np.r_[test.features[:, 2], low], labels)
    return model_auc, naive_auc, len(train), len(labels), float(labels.mean())


def main():
    parser = bench_arguments(__doc__)
    parser.add_argument("--runs", type=int, default=3, help="turns of baseline and each job")
    args = parser.parse_args()

    with open_env(args.config, args.database) as env:
        stats = ensure_dataset(env, customers=args.customers, lines=args.lines)
        company = env["res.company"].browse(stats["company_id"])
        env = env(context=dict(env.context, allowed_company_ids=[company.id]))
        print(
            f"data: {stats['customers']} customers ({stats['customers_with_orders']} buyers), "
            f"{stats['orders']} orders, {stats['order_lines']} lines, "
            f"{stats['first_date']} .. {stats['last_date']}"
        )
        from odoo.addons.crm_analytics.lib import clv

        model = env["crm.clv.model"]
        date_from, date_to = model._data_window(company)
        env.flush_all()

        groups = len(plain_aggregate(env, company.id))  # warm the cache, like every job below
        baselines = []

        def turns(job, prepare=None):
            """The best time of ``job`` over --runs turns, each after a baseline run (the two
            take turns, so that neither pays alone for a busy moment) and ``prepare`` (not
            timed), each committed; returns (seconds, the last result)."""
            runs = []
            for _run in range(args.runs):
                baselines.append(timed(plain_aggregate, env, company.id)[0])
                if prepare:
                    prepare()
                    env.cr.commit()
                runs.append(timed(job))
                # as the cron does after each step: the row versions a job replaced can then
                # be pruned from their pages when the next one writes them
                env.cr.commit()
            return min(seconds for seconds, _result in runs), runs[-1][1]

        def report(name, seconds, extra="", target=None):
            base = min(baselines)
            goal = f"(target <= {target})" if target else ""
            print(
                f"{name:<38} {seconds:8.2f} s   x{seconds / base:6.2f} baseline {goal:<15} {extra}"
            )

        seconds, (data, (r, _f, _m)) = turns(lambda: rfm_job(env, company, date_from, date_to))
        print(
            f"baseline plain SQL aggregate over the order lines: {min(baselines):.2f} s "
            f"({groups} rows; runs: {', '.join(f'{b:.2f}' for b in baselines)})"
        )
        report("RFM (summary SQL + quintile scores)", seconds, f"{len(r)} customers", 1.5)

        fit_lib, bg = timed(clv.fit_bgnbd, data["x"], data["t_x"], data["T"])
        spenders = data["monetary"] > 0
        fit_gg, gg = timed(clv.fit_gamma_gamma, data["x"][spenders], data["monetary"][spenders])
        report(
            "CLV fit, BG/NBD (numpy/scipy only)",
            fit_lib,
            f"r={bg.r:.3f} alpha={bg.alpha:.2f} a={bg.a:.3f} b={bg.b:.3f} LL={bg.loglik:.0f}",
        )
        report(
            "CLV fit, Gamma-Gamma (numpy/scipy only)",
            fit_gg,
            f"p={gg.p:.2f} q={gg.q:.2f} gamma={gg.gamma:.0f} LL={gg.loglik:.0f}",
        )

        Affinity = env["crm.product.affinity"]
        seconds, _ = turns(lambda: Affinity._refresh(company, date_from, date_to))
        pairs = Affinity.search_count([("company_id", "=", company.id)])
        categ_pairs = env["crm.category.affinity"].search_count([("company_id", "=", company.id)])
        report("Affinity (product + category pairs)", seconds, f"{pairs} + {categ_pairs} rules", 3)

        seconds, fitted = timed(model._fit, company, date_from, date_to)
        report(
            "CLV fit in Odoo (holdout + final fit)", seconds, f"{fitted.customer_count} customers"
        )
        print(
            f"holdout validation ({fitted.holdout_months} months, {fitted.holdout_customers} "
            f"customers): {fitted.model_kind} chosen; predicted {fitted.holdout_predicted:,.0f} "
            f"purchases, actual {fitted.holdout_actual:,.0f} ({fitted.holdout_error:+.1%}); "
            f"churn AUC model {fitted.model_auc:.3f} vs simple rule {fitted.naive_auc:.3f}: "
            f"churn risk from the {fitted.churn_source}"
        )
        for warning in (fitted.diagnostics or "").splitlines():
            print(f"  fit warning: {warning}")

        # The daily scoring: every customer has the scores of the day before (the first turn
        # writes them over those of an earlier run, or inserts them in a new database); each
        # turn scores them again from the start with the new fit.
        def restart_scoring():
            fitted.write({"state": "scoring", "cursor_partner_id": 0, "scored_count": 0})

        scheduler = env["crm.analytics.scheduler"]
        seconds, _ = turns(lambda: scheduler._score_all(fitted), restart_scoring)
        report(
            "CLV + RFM scoring, write, next offers",
            seconds,
            f"{fitted.scored_count} scores, avg CLV {fitted.avg_clv:,.0f}",
            3,
        )

        period = company.crm_propensity_days
        # The daily refresh: the propensities of the day before are there (untimed), and only
        # the rows that changed since are written (rerunning the same day would write none).
        Propensity = env["crm.customer.propensity"]
        seconds, _ = turns(
            lambda: Propensity._refresh(company, date_to),
            lambda: Propensity._refresh(company, date_to - timedelta(days=1)),
        )
        written, stored = env.execute_query(
            SQL(
                """SELECT count(*) FILTER (WHERE refreshed_at = (SELECT max(refreshed_at)
                                                                   FROM crm_customer_propensity
                                                                  WHERE company_id = %s)),
                          count(*)
                     FROM crm_customer_propensity WHERE company_id = %s""",
                company.id,
                company.id,
            )
        )[0]
        report(
            "Propensity (train + score + write)",
            seconds,
            f"period {period} days, next day: {written} of {stored} rows written",
            3,
        )
        seconds, (model_auc, naive_auc, n_train, n_test, rate) = timed(
            holdout_auc, env, company, date_to, period
        )
        report(
            "Propensity holdout evaluation",
            seconds,
            f"AUC {model_auc:.3f} (naive recency-in-category {naive_auc:.3f}); "
            f"train {n_train} pairs, test {n_test} pairs, {rate:.1%} positive",
        )

        for name in (
            "crm.report.retention",
            "crm.report.cohort",
            "crm.report.segment.revenue",
            "crm.report.loyalty.contribution",
        ):
            Report = env[name]
            groupby = ["month:month"] if "month" in Report._fields else ["date:month"]
            if name == "crm.report.cohort":
                groupby = ["cohort_month:month", "months_since"]
            seconds, groups = timed(
                Report._read_group, [("company_id", "=", company.id)], groupby, ["__count"]
            )
            report(f"KPI {name}", seconds, f"{len(groups)} groups")


if __name__ == "__main__":
    main()
