from odoo import fields
from odoo import models
from odoo.tools import SQL


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
    base_customers = fields.Integer("Customers at Start", readonly=True)
    churned_customers = fields.Integer("Churned", readonly=True)
    retained_customers = fields.Integer("Retained", readonly=True)
    new_customers = fields.Integer("New", readonly=True)
    active_customers = fields.Integer("Buying This Month", readonly=True)
    retention_rate = fields.Float("Retention (%)", aggregator="avg", readonly=True)
    churn_rate = fields.Float("Churn (%)", aggregator="avg", readonly=True)

    @property
    def _table_query(self):
        return SQL(
            """
            WITH pm AS (
                SELECT DISTINCT so.company_id, p.commercial_partner_id AS partner_id,
                       date_trunc('month', so.date_order)::date AS month
                  FROM sale_order so
                  JOIN res_partner p ON p.id = so.partner_id
                 WHERE so.state = 'sale'
            ), spells AS (
                SELECT company_id, partner_id, month,
                       lead(month) OVER (PARTITION BY company_id, partner_id ORDER BY month)
                           AS next_month,
                       month = min(month) OVER (PARTITION BY company_id, partner_id) AS first
                  FROM pm
            ), last_month AS (
                SELECT company_id, max(month) AS month FROM pm GROUP BY company_id
            ), base AS (
                SELECT s.company_id, m.month::date AS month,
                       count(*) AS base_customers,
                       count(*) FILTER (
                           WHERE m.month = s.month + interval '12 months'
                             AND (s.next_month IS NULL
                                  OR s.next_month > s.month + interval '12 months')
                       ) AS churned
                  FROM spells s
                  JOIN last_month lm ON lm.company_id = s.company_id
                 CROSS JOIN LATERAL generate_series(
                       s.month + interval '1 month',
                       least(COALESCE(s.next_month, s.month + interval '12 months'),
                             s.month + interval '12 months', lm.month),
                       interval '1 month') AS m(month)
                 GROUP BY 1, 2
            ), activity AS (
                SELECT company_id, month, count(*) AS active, count(*) FILTER (WHERE first) AS new
                  FROM spells GROUP BY 1, 2
            )
            SELECT row_number() OVER (ORDER BY k.company_id, k.month) AS id,
                   k.company_id, k.month,
                   COALESCE(b.base_customers, 0) AS base_customers,
                   COALESCE(b.churned, 0) AS churned_customers,
                   COALESCE(b.base_customers - b.churned, 0) AS retained_customers,
                   COALESCE(a.new, 0) AS new_customers,
                   COALESCE(a.active, 0) AS active_customers,
                   COALESCE(100.0 * (b.base_customers - b.churned) / NULLIF(b.base_customers, 0), 0)
                       AS retention_rate,
                   COALESCE(100.0 * b.churned / NULLIF(b.base_customers, 0), 0) AS churn_rate
              FROM (SELECT company_id, month FROM activity
                     UNION
                    SELECT company_id, month FROM base) k
              LEFT JOIN activity a ON a.company_id = k.company_id AND a.month = k.month
              LEFT JOIN base b ON b.company_id = k.company_id AND b.month = k.month
            """
        )
