"""DEMO DATA ONLY: the analytics of the demo store (crm_relationship demo) as they were month
after month, so that the CLV trend and the model fits have a history from the first install."""

from odoo import api
from odoo import fields
from odoo import models

from odoo.addons.crm_relationship.demo.story import month_ends


class CrmAnalyticsDemo(models.AbstractModel):
    """DEMO DATA ONLY: runs the demo store's analytics as of past month ends
    (demo/crm_analytics_story_demo.xml)."""

    _name = "crm.analytics.demo"
    _description = "Demo Analytics History Generator"

    @api.model
    def _fit_history(self, company_id, months=12):
        """Fit and score the store's customers as of each of the last `months` month ends,
        oldest first (each fit as the daily job would have made it that day), then run the whole
        pipeline as of today: the fits give the CLV trend its monthly points, the last run the
        current scores, next offers and propensities."""
        company = self.env["res.company"].browse(company_id)
        scheduler = (
            self.env["crm.analytics.scheduler"]
            .with_company(company)
            .with_context(allowed_company_ids=company.ids)
        )
        Fit = scheduler.env["crm.clv.model"]
        for day in month_ends(fields.Date.context_today(self), months):
            scheduler._score_all(Fit._fit(company, *Fit._data_window(company, day)))
        scheduler._refresh_company(company)
