import logging
import re
import time

import numpy as np
from dateutil.relativedelta import relativedelta

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools.misc import format_datetime
from odoo.tools.misc import formatLang

from odoo.addons.crm_analytics.lib import clv
from odoo.addons.crm_analytics.lib import validation

# A number as lib/clv writes it in its messages: "1,234", "0.25", "3.2e-05".
ENGLISH_NUMBER = re.compile(r"[-+]?\d[\d,]*(\.\d+)?(e[-+]?\d+)?")

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
    model_kind = fields.Selection(
        [("bgnbd", "BG/NBD"), ("mbgnbd", "MBG/NBD")],
        "Purchase Model",
        default="bgnbd",
        help="The purchase model chosen on the holdout: BG/NBD, or MBG/NBD in which a customer "
        "may also stop right after the first purchase.",
    )
    bgnbd_r = fields.Float("r", digits=(16, 6))
    bgnbd_alpha = fields.Float("alpha", digits=(16, 6))
    bgnbd_a = fields.Float("a", digits=(16, 6))
    bgnbd_b = fields.Float("b", digits=(16, 6))
    bgnbd_loglik = fields.Float("Purchase Model Log-likelihood", digits=(16, 2))
    diagnostics_data = fields.Json(help="The fit warnings as lib/clv made them (to translate).")
    diagnostics = fields.Text(
        "Fit Warnings",
        compute="_compute_diagnostics",
        help="Reasons not to trust the fit (degenerate or unstable parameters).",
    )
    # holdout validation: fitted on the window up to holdout_months ago, judged on the rest
    holdout_months = fields.Integer("Holdout (months)")
    holdout_customers = fields.Integer("Customers Validated")
    holdout_predicted = fields.Float(
        "Predicted Purchases", digits=(16, 0), help="Purchases the model predicted for the holdout."
    )
    holdout_actual = fields.Float(
        "Actual Purchases", digits=(16, 0), help="Purchases the customers made in the holdout."
    )
    holdout_error = fields.Float(
        "Purchase Forecast Error", digits=(16, 3), help="(predicted - actual) / actual."
    )
    holdout_churned_share = fields.Float(
        "Customers Who Did Not Buy", digits=(16, 3), help="Share of the validated customers."
    )
    model_auc = fields.Float(
        "Model Churn AUC",
        digits=(16, 2),
        help="How well the model ranked the customers who bought nothing in the holdout "
        "(0.5 = chance, 1 = perfect).",
    )
    naive_auc = fields.Float(
        "Simple Rule Churn AUC",
        digits=(16, 2),
        help="The same for the simple rule: days since the last purchase divided by the "
        "customer's usual gap between purchases.",
    )
    churn_source = fields.Selection(
        [("model", "Model"), ("naive", "Simple rule")],
        "Churn Risk From",
        default="naive",
        help="Churn risk comes from the model only when it ranked churners better than the "
        "simple rule on the holdout.",
    )
    naive_intercept = fields.Float(digits=(16, 6))
    naive_slope = fields.Float(digits=(16, 6))
    candidates = fields.Json("Candidate Models")
    validation_summary = fields.Text(compute="_compute_validation_summary")
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

    @api.depends("diagnostics_data")
    @api.depends_context("lang")
    def _compute_diagnostics(self):
        for fit in self:
            fit.diagnostics = "\n".join(
                fit._clv_message(clv.Message(note["template"], **note["values"]))
                for note in fit.diagnostics_data or []
            )

    def _clv_message(self, message):
        """A sentence of lib/clv in the user's language, its numbers (written the English way
        by lib/clv: "1,234.5") with the language's separators."""
        if isinstance(message, clv.Message):
            values = {key: self._localize_number(value) for key, value in message.values.items()}
            return self.env._(message.template, **values)
        return str(message)

    def _localize_number(self, value):
        """``value`` with the separators of the user's language when it is a number written
        the English way, else unchanged."""
        if not isinstance(value, str) or not ENGLISH_NUMBER.fullmatch(value):
            return value
        lang = self.env["res.lang"]._get_data(code=self.env.lang or "en_US")
        if not lang:
            return value
        return value.translate(
            str.maketrans({",": lang.thousands_sep or "", ".": lang.decimal_point})
        )

    @api.depends(
        "holdout_months",
        "holdout_predicted",
        "holdout_actual",
        "model_auc",
        "naive_auc",
        "churn_source",
        "model_kind",
    )
    @api.depends_context("lang")
    def _compute_validation_summary(self):
        _ = self.env._
        for fit in self:
            if not fit.holdout_months or not fit.holdout_customers:
                fit.validation_summary = _(
                    "Not validated: there was not enough history before the holdout. Churn "
                    "risk comes from the simple rule (days since the last purchase divided by "
                    "the customer's usual gap)."
                )
                continue
            lines = [
                _(
                    "Fitted on the data up to %(months)s months ago and tested on the last "
                    "%(months)s months (%(customers)s customers): it predicted %(predicted)s "
                    "purchases, there were %(actual)s.",
                    months=fit.holdout_months,
                    customers=fit.holdout_customers,
                    predicted=formatLang(self.env, fit.holdout_predicted, digits=0),
                    actual=formatLang(self.env, fit.holdout_actual, digits=0),
                )
            ]
            if fit.model_auc and fit.naive_auc:
                lines.append(
                    _(
                        "Finding the customers who then bought nothing: the model scores "
                        "%(model)s, the simple rule %(naive)s (0.5 = chance, 1 = perfect).",
                        model=formatLang(self.env, fit.model_auc, digits=2),
                        naive=formatLang(self.env, fit.naive_auc, digits=2),
                    )
                )
            if fit.churn_source == "model":
                lines.append(_("Churn risk comes from the model."))
            else:
                lines.append(
                    _(
                        "The model does not beat the simple rule: the churn risk shown comes "
                        "from the rule (days since the last purchase divided by the customer's "
                        "usual gap). Lifetime values still come from the model."
                    )
                )
            fit.validation_summary = "\n".join(lines)

    @api.depends("company_id", "fit_date")
    @api.depends_context("lang", "tz")
    def _compute_display_name(self):
        for model in self:
            # the fit's time as the user reads it (language and time zone), not the stored UTC;
            # the day as the other dates of the screen read it ("2 dic 2026", not "02-12-26")
            when = format_datetime(self.env, model.fit_date, dt_format="d MMM y, HH:mm")
            model.display_name = f"{model.company_id.name} {when}".strip()

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

    def _purchase_fit(self):
        """The stored purchase model (BG/NBD or MBG/NBD) as a lib/clv fit."""
        self.ensure_one()
        return clv.make_purchase_fit(
            self.model_kind or "bgnbd",
            self.bgnbd_r,
            self.bgnbd_alpha,
            self.bgnbd_a,
            self.bgnbd_b,
            loglik=self.bgnbd_loglik,
            n_customers=self.customer_count,
        )

    def _naive_calibration(self):
        """The simple churn rule's calibration on the holdout (None when not validated)."""
        self.ensure_one()
        if not self.holdout_customers or not (self.naive_slope or self.naive_intercept):
            return None
        return validation.NaiveCalibration(intercept=self.naive_intercept, slope=self.naive_slope)

    def _churn_weeks(self):
        """Churn risk is the probability of no purchase in this many weeks (the holdout's
        length, or 6 months without one)."""
        return (self.holdout_months or 6) * clv.DAYS_PER_MONTH / 7.0

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
        data = score._read_summary(company, date_from, date_to)
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
        validated = self._validate_on_holdout(company, date_from, date_to)
        kind = validated.get("model_kind", "mbgnbd")
        spenders = data["monetary"] > 0
        try:
            purchase = clv.fit_purchase_model(
                kind, data["x"], data["t_x"], data["T"], prior=clv.WEAK_PURCHASE_PRIOR
            )
            gg = clv.fit_gamma_gamma(
                data["x"][spenders], data["monetary"][spenders], prior=clv.WEAK_SPEND_PRIOR
            )
            clv.expected_average_spend(gg, [0.0], [0.0])
        except clv.CLVError as error:
            raise UserError(
                self.env._(
                    "The customer value model of %(company)s cannot be fitted: %(reason)s "
                    "The previous scores are kept.",
                    company=company.name,
                    reason=self._clv_message(error.args[0]),
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
                "model_kind": kind,
                "bgnbd_r": purchase.r,
                "bgnbd_alpha": purchase.alpha,
                "bgnbd_a": purchase.a,
                "bgnbd_b": purchase.b,
                "bgnbd_loglik": purchase.loglik,
                "diagnostics_data": [
                    {"template": note.template, "values": note.values}
                    for note in (*purchase.diagnostics, *gg.diagnostics)
                    if isinstance(note, clv.Message)
                ],
                **validated,
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
    def _validate_on_holdout(self, company, date_from, date_to):
        """Fit the candidate purchase models on [date_from, date_to - holdout), judge them on
        the holdout (the last ``crm_clv_holdout_months`` months) and return the fit's
        validation values: the chosen model, its forecast of purchases against the actual
        ones, its churn AUC next to the simple rule's, where churn risk comes from. Empty (not
        validated) when the history before the holdout cannot support a fit."""
        months = company.crm_clv_holdout_months
        cut = date_to - relativedelta(months=months)
        if cut <= date_from:
            return {}
        score = self.env["crm.customer.score"]
        data = score._read_summary(company, date_from, cut)
        if data is None:
            return {}
        facts = self.env["crm.customer.facts"]
        rows = self.env.execute_query(
            facts._facts_query(
                ["purchase_days"],
                [company.id],
                facts._window(date_to - relativedelta(days=1), date_from=cut),
                partners=lambda column: SQL("%s = ANY(%s)", column, data["partner_id"].tolist()),
                keys="orders",
            )
        )
        holdout = {partner_id: days for partner_id, _company_id, days in rows}
        bought = np.array([holdout.get(p, 0) for p in data["partner_id"].tolist()], dtype=float)
        weeks = (date_to - cut).days / 7.0
        try:
            selection = validation.select_model(data["x"], data["t_x"], data["T"], bought, weeks)
        except clv.CLVError as error:
            _logger.info("Holdout validation of %s skipped: %s", company.name, error)
            return {}
        best = selection.best
        if best is None:
            return {}
        calibration = selection.naive_calibration
        return {
            "model_kind": best.kind,
            "holdout_months": months,
            "holdout_customers": best.n_customers,
            "holdout_predicted": best.predicted_purchases,
            "holdout_actual": best.actual_purchases,
            "holdout_error": best.purchase_error or 0.0,
            "holdout_churned_share": best.churned_share,
            "model_auc": best.auc or 0.0,
            "naive_auc": selection.naive_auc or 0.0,
            "churn_source": selection.churn_source,
            "naive_intercept": calibration.intercept if calibration else 0.0,
            "naive_slope": calibration.slope if calibration else 0.0,
            "candidates": [
                {
                    "kind": candidate.kind,
                    "auc": candidate.auc,
                    "purchase_error": candidate.purchase_error,
                    "predicted": candidate.predicted_purchases,
                }
                for candidate in selection.candidates
            ]
            + [{"kind": kind, "failed": message} for kind, message in selection.failures],
        }

    @api.model
    def _quintile_bounds(self, values):
        """Upper bound of the first four of five ntile groups (same split as SQL ntile(5))."""
        groups = np.array_split(np.sort(np.asarray(values, dtype=float)), 5)
        return [float(g[-1]) if len(g) else float("inf") for g in groups[:4]]
