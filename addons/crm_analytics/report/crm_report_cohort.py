from odoo import fields
from odoo import models
from odoo.tools import SQL

from .crm_report_retention import buying_months


class CrmReportCohort(models.Model):
    """Cohort retention: customers of a first-purchase month still buying N months later.

    One row per (company, cohort month, months since): each pivot cell is one row, so the
    average of ``retention_rate`` in a cell is exactly that cell's rate. A month in which none
    of a cohort bought is a row at 0 %, up to the company's last month with sales: a total
    averages every cohort, not only those with a customer back.
    """

    _name = "crm.report.cohort"
    _description = "Customer Cohort Retention"
    _auto = False
    _order = "cohort_month desc, months_since"
    _depends = {
        "sale.order": ["state", "company_id", "partner_id", "date_order"],
        "res.partner": ["commercial_partner_id"],
    }

    company_id = fields.Many2one("res.company", readonly=True)
    cohort_month = fields.Date("First Purchase Month", readonly=True)
    months_since = fields.Integer("Months Since First Purchase", aggregator=None, readonly=True)
    customers = fields.Integer("Buying Customers", readonly=True)
    cohort_size = fields.Integer(aggregator="max", readonly=True)
    retention_rate = fields.Float("Retention (%)", aggregator="avg", readonly=True)

    @property
    def _table_query(self):
        return SQL(
            """
            WITH pm AS (%s), cohort AS (
                SELECT company_id, partner_id, min(month) AS cohort_month
                  FROM pm GROUP BY 1, 2
            ), sizes AS (
                SELECT company_id, cohort_month, count(*) AS size FROM cohort GROUP BY 1, 2
            ), cells AS (
                SELECT c.company_id, c.cohort_month,
                       ((extract(year FROM pm.month) - extract(year FROM c.cohort_month)) * 12
                        + extract(month FROM pm.month) - extract(month FROM c.cohort_month))::int
                           AS months_since,
                       count(*) AS customers
                  FROM pm
                  JOIN cohort c ON c.company_id = pm.company_id AND c.partner_id = pm.partner_id
                 GROUP BY 1, 2, 3
            ), grid AS (
                SELECT s.company_id, s.cohort_month, s.size, g.months_since
                  FROM sizes s
                  JOIN (SELECT company_id, max(month) AS last_month FROM pm GROUP BY 1) AS l
                    ON l.company_id = s.company_id
                 CROSS JOIN LATERAL generate_series(
                       0,
                       ((extract(year FROM l.last_month) - extract(year FROM s.cohort_month)) * 12
                        + extract(month FROM l.last_month) - extract(month FROM s.cohort_month))::int
                   ) AS g(months_since)
            )
            SELECT row_number() OVER (ORDER BY g.company_id, g.cohort_month,
                                      g.months_since) AS id,
                   g.company_id, g.cohort_month, g.months_since,
                   COALESCE(cells.customers, 0) AS customers, g.size AS cohort_size,
                   100.0 * COALESCE(cells.customers, 0) / g.size AS retention_rate
              FROM grid g
              LEFT JOIN cells ON cells.company_id = g.company_id
                             AND cells.cohort_month = g.cohort_month
                             AND cells.months_since = g.months_since
            """,
            buying_months(self.env),
        )
