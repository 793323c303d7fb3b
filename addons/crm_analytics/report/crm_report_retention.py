from odoo import fields
from odoo import models
from odoo.tools import SQL


def buying_months(env):
    """SQL: one row per customer (commercial partner), company and month with a confirmed
    order, from the customer facts."""
    return SQL(
        """SELECT DISTINCT company_id, partner_id, date_trunc('month', day)::date AS month
             FROM (%s) AS o""",
        env["crm.customer.facts"]._order_rows(),
    )


class CrmReportRetention(models.Model):
    """Monthly retention and churn of customers (12 months without purchase = churned).

    For month M: the base is the customers who bought in the 12 months before M; churned are
    those of the base whose 12 months without purchase end in M; retained = base - churned.
    Each purchase month P of a customer, followed by the next purchase month N, keeps that
    customer in the base for the months P < M <= min(N, P + 12), so no customer counts twice.
    """

    _name = "crm.report.retention"
    _description = "Customer Retention and Churn"
    _auto = False
    _order = "month desc"
    _depends = {
        "sale.order": ["state", "company_id", "partner_id", "date_order"],
        "res.partner": ["commercial_partner_id"],
    }

    company_id = fields.Many2one("res.company", readonly=True)
    month = fields.Date(readonly=True)
    # counts of a month: their total over several months would count customers many times
    base_customers = fields.Integer("Customers at Start", aggregator="avg", readonly=True)
    churned_customers = fields.Integer("Churned", readonly=True)
    retained_customers = fields.Integer("Retained", aggregator="avg", readonly=True)
    new_customers = fields.Integer("New", readonly=True)
    active_customers = fields.Integer("Buying This Month", aggregator="avg", readonly=True)
    retention_rate = fields.Float("Retention (%)", aggregator="avg", readonly=True)
    churn_rate = fields.Float("Churn (%)", aggregator="avg", readonly=True)

    @property
    def _table_query(self):
        return SQL(
            """
            WITH pm AS (%s), spells AS (
                SELECT company_id, partner_id, month,
                       lead(month) OVER (PARTITION BY company_id, partner_id ORDER BY month)
                           AS next_month,
                       month = min(month) OVER (PARTITION BY company_id, partner_id) AS first
                  FROM pm
            ), months AS (
                SELECT company_id,
                       generate_series(min(month), max(month), interval '1 month')::date AS month
                  FROM pm GROUP BY company_id
            ), deltas AS (
                -- A spell keeps the customer in the base from P + 1 to least(N, P + 12) months.
                SELECT company_id, (month + interval '1 month')::date AS month, 1 AS delta
                  FROM spells
                 UNION ALL
                SELECT company_id,
                       (least(next_month, month + interval '12 months') + interval '1 month')::date,
                       -1
                  FROM spells
            ), delta_month AS (
                SELECT company_id, month, sum(delta) AS delta FROM deltas GROUP BY 1, 2
            ), churn AS (
                SELECT company_id, (month + interval '12 months')::date AS month, count(*) AS churned
                  FROM spells
                 WHERE next_month IS NULL OR next_month > month + interval '12 months'
                 GROUP BY 1, 2
            ), activity AS (
                SELECT company_id, month, count(*) AS active, count(*) FILTER (WHERE first) AS new
                  FROM spells GROUP BY 1, 2
            ), base AS (
                SELECT m.company_id, m.month,
                       sum(COALESCE(d.delta, 0)) OVER (PARTITION BY m.company_id ORDER BY m.month)
                           AS base_customers,
                       COALESCE(c.churned, 0) AS churned,
                       COALESCE(a.active, 0) AS active,
                       COALESCE(a.new, 0) AS new
                  FROM months m
                  LEFT JOIN delta_month d ON d.company_id = m.company_id AND d.month = m.month
                  LEFT JOIN churn c ON c.company_id = m.company_id AND c.month = m.month
                  LEFT JOIN activity a ON a.company_id = m.company_id AND a.month = m.month
            )
            SELECT row_number() OVER (ORDER BY company_id, month) AS id,
                   company_id, month,
                   base_customers,
                   churned AS churned_customers,
                   base_customers - churned AS retained_customers,
                   new AS new_customers,
                   active AS active_customers,
                   -- empty (not 0) for a month without customers at its start: it must not
                   -- drag the average down
                   100.0 * (base_customers - churned) / NULLIF(base_customers, 0)
                       AS retention_rate,
                   100.0 * churned / NULLIF(base_customers, 0) AS churn_rate
              FROM base
            """,
            buying_months(self.env),
        )
