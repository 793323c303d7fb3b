import logging

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import UserError
from odoo.tools import SQL

from .crm_customer_score import partner_range

_logger = logging.getLogger(__name__)

# Customers scored per statement: big enough to stay set-based, small enough to commit often.
SCORE_BATCH_SIZE = 20000


class CrmAnalyticsScheduler(models.AbstractModel):
    """The analytics pipeline of a company, step by step: product affinities, the fit of the
    customer value models (crm.clv.model, a record per fit), the scores with next offers
    (crm.customer.score), the category propensities (crm.customer.propensity).

    The daily cron resumes an interrupted scoring or refits once a day; each batch commits
    through ``ir.cron._commit_progress``. The methods take ``commit=False`` when called from a
    button or a test: they then never commit.
    """

    _name = "crm.analytics.scheduler"
    _description = "Customer Analytics Scheduled Jobs"

    # ------------------------------------------------------------------------------------------
    # steps

    @api.model
    def _refresh_company(self, company, commit=False, as_of=None):
        """Affinities, fit, scores and propensities of one company, as of ``as_of`` (default
        today). Raises UserError, writing nothing, on bad settings or too little data."""
        fit = self._prepare_company(company, as_of)
        if commit:
            self.env["ir.cron"]._commit_progress(0)
        if self._score_all(fit, commit=commit):
            self.env["crm.customer.propensity"]._refresh(company, fit.date_to)
        return fit

    @api.model
    def _prepare_company(self, company, as_of=None):
        """Check the settings, refresh the affinities and fit the models (no commit)."""
        company._crm_analytics_check_settings()
        self.env.flush_all()
        Fit = self.env["crm.clv.model"]
        date_from, date_to = Fit._data_window(company, as_of)
        self.env["crm.product.affinity"]._refresh(company, date_from, date_to)
        return Fit._fit(company, date_from, date_to)

    @api.model
    def _score_all(self, fit, commit=False):
        """Score the remaining customers of ``fit`` (partners after its cursor) batch by batch;
        finish the run when none is left. False when the cron ran out of time (the next run
        resumes).

        The orders and the order lines are read once for all the remaining customers, then
        each batch of SCORE_BATCH_SIZE customers is scored in numpy, with its next best
        offers, and written by one statement.
        """
        fit.ensure_one()
        company = fit.company_id
        score = self.env["crm.customer.score"]
        affinity = self.env["crm.product.affinity"]
        if commit:
            self.env["ir.cron"]._commit_progress(
                remaining=max(fit.customer_count - fit.scored_count, 0)
            )
        affinity._flush_sources()
        after = fit.cursor_partner_id
        data = score._read_summary(company, fit.date_from, fit.date_to, partner_from=after)
        total = 0 if data is None else len(data["partner_id"])
        if total:
            rules = affinity._offer_rules(company)
            bought = affinity._bought_pairs(
                company, lambda column: partner_range(column, after), rules
            )
        start, done = 0, 0
        while start < total:
            batch = {
                name: values[start : start + SCORE_BATCH_SIZE] for name, values in data.items()
            }
            offers = affinity._best_offer_ids(batch["partner_id"], bought, rules)
            done = score._score_batch(fit, batch, offers)
            start += SCORE_BATCH_SIZE
            if start >= total:
                break
            fit.write(
                {
                    "cursor_partner_id": int(batch["partner_id"][-1]),
                    "scored_count": fit.scored_count + done,
                }
            )
            if commit and not self.env["ir.cron"]._commit_progress(done):
                return False
        fit.scored_count += done
        self._finish(fit)
        if commit:
            self.env["ir.cron"]._commit_progress(done)
        return True

    @api.model
    def _finish(self, fit):
        """Drop the scores of customers no longer in the window, store averages, close."""
        self.env.execute_query(
            SQL(
                "DELETE FROM crm_customer_score WHERE company_id = %s AND model_id IS DISTINCT FROM %s",
                fit.company_id.id,
                fit.id,
            )
        )
        avg, total, alive = self.env.execute_query(
            SQL(
                "SELECT avg(clv), sum(clv), avg(p_alive) FROM crm_customer_score WHERE model_id = %s",
                fit.id,
            )
        )[0]
        self.env["crm.customer.score"].invalidate_model()
        fit.write(
            {
                "state": "done",
                "avg_clv": avg or 0.0,
                "total_clv": total or 0.0,
                "avg_p_alive": alive or 0.0,
            }
        )

    @api.model
    def _score_then_refresh_propensities(self, fit):
        """The cron's work on a fit: score the remaining customers (committing each batch),
        then refresh the propensities. False when the cron ran out of time."""
        if not self._score_all(fit, commit=True):
            return False
        self.env["crm.customer.propensity"]._refresh(fit.company_id, fit.date_to)
        return True

    # ------------------------------------------------------------------------------------------
    # cron

    @api.model
    def _cron_refresh_scores(self):
        """Per company: resume an interrupted scoring run, or refit once a day."""
        # sudo: the scheduler is the system pipeline (this private method is reachable from no
        # button nor RPC); it writes tables read-only to users, for every company.
        self = self.sudo()
        Fit = self.env["crm.clv.model"]
        today = fields.Date.context_today(self)
        for company in self.env["res.company"].search([]):
            scheduler = self.with_company(company)
            running = Fit.search(
                [("company_id", "=", company.id), ("state", "=", "scoring")], limit=1
            )
            if running:
                if not scheduler._score_then_refresh_propensities(running):
                    return
                continue
            if Fit.search_count(
                [("company_id", "=", company.id), ("state", "=", "done"), ("date_to", ">=", today)]
            ) or not self.env["sale.order"].search_count(
                [("company_id", "=", company.id), ("state", "=", "sale")], limit=1
            ):
                continue
            try:
                with self.env.cr.savepoint():
                    fitted = scheduler._prepare_company(company)
            except UserError as error:
                _logger.info("Customer scores of %s not refreshed: %s", company.name, error)
                date_from, date_to = Fit._data_window(company)
                Fit.create(
                    {
                        "company_id": company.id,
                        "state": "failed",
                        "date_from": date_from,
                        "date_to": date_to,
                        "message": str(error),
                    }
                )
                self.env["ir.cron"]._commit_progress(0)
                continue
            self.env["ir.cron"]._commit_progress(0)
            if not scheduler._score_then_refresh_propensities(fitted):
                return
