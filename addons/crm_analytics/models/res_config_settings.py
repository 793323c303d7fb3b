from odoo import fields
from odoo import models


class ResConfigSettings(models.TransientModel):
    """Settings of the customer value models, stored on the company."""

    _inherit = "res.config.settings"

    crm_clv_horizon_months = fields.Integer(
        related="company_id.crm_clv_horizon_months", readonly=False
    )
    crm_clv_discount_rate = fields.Float(related="company_id.crm_clv_discount_rate", readonly=False)
    crm_analytics_window_months = fields.Integer(
        related="company_id.crm_analytics_window_months", readonly=False
    )
    crm_affinity_min_support = fields.Float(
        related="company_id.crm_affinity_min_support", readonly=False
    )
    crm_propensity_days = fields.Integer(related="company_id.crm_propensity_days", readonly=False)
    crm_clv_holdout_months = fields.Integer(
        related="company_id.crm_clv_holdout_months", readonly=False
    )
    crm_propensity_auc = fields.Float(related="company_id.crm_propensity_auc")
    crm_propensity_trained_at = fields.Datetime(related="company_id.crm_propensity_trained_at")
