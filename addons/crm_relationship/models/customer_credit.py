from odoo import api
from odoo import fields
from odoo import models
from odoo.tools import SQL
from odoo.tools.misc import formatLang

from .crm_credit_decision import CREDIT_DECISIONS
from .crm_customer_facts import Fact

# The credit score: 100 minus penalties, each capped, from the customer's payment facts.
#   lateness       up to 30: average days late (weighted by amount paid), 30 days or more
#   punctuality    up to 25: share of invoices not paid on time
#   overdue age    up to 25: the oldest overdue invoice, 90 days or more
#   overdue weight up to 10: amount overdue over the last 12 months' invoiced amount
#   rejections     up to 10: 5 per rejected (bounced, returned) payment
#   newness        up to 10: a relationship shorter than 12 months
# A customer without payment history (no installment paid or due yet) has no score. Over the
# metric ``m`` and its ``credit_months_known``, the months since the first order or invoice.
CREDIT_SCORE_SQL = """
    GREATEST(0, ROUND(100
        - 30 * LEAST(COALESCE(m.avg_days_late, 0), 30) / 30.0
        - 25 * (1 - COALESCE(m.on_time_ratio, 1))
        - 25 * LEAST(COALESCE(m.oldest_overdue_days, 0), 90) / 90.0
        - 10 * LEAST(COALESCE(m.overdue_amount, 0) / GREATEST(m.revenue_12m, 1), 1)
        - 5 * LEAST(COALESCE(m.rejected_payment_count, 0), 2)
        - 10 * (1 - LEAST(m.credit_months_known, 12) / 12.0)))::int
"""


# The credit columns of the metrics, computed over the facts by _refresh_query.
CREDIT_COLUMNS = [
    "credit_months_known",
    "credit_has_history",
    "credit_score",
    "credit_decision",
    "credit_limit_suggested",
]


class CrmCustomerFacts(models.AbstractModel):
    """The facts house credit adds: rejected customer payments."""

    _inherit = "crm.customer.facts"

    @api.model
    def _fact_parts(self, company_ids, window, partners):
        parts = super()._fact_parts(company_ids, window, partners)
        parts["rej"] = self._rejected_payments_part(company_ids, window, partners)
        return parts

    @api.model
    def _fact_registry(self):
        registry = super()._fact_registry()
        fact = Fact("rejected_payment_count", "rej", "COALESCE(rej.rejected_payment_count, 0)")
        registry[fact.name] = fact
        return registry

    @api.model
    def _crossed_keys_query(self, company_ids, date_from, as_of, partners=None):
        """And the customers with a rejected payment dated in between."""
        return SQL(
            """%s UNION
               SELECT p.commercial_partner_id, ap.company_id
                 FROM account_payment ap JOIN res_partner p ON p.id = ap.partner_id
                WHERE ap.state = 'rejected' AND ap.partner_type = 'customer'
                  AND ap.payment_type = 'inbound'
                  AND ap.date > %s AND ap.date <= %s AND %s AND %s""",
            super()._crossed_keys_query(company_ids, date_from, as_of, partners),
            date_from,
            as_of,
            self._company_condition(SQL("ap.company_id"), company_ids),
            self._partner_condition(partners, "ap", SQL("p.commercial_partner_id")),
        )

    @api.model
    def _rejected_payments_part(self, company_ids, window, partners):
        """Customer payments the bank rejected (a bounced cheque, a returned transfer) up to
        ``window.as_of``."""
        return SQL(
            """
            SELECT p.commercial_partner_id AS partner_id, ap.company_id,
                   count(*) AS rejected_payment_count
              FROM account_payment ap
              JOIN res_partner p ON p.id = ap.partner_id
             WHERE ap.state = 'rejected' AND ap.partner_type = 'customer'
               AND ap.payment_type = 'inbound' AND ap.date <= %(as_of)s
               AND %(companies)s AND %(partners)s
             GROUP BY 1, 2
            """,
            as_of=window.as_of,
            companies=self._company_condition(SQL("ap.company_id"), company_ids),
            partners=self._partner_condition(partners, "ap", SQL("p.commercial_partner_id")),
        )


class CrmCustomerMetric(models.Model):
    """House credit of a customer in a company: score, decision and suggested limit, computed
    from the payment facts with the metrics (:meth:`_refresh_query`),
    and recorded in crm.credit.decision when the decision changes or the limit is reviewed."""

    _inherit = "crm.customer.metric"

    first_invoice_date = fields.Date(readonly=True)
    overdue_invoice_count = fields.Integer("Overdue Invoices", readonly=True, aggregator="sum")
    rejected_payment_count = fields.Integer("Rejected Payments", readonly=True, aggregator="sum")
    credit_months_known = fields.Integer(
        "Months of Relationship",
        readonly=True,
        help="Months since the first confirmed order or invoice.",
    )
    credit_has_history = fields.Boolean(
        "Payment History",
        readonly=True,
        help="At least one installment of an invoice was paid or fell due.",
    )
    credit_score = fields.Integer(
        readonly=True,
        aggregator="avg",
        help="0-100 from the payment history: days late, share paid on time, overdue amount "
        "and age, rejected payments and length of the relationship. Empty without payment "
        "history.",
    )
    credit_decision = fields.Selection(CREDIT_DECISIONS, "Credit Decision", readonly=True)
    credit_limit_suggested = fields.Monetary("Suggested Credit Limit", readonly=True)
    credit_decision_id = fields.Many2one(
        "crm.credit.decision", "Last Credit Decision", readonly=True, index="btree_not_null"
    )
    credit_reasons = fields.Text(compute="_compute_credit_reasons")

    @api.model
    def _metric_columns(self):
        return [
            *super()._metric_columns(),
            "first_invoice_date",
            "overdue_invoice_count",
            "rejected_payment_count",
            *CREDIT_COLUMNS,
        ]

    @api.model
    def _refresh_query(self, company_ids, partner_ids=None, as_of=None, aged=False):
        """The facts, then the credit of each customer computed over them: score, decision
        and suggested limit (in the statement that computes the facts: updating the refresh's
        temporary table afterwards took 1.3 s more for the benchmark's 86,897 customers)."""
        as_of = fields.Date.to_date(as_of) or fields.Date.context_today(self)
        # One level per step, each fenced by OFFSET 0 so that PostgreSQL does not inline a
        # level's columns into the next one's expressions: the score is computed once per
        # customer, not once per use (it had five: the credit took 1.1-1.3 s of the
        # benchmark's refresh statement, 0.3 s so).
        return SQL(
            """
            SELECT d.*,
                   CASE WHEN d.credit_decision = 'deny' OR d.credit_score IS NULL THEN 0
                        ELSE ROUND(LEAST(GREATEST(
                                c.crm_credit_limit_months * d.revenue_12m
                                / GREATEST(LEAST(d.credit_months_known, 12), 1)
                                * d.credit_score / 100.0, 0),
                            COALESCE(NULLIF(c.crm_credit_limit_cap, 0),
                                     'Infinity'))::numeric,
                            cur.decimal_places) END AS credit_limit_suggested
              FROM (
                SELECT s.*,
                       CASE WHEN NOT s.credit_has_history THEN 'review'
                            WHEN s.oldest_overdue_days > c.crm_credit_max_overdue_days
                                THEN 'deny'
                            WHEN s.credit_score >= c.crm_credit_grant_score THEN 'grant'
                            WHEN s.credit_score >= c.crm_credit_review_score THEN 'review'
                            ELSE 'deny' END AS credit_decision
                  FROM (
                    SELECT m.*,
                           CASE WHEN m.credit_has_history THEN %(score)s END AS credit_score
                      FROM (
                        SELECT f.*,
                               COALESCE((date_part('year', age(%(as_of)s, k.first_day)) * 12
                                         + date_part('month', age(%(as_of)s, k.first_day)))::int,
                                        0) AS credit_months_known,
                               f.on_time_ratio IS NOT NULL
                                   OR COALESCE(f.oldest_overdue_days, 0) > 0
                                   AS credit_has_history
                          FROM (%(facts)s) AS f
                         CROSS JOIN LATERAL (
                            SELECT LEAST(f.first_order_date, f.first_invoice_date) AS first_day
                         ) AS k
                        OFFSET 0
                      ) AS m
                    OFFSET 0
                  ) AS s
                  JOIN res_company c ON c.id = s.company_id
                OFFSET 0
              ) AS d
              JOIN res_company c ON c.id = d.company_id
              JOIN res_currency cur ON cur.id = c.currency_id
            """,
            facts=super()._refresh_query(company_ids, partner_ids, as_of, aged),
            as_of=as_of,
            score=SQL(CREDIT_SCORE_SQL),
        )

    @api.model
    def _refresh_metrics(
        self, partner_ids=None, company_ids=None, classify=True, as_of=None, aged=False
    ):
        """Refresh the metrics and credit, record the new credit decisions, then classify
        (segment rules may read the credit score and decision)."""
        metrics = super()._refresh_metrics(
            partner_ids, company_ids, classify=False, as_of=as_of, aged=aged
        )
        day = fields.Date.to_date(as_of) or fields.Date.context_today(self)
        self.env["crm.credit.decision"]._record_reviews(metrics, day)
        if classify:
            self.env["crm.customer.segment"]._classify_metrics(metrics, as_of=as_of)
        return metrics

    @api.depends_context("lang")
    @api.depends(
        "credit_has_history",
        "avg_days_late",
        "on_time_ratio",
        "overdue_invoice_count",
        "oldest_overdue_days",
        "overdue_amount",
        "rejected_payment_count",
        "credit_months_known",
    )
    def _compute_credit_reasons(self):
        for metric in self:
            metric.credit_reasons = "\n".join(metric._credit_reason_lines())

    def _credit_reason_lines(self):
        """The credit decision's reasons in plain words, in the user's language."""
        self.ensure_one()
        _ = self.env._
        if not self.credit_has_history:
            return [_("No payment history yet: a credit manager decides.")]
        lines = []
        if self.avg_days_late >= 1:
            lines.append(_("Pays %(days)s days late on average.", days=round(self.avg_days_late)))
        elif self.on_time_ratio:
            lines.append(_("Pays on time on average."))
        else:
            # nothing paid on time and no day late: nothing paid yet
            lines.append(_("No payment received yet."))
        if self.on_time_ratio is not False and self.on_time_ratio < 1:
            lines.append(
                _(
                    "%(percent)s %% of the invoices paid on time.",
                    percent=formatLang(self.env, 100 * self.on_time_ratio, digits=0),
                )
            )
        if self.overdue_invoice_count:
            lines.append(
                _(
                    "%(count)s overdue invoice(s) for %(amount)s, the oldest %(days)s days "
                    "overdue.",
                    count=self.overdue_invoice_count,
                    amount=formatLang(self.env, self.overdue_amount, currency_obj=self.currency_id),
                    days=self.oldest_overdue_days,
                )
            )
            if self.oldest_overdue_days > self.company_id.crm_credit_max_overdue_days:
                lines.append(
                    _(
                        "Overdue for longer than the %(days)s days the policy allows.",
                        days=self.company_id.crm_credit_max_overdue_days,
                    )
                )
        if self.rejected_payment_count:
            lines.append(_("%(count)s rejected payment(s).", count=self.rejected_payment_count))
        if self.credit_months_known < 12:
            lines.append(
                _("Customer for %(months)s month(s) only.", months=self.credit_months_known)
            )
        return lines


class ResPartner(models.Model):
    """The customer's house credit on the Customer 360° page (current company)."""

    _inherit = "res.partner"

    crm_credit_score = fields.Integer(
        related="crm_metric_id.credit_score", groups="crm_relationship.group_user"
    )
    crm_credit_has_history = fields.Boolean(
        related="crm_metric_id.credit_has_history", groups="crm_relationship.group_user"
    )
    crm_credit_decision = fields.Selection(
        related="crm_metric_id.credit_decision", groups="crm_relationship.group_user"
    )
    crm_credit_limit_suggested = fields.Monetary(
        related="crm_metric_id.credit_limit_suggested",
        currency_field="crm_currency_id",
        groups="crm_relationship.group_user",
    )
    crm_credit_reasons = fields.Text(
        related="crm_metric_id.credit_reasons", groups="crm_relationship.group_user"
    )
