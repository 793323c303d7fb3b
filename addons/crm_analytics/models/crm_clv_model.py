import logging
import time

import numpy as np
from dateutil.relativedelta import relativedelta

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import AccessError
from odoo.exceptions import UserError

from odoo.addons.crm_analytics.lib import clv

_logger = logging.getLogger(__name__)


class CrmClvModel(models.Model):
    """One fit of the customer value models of a company.

    A fit stores the purchase model's and Gamma-Gamma's parameters, their log-likelihoods, the
    data window, the RFM quintile boundaries and how far the scores computed with it have got
    (``cursor_partner_id``, so that an interrupted scoring resumes there). The steps that fit,
    score and refresh the rest are run by crm.analytics.scheduler.
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
        model = self.env["crm.analytics.scheduler"].sudo()._refresh_company(company)
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
    def _data_window(self, company, as_of=None):
        """[date_from, date_to) of a fit made on ``as_of`` (default today): the sales before
        that day."""
        date_to = fields.Date.to_date(as_of) or fields.Date.context_today(self)
        return date_to - relativedelta(months=company.crm_analytics_window_months), date_to

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
