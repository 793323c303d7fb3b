import logging
import time
from datetime import timedelta

import numpy as np
from dateutil.relativedelta import relativedelta

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.tools import SQL

from odoo.addons.crm_analytics.lib import clv

_logger = logging.getLogger(__name__)

SCORE_BATCH_SIZE = 20000


class CrmClvModel(models.Model):
    """One fit of the customer value models of a company, and the scoring run that follows.

    A fit stores the BG/NBD and Gamma-Gamma parameters, their log-likelihoods, the data window
    and the RFM quintile boundaries. Scoring then walks the partners in id order, batch by
    batch; ``cursor_partner_id`` records where it is, so an interrupted cron resumes there.
    """

    _name = "crm.clv.model"
    _description = "Customer Lifetime Value Model"
    _order = "fit_date desc, id desc"

    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    state = fields.Selection(
        [("scoring", "Scoring"), ("done", "Done"), ("failed", "Failed")],
        default="scoring",
        required=True,
        index=True,
    )
    fit_date = fields.Datetime(default=fields.Datetime.now, required=True)
    date_from = fields.Date("Data From", required=True)
    date_to = fields.Date("Data To", required=True, help="End of the data window (excluded).")
    horizon_months = fields.Integer("Horizon (months)")
    discount_rate = fields.Float("Annual Discount Rate", digits=(4, 4))
    customer_count = fields.Integer("Customers")
    repeat_customer_count = fields.Integer("Repeat Customers")
    bgnbd_r = fields.Float("r", digits=(16, 6))
    bgnbd_alpha = fields.Float("alpha", digits=(16, 6))
    bgnbd_a = fields.Float("a", digits=(16, 6))
    bgnbd_b = fields.Float("b", digits=(16, 6))
    bgnbd_loglik = fields.Float("BG/NBD Log-likelihood", digits=(16, 2))
    gg_p = fields.Float("p", digits=(16, 6))
    gg_q = fields.Float("q", digits=(16, 6))
    gg_gamma = fields.Float("gamma", digits=(16, 6))
    gg_loglik = fields.Float("Gamma-Gamma Log-likelihood", digits=(16, 2))
    rfm_bounds = fields.Json("RFM Quintile Boundaries")
    fit_seconds = fields.Float("Fit Time (s)", digits=(16, 3))
    cursor_partner_id = fields.Integer(
        "Scored Up To Partner", help="Last partner id scored: an interrupted run resumes after it."
    )
    scored_count = fields.Integer("Scored Customers")
    avg_clv = fields.Monetary("Average CLV", currency_field="currency_id", aggregator="avg")
    total_clv = fields.Monetary("Total CLV", currency_field="currency_id")
    avg_p_alive = fields.Float("Average P(active)", digits=(16, 3), aggregator="avg")
    propensity_auc = fields.Float(
        "Propensity AUC (training)",
        digits=(16, 3),
        help="Area under the ROC curve of the category propensity model on its training data "
        "(0.5 = no better than chance, 1 = perfect).",
    )
    message = fields.Text(help="Why the last attempt failed, when it did.")

    @api.depends("company_id", "fit_date")
    def _compute_display_name(self):
        for model in self:
            model.display_name = f"{model.company_id.name} {model.fit_date or ''}"

    # ------------------------------------------------------------------------------------------
    # actions

    def action_recompute(self):
        """Manager button: refit and rescore one company now, in this transaction.

        The company is the one of the fit the button is pressed on, or the user's current
        company from the list. Fits, scores, affinities and propensities are written by the
        system only (read-only to every user): the pipeline runs as superuser once
        :meth:`_check_recompute_access` has accepted the caller.
        """
        company = self._check_recompute_access()
        # sudo: the caller is an analytics manager allowed in ``company`` (checked above); the
        # tables written are read-only to users, and the pipeline only touches ``company``.
        model = self.sudo()._refresh_company(company, commit=False)
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.clv.model",
            "res_id": model.id,
            "view_mode": "form",
            "target": "current",
        }

    def _check_recompute_access(self):
        """Return the company to recompute; raise AccessError unless the user is an analytics
        manager allowed in it (with these fits readable to them, when given)."""
        _ = self.env._
        if not self.env.user.has_group("crm_analytics.group_manager"):
            raise AccessError(_("Only analytics managers can recompute customer scores."))
        # record rules: a fit of a company the user is not working in is refused here
        self.check_access("read")
        # env.company raises AccessError when the context names a company the user lacks
        company = self.company_id or self.env.company
        if len(company) > 1:
            raise UserError(_("Recompute the scores of one company at a time."))
        if company not in self.env.companies:
            raise AccessError(
                _("You cannot recompute the scores of %(company)s.", company=company.name)
            )
        return company

    # ------------------------------------------------------------------------------------------
    # business

    def _bgnbd(self):
        self.ensure_one()
        return clv.BetaGeoFit(
            r=self.bgnbd_r,
            alpha=self.bgnbd_alpha,
            a=self.bgnbd_a,
            b=self.bgnbd_b,
            loglik=self.bgnbd_loglik,
            n_customers=self.customer_count,
        )

    def _gamma_gamma(self):
        self.ensure_one()
        return clv.GammaGammaFit(
            p=self.gg_p,
            q=self.gg_q,
            gamma=self.gg_gamma,
            loglik=self.gg_loglik,
            n_customers=self.repeat_customer_count,
        )

    @api.model
    def _data_window(self, company):
        date_to = fields.Date.context_today(self)
        return date_to - relativedelta(months=company.crm_analytics_window_months), date_to

    @api.model
    def _refresh_company(self, company, commit=False):
        """Affinities, fit, scores and propensities of one company. Raises UserError, writing
        nothing, on bad settings or too little data. ``commit`` (crons only) commits after
        each batch."""
        model = self._prepare_company(company)
        if commit:
            self.env["ir.cron"]._commit_progress(0)
        if model._score_all(commit=commit):
            self.env["crm.customer.propensity"]._refresh(company, model.date_to, model)
        return model

    @api.model
    def _prepare_company(self, company):
        """Check the settings, refresh the affinities and fit the models (no commit)."""
        company._crm_analytics_check_settings()
        self.env.flush_all()
        date_from, date_to = self._data_window(company)
        self.env["crm.product.affinity"]._refresh(company, date_from, date_to)
        return self._fit(company, date_from, date_to)

    @api.model
    def _fit(self, company, date_from, date_to):
        """Fit both models on the company's customers and create the fit record (state
        scoring). Raises UserError when the data cannot support a fit."""
        started = time.monotonic()
        score = self.env["crm.customer.score"]
        rows = self.env.execute_query(score._summary_query(company, date_from, date_to))
        data = score._summary_arrays(rows, date_to)
        if data is None:
            raise UserError(
                self.env._(
                    "%(company)s has no confirmed sales between %(start)s and %(end)s: "
                    "there is nothing to score.",
                    company=company.name,
                    start=date_from,
                    end=date_to,
                )
            )
        spenders = data["monetary"] > 0
        try:
            bg = clv.fit_bgnbd(data["x"], data["t_x"], data["T"])
            gg = clv.fit_gamma_gamma(data["x"][spenders], data["monetary"][spenders])
            clv.expected_average_spend(gg, [0.0], [0.0])
        except clv.CLVError as error:
            raise UserError(
                self.env._(
                    "The customer value model of %(company)s cannot be fitted: %(reason)s "
                    "The previous scores are kept.",
                    company=company.name,
                    reason=str(error),
                )
            ) from error
        return self.create(
            {
                "company_id": company.id,
                "date_from": date_from,
                "date_to": date_to,
                "horizon_months": company.crm_clv_horizon_months,
                "discount_rate": company.crm_clv_discount_rate,
                "customer_count": len(data["x"]),
                "repeat_customer_count": int(np.count_nonzero(data["x"])),
                "bgnbd_r": bg.r,
                "bgnbd_alpha": bg.alpha,
                "bgnbd_a": bg.a,
                "bgnbd_b": bg.b,
                "bgnbd_loglik": bg.loglik,
                "gg_p": gg.p,
                "gg_q": gg.q,
                "gg_gamma": gg.gamma,
                "gg_loglik": gg.loglik,
                "rfm_bounds": {
                    "recency": self._quintile_bounds(data["recency_days"]),
                    "frequency": self._quintile_bounds(data["orders"]),
                    "monetary": self._quintile_bounds(data["revenue"]),
                },
                "fit_seconds": time.monotonic() - started,
            }
        )

    @api.model
    def _quintile_bounds(self, values):
        """Upper bound of the first four of five ntile groups (same split as SQL ntile(5))."""
        groups = np.array_split(np.sort(np.asarray(values, dtype=float)), 5)
        return [float(g[-1]) if len(g) else float("inf") for g in groups[:4]]

    def _next_batch_end(self):
        """Partner id closing the next batch of SCORE_BATCH_SIZE customers (None = last)."""
        self.ensure_one()
        facts = self.env["crm.customer.facts"]
        orders = facts._order_rows(
            [self.company_id.id],
            facts._window(self.date_to - timedelta(days=1), date_from=self.date_from),
            partners=lambda column: SQL("%s > %s", column, self.cursor_partner_id),
        )
        rows = self.env.execute_query(
            SQL(
                "SELECT DISTINCT partner_id FROM (%s) AS o ORDER BY 1 OFFSET %s LIMIT 1",
                orders,
                SCORE_BATCH_SIZE - 1,
            )
        )
        return rows[0][0] if rows else None

    def _score_all(self, commit=False):
        """Score the remaining partners batch by batch; finish the run when none is left."""
        self.ensure_one()
        score = self.env["crm.customer.score"]
        if commit:
            self.env["ir.cron"]._commit_progress(
                remaining=max(self.customer_count - self.scored_count, 0)
            )
        while True:
            upper = self._next_batch_end()
            done = score._score_batch(self, self.cursor_partner_id, upper)
            if upper is None:
                break
            self.write({"cursor_partner_id": upper, "scored_count": self.scored_count + done})
            if commit and not self.env["ir.cron"]._commit_progress(done):
                return False
        self.scored_count += done
        self._finish()
        if commit:
            self.env["ir.cron"]._commit_progress(done)
        return True

    def _finish(self):
        """Drop the scores of customers no longer in the window, store averages, close."""
        self.ensure_one()
        self.env.execute_query(
            SQL(
                "DELETE FROM crm_customer_score WHERE company_id = %s AND model_id IS DISTINCT FROM %s",
                self.company_id.id,
                self.id,
            )
        )
        avg, total, alive = self.env.execute_query(
            SQL(
                "SELECT avg(clv), sum(clv), avg(p_alive) FROM crm_customer_score WHERE model_id = %s",
                self.id,
            )
        )[0]
        self.env["crm.customer.score"].invalidate_model()
        self.write(
            {
                "state": "done",
                "avg_clv": avg or 0.0,
                "total_clv": total or 0.0,
                "avg_p_alive": alive or 0.0,
            }
        )

    # ------------------------------------------------------------------------------------------
    # crons

    def _score_then_refresh_propensities(self):
        """The cron's work on this fitted model: score the remaining partners (committing each
        batch), then refresh the propensities. False when the cron ran out of time."""
        self.ensure_one()
        if not self._score_all(commit=True):
            return False
        self.env["crm.customer.propensity"]._refresh(self.company_id, self.date_to, self)
        return True

    @api.model
    def _cron_refresh_scores(self):
        """Per company: resume an interrupted scoring run, or refit once a day."""
        # sudo: the scheduler is the system pipeline (this private method is reachable from no
        # button nor RPC); it writes tables read-only to users, for every company.
        self = self.sudo()
        today = fields.Date.context_today(self)
        for company in self.env["res.company"].search([]):
            model = self.with_company(company)
            running = model.search(
                [("company_id", "=", company.id), ("state", "=", "scoring")], limit=1
            )
            if running:
                if not running._score_then_refresh_propensities():
                    return
                continue
            if model.search_count(
                [("company_id", "=", company.id), ("state", "=", "done"), ("date_to", ">=", today)]
            ) or not self.env["sale.order"].search_count(
                [("company_id", "=", company.id), ("state", "=", "sale")], limit=1
            ):
                continue
            try:
                with self.env.cr.savepoint():
                    fitted = model._prepare_company(company)
            except UserError as error:
                _logger.info("Customer scores of %s not refreshed: %s", company.name, error)
                date_from, date_to = model._data_window(company)
                model.create(
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
            if not fitted._score_then_refresh_propensities():
                return
