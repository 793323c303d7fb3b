from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    """The house-credit policy of a company: how a customer's payment history becomes a
    credit score, a decision (grant, review, deny) and a suggested credit limit."""

    _inherit = "res.company"

    crm_credit_grant_score = fields.Integer(
        "Grant from Score",
        default=70,
        help="Customers scoring at least this much are granted house credit.",
    )
    crm_credit_review_score = fields.Integer(
        "Review from Score",
        default=40,
        help="Customers scoring at least this much (and less than the grant score) need a "
        "credit manager's review; below it, credit is denied.",
    )
    crm_credit_max_overdue_days = fields.Integer(
        "Maximum Days Overdue",
        default=60,
        help="A customer with an invoice overdue longer than this is denied credit, whatever "
        "the score.",
    )
    crm_credit_limit_months = fields.Float(
        "Limit in Months of Purchases",
        default=2.0,
        digits=(16, 1),
        help="Suggested limit: this many times the average monthly invoiced amount of the "
        "last 12 months, scaled by the score (a score of 80 gives 80 % of it).",
    )
    crm_credit_limit_cap = fields.Monetary(
        "Maximum Suggested Limit",
        currency_field="currency_id",
        help="The suggested limit never exceeds this amount (0: no maximum).",
    )
    crm_credit_apply_limit = fields.Boolean(
        "Apply Suggested Limits",
        help="Write each new suggested limit on the customer's credit limit (Accounting's own "
        "field). Off: the limit is only suggested, on the Customer 360° page.",
    )
    crm_credit_review_days = fields.Integer(
        "Review Limits Every (Days)",
        default=30,
        help="A customer's suggested limit is reviewed (recorded and, when applied, written) "
        "at most this often; a change of decision is recorded at once.",
    )

    @api.constrains(
        "crm_credit_grant_score",
        "crm_credit_review_score",
        "crm_credit_max_overdue_days",
        "crm_credit_limit_months",
        "crm_credit_limit_cap",
        "crm_credit_review_days",
    )
    def _check_crm_credit_policy(self):
        _ = self.env._
        for company in self:
            if not (0 <= company.crm_credit_review_score < company.crm_credit_grant_score <= 100):
                raise ValidationError(
                    _(
                        "The credit scores must be in order: 0 ≤ review score < grant score ≤ "
                        "100 (got review %(review)s, grant %(grant)s).",
                        review=company.crm_credit_review_score,
                        grant=company.crm_credit_grant_score,
                    )
                )
            if company.crm_credit_max_overdue_days < 0:
                raise ValidationError(_("The maximum days overdue cannot be negative."))
            if not company.crm_credit_limit_months > 0:
                raise ValidationError(
                    _("The limit in months of purchases must be greater than zero.")
                )
            if company.crm_credit_limit_cap < 0:
                raise ValidationError(_("The maximum suggested limit cannot be negative."))
            if company.crm_credit_review_days < 1:
                raise ValidationError(_("Credit limits must be reviewed at least every day."))


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    crm_credit_grant_score = fields.Integer(
        related="company_id.crm_credit_grant_score", readonly=False
    )
    crm_credit_review_score = fields.Integer(
        related="company_id.crm_credit_review_score", readonly=False
    )
    crm_credit_max_overdue_days = fields.Integer(
        related="company_id.crm_credit_max_overdue_days", readonly=False
    )
    crm_credit_limit_months = fields.Float(
        related="company_id.crm_credit_limit_months", readonly=False
    )
    crm_credit_limit_cap = fields.Monetary(
        related="company_id.crm_credit_limit_cap", readonly=False
    )
    crm_credit_apply_limit = fields.Boolean(
        related="company_id.crm_credit_apply_limit", readonly=False
    )
    crm_credit_review_days = fields.Integer(
        related="company_id.crm_credit_review_days", readonly=False
    )
