from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    """Per-company settings of the customer value models."""

    _inherit = "res.company"

    crm_clv_horizon_months = fields.Integer(
        "CLV Horizon (months)",
        default=12,
        help="Future months whose expected purchases make up the customer lifetime value.",
    )
    crm_clv_discount_rate = fields.Float(
        "CLV Annual Discount Rate",
        default=0.10,
        digits=(4, 4),
        help="Annual rate used to discount future purchases (0.10 = 10 % a year).",
    )
    crm_analytics_window_months = fields.Integer(
        "Analysis Window (months)",
        default=36,
        help="Months of confirmed sales used to fit the models and compute affinities.",
    )
    crm_affinity_min_support = fields.Float(
        "Minimum Affinity Support",
        default=0.0005,
        digits=(6, 6),
        help="Share of orders a product pair must appear in to be kept (0.0005 = 0.05 %).",
    )
    crm_propensity_days = fields.Integer(
        "Propensity Period (days)",
        default=90,
        help="Length of the future period for which purchase propensities are estimated.",
    )
    crm_clv_holdout_months = fields.Integer(
        "Holdout (months)",
        default=6,
        help="Each fit is tested on the last months of sales: fitted on the window up to "
        "this many months ago, it predicts them, and its predictions are compared with what "
        "happened and with the simple rule.",
    )
    crm_propensity_auc = fields.Float(
        "Propensity AUC (training)",
        digits=(16, 2),
        readonly=True,
        help="Area under the ROC curve of the category propensity model on its training data "
        "at its last training (0.5 = no better than chance, 1 = perfect).",
    )
    crm_propensity_trained_at = fields.Datetime("Propensity Trained On", readonly=True)

    @api.constrains(
        "crm_clv_horizon_months",
        "crm_clv_discount_rate",
        "crm_analytics_window_months",
        "crm_affinity_min_support",
        "crm_propensity_days",
        "crm_clv_holdout_months",
    )
    def _check_crm_analytics_settings(self):
        for company in self:
            company._crm_analytics_check_settings()

    def _crm_analytics_check_settings(self):
        """Raise a ValidationError naming the first out-of-range setting of this company."""
        self.ensure_one()
        _ = self.env._
        if not 1 <= self.crm_clv_horizon_months <= 120:
            raise ValidationError(_("The CLV horizon must be between 1 and 120 months."))
        if not 0 <= self.crm_clv_discount_rate < 1:
            raise ValidationError(
                _("The CLV discount rate must be at least 0 and below 1 (e.g. 0.10 for 10%).")
            )
        if not 3 <= self.crm_analytics_window_months <= 120:
            raise ValidationError(_("The analysis window must be between 3 and 120 months."))
        if not 0 < self.crm_affinity_min_support < 1:
            raise ValidationError(_("The minimum affinity support must be between 0 and 1."))
        if not 7 <= self.crm_propensity_days <= 365:
            raise ValidationError(_("The propensity period must be between 7 and 365 days."))
        if not 1 <= self.crm_clv_holdout_months < self.crm_analytics_window_months:
            raise ValidationError(
                _(
                    "The holdout must be at least 1 month and shorter than the analysis "
                    "window (%(window)s months).",
                    window=self.crm_analytics_window_months,
                )
            )
