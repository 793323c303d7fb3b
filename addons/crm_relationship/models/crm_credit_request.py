import math

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import UserError
from odoo.exceptions import ValidationError
from odoo.tools.misc import formatLang

from ..tools import check_group
from .crm_credit_override import CREDIT_MANAGER

# Larger than any sensible credit line: a typing mistake (or a forged number), refused.
MAX_CREDIT_LIMIT = 1e12


class CrmCreditRequest(models.Model):
    """A request to extend a customer's credit line, from the portal or the customer form.

    The policy decides it at once where it can (credit granted and the amount within the
    suggested limit: approved; credit denied: refused); otherwise a credit manager reviews it.
    The new limit is written on the customer (Accounting's credit limit), the decision is
    recorded in the customer's credit history, and the customer is told by e-mail.
    """

    _name = "crm.credit.request"
    _description = "Credit Line Request"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "create_date desc, id desc"
    _rec_name = "partner_id"
    _check_company_auto = True

    partner_id = fields.Many2one(
        "res.partner", "Customer", required=True, readonly=True, index=True, tracking=True
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    requested_limit = fields.Monetary(required=True, readonly=True, tracking=True)
    current_limit = fields.Monetary("Limit When Requested", readonly=True)
    reason = fields.Text("Customer's Reason", readonly=True)
    channel = fields.Selection(
        [("portal", "Portal"), ("backoffice", "Back Office")], required=True, readonly=True
    )
    requested_by_id = fields.Many2one("res.users", readonly=True)
    state = fields.Selection(
        [("review", "To Review"), ("approved", "Approved"), ("refused", "Refused")],
        required=True,
        readonly=True,
        default="review",
        tracking=True,
        index=True,
    )
    granted_limit = fields.Monetary(tracking=True)
    decided_by_id = fields.Many2one(
        "res.users", "Decided By", readonly=True, help="Empty: decided by the policy."
    )
    decided_on = fields.Date(readonly=True)
    decision_note = fields.Text()
    policy_decision = fields.Selection(related="decision_id.decision", string="Policy Said")
    decision_id = fields.Many2one("crm.credit.decision", readonly=True)

    @api.model
    def _check_amount(self, amount):
        """The requested or granted amount, or a ValidationError in the user's language."""
        try:
            amount = float(amount)
        except (TypeError, ValueError):
            amount = math.nan
        if not math.isfinite(amount) or amount <= 0 or amount > MAX_CREDIT_LIMIT:
            # the amount as the user writes it ("$ 0", "$ -5.000"), or as it came (nan, 1e+300)
            shown = (
                formatLang(self.env, amount, currency_obj=self.env.company.currency_id)
                if math.isfinite(amount) and abs(amount) < 1e15
                else str(amount)
            )
            raise ValidationError(
                self.env._(
                    "A credit limit must be a positive amount (got %(amount)s).", amount=shown
                )
            )
        return amount

    @api.model
    def _submit(self, partner, company, amount, reason, channel):
        """Create and decide a request for ``partner`` (a commercial partner) in ``company``;
        callers check first that the user may ask for this customer."""
        amount = self._check_amount(amount)
        partner = partner.commercial_partner_id
        current = partner.sudo().with_company(company).credit_limit
        # sudo: requests are created by the policy's flow for customers and salespeople, who
        # may not write the credit history; the caller was checked.
        request = self.sudo().create(
            {
                "partner_id": partner.id,
                "company_id": company.id,
                "requested_limit": amount,
                "current_limit": current,
                "reason": (reason or "").strip() or False,
                "channel": channel,
                "requested_by_id": self.env.uid,
            }
        )
        request._decide_by_policy()
        return request.sudo(False)

    def _decide_by_policy(self):
        """Approve, refuse, or leave for a credit manager's review (with an activity)."""
        self.ensure_one()
        # the customer's facts of today (one customer: cheap), then the policy's decision
        metric = self.env["crm.customer.metric"]._refresh_metrics(
            self.partner_id.ids, self.company_id.ids
        )
        decision, suggested = metric.credit_decision, metric.credit_limit_suggested
        currency = self.currency_id
        if decision == "deny":
            self._close("refused", 0.0, metric, self.env._("Credit denied by the policy."))
        elif decision == "grant" and currency.compare_amounts(self.requested_limit, suggested) <= 0:
            self._close(
                "approved",
                self.requested_limit,
                metric,
                self.env._("Within the limit the policy suggests."),
            )
        else:
            managers = self.env.ref(CREDIT_MANAGER).user_ids.filtered(
                lambda user: user.active and not user.share and self.company_id in user.company_ids
            )
            if managers:
                manager = managers[:1]
                self.activity_schedule(
                    "mail.mail_activity_data_todo",
                    # in the language of the manager who reads it, not of the requester
                    summary=self.with_context(lang=manager.lang).env._(
                        "Decide a credit line request"
                    ),
                    user_id=manager.id,
                )

    def _close(self, state, limit, metric, note, user=None):
        """Record the outcome: the limit on the customer, the decision in the history, the
        e-mail to the customer."""
        self.ensure_one()
        today = fields.Date.context_today(self)
        Decision = self.env["crm.credit.decision"].sudo()
        decision = Decision.create(
            {
                "partner_id": self.partner_id.id,
                "company_id": self.company_id.id,
                "date": today,
                "source": "request",
                "score": metric.credit_score,
                "has_history": metric.credit_has_history,
                "decision": "grant" if state == "approved" else "deny",
                "previous_decision": metric.credit_decision,
                "suggested_limit": metric.credit_limit_suggested,
                "applied_limit": limit if state == "approved" else False,
                "limit_applied": state == "approved",
                "request_id": self.id,
                "user_id": user.id if user else False,
                "note": note,
            }
        )
        if state == "approved":
            Decision._apply_limits([(self.partner_id.id, self.company_id.id, limit)])
        self.sudo().write(
            {
                "state": state,
                "granted_limit": limit if state == "approved" else 0.0,
                "decided_by_id": user.id if user else False,
                "decided_on": today,
                "decision_note": note,
                "decision_id": decision.id,
            }
        )
        self.activity_unlink(["mail.mail_activity_data_todo"])
        template = self.env.ref("crm_relationship.mail_template_credit_request_decided")
        self.sudo().message_post_with_source(template, subtype_xmlid="mail.mt_comment")

    # ------------------------------------------------------------------ manager actions
    def action_approve(self):
        check_group(self.env, CREDIT_MANAGER)
        for request in self:
            request._check_reviewable()
            limit = self._check_amount(request.granted_limit or request.requested_limit)
            request._close(
                "approved",
                limit,
                request._metric(),
                request.decision_note or self.env._("Approved by a credit manager."),
                self.env.user,
            )
        return True

    def action_refuse(self):
        check_group(self.env, CREDIT_MANAGER)
        for request in self:
            request._check_reviewable()
            request._close(
                "refused",
                0.0,
                request._metric(),
                request.decision_note or self.env._("Refused by a credit manager."),
                self.env.user,
            )
        return True

    def _check_reviewable(self):
        self.check_access("write")
        if self.state != "review":
            raise UserError(self.env._("This request was already decided."))

    def _metric(self):
        # sudo: the policy's figures of this request's customer, for a credit manager who may
        # not be a CRM user
        return self.partner_id.sudo().with_company(self.company_id).crm_metric_id

    def write(self, vals):
        """Users (credit managers) only set the granted limit and the note of a request under
        review; the rest moves through the decision flow (which writes as superuser)."""
        if not self.env.su:
            editable = {"granted_limit", "decision_note"}
            changed = {name for name in vals if not name.startswith(("message_", "activity_"))}
            if changed - editable or any(request.state != "review" for request in self):
                raise UserError(
                    self.env._(
                        "Only the granted limit and the note of a request under review can be "
                        "changed; approve or refuse it with the buttons."
                    )
                )
        return super().write(vals)

    @api.constrains("granted_limit")
    def _check_granted_limit(self):
        for request in self:
            if request.granted_limit and (
                not math.isfinite(request.granted_limit)
                or request.granted_limit < 0
                or request.granted_limit > MAX_CREDIT_LIMIT
            ):
                raise ValidationError(self.env._("The granted limit must be a positive amount."))
