from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import UserError
from odoo.tools.misc import formatLang


class SaleOrder(models.Model):
    """House credit at confirmation: an order on credit terms is refused for a customer whose
    credit is denied, or whose receivables plus open orders plus this one exceed the credit
    limit (Accounting's own limit and setting), unless a credit manager overrode it."""

    _inherit = "sale.order"

    crm_credit_block = fields.Text(
        "Credit Check",
        compute="_compute_crm_credit_block",
        help="Why this order cannot be confirmed on credit terms, if it cannot.",
    )
    crm_credit_notice = fields.Text(
        "Credit Notice",
        compute="_compute_crm_credit_block",
        help="What the salesperson should know before selling on credit terms to a customer "
        "whose house credit a credit manager is to review (the order is not blocked).",
    )
    crm_credit_override_ids = fields.One2many(
        "crm.credit.override", "order_id", string="Credit Overrides", readonly=True
    )

    @api.depends("partner_id", "company_id", "payment_term_id", "amount_total", "state")
    def _compute_crm_credit_block(self):
        for order in self:
            block = notice = None
            if order.state in ("draft", "sent"):
                block, notice = order._crm_credit_assessment(with_notice=True)
            order.crm_credit_block = block or False
            order.crm_credit_notice = notice or False

    def _crm_is_immediate(self):
        """The order is paid at once: already paid online (its payment transactions cover it),
        or its payment terms are due the day of the invoice (no terms, or every installment
        due after 0 days)."""
        self.ensure_one()
        # sudo: the transactions of the order are read to know whether it is paid, nothing else
        if self.currency_id.compare_amounts(self.sudo().amount_paid, self.amount_total) >= 0:
            return True
        lines = self.payment_term_id.line_ids
        return all(line.delay_type == "days_after" and not line.nb_days for line in lines)

    def _crm_credit_exposure(self):
        """(receivables + confirmed orders not invoiced + this order, credit limit) of the
        customer in the order's company, in company currency."""
        self.ensure_one()
        # sudo: a salesperson has no Accounting rights on a customer's receivable and credit
        # limit; only this order's customer's figures are read, to decide on this order.
        partner = self.partner_id.commercial_partner_id.sudo().with_company(self.company_id)
        partner.invalidate_recordset(["credit", "credit_to_invoice", "credit_limit"])
        amount = self.amount_total / (self.currency_rate or 1.0)
        return partner.credit + partner.credit_to_invoice + amount, partner.credit_limit

    def _crm_credit_block_reason(self):
        """Why this order may not be confirmed on credit terms, or None."""
        return self._crm_credit_assessment()[0]

    def _crm_credit_assessment(self, with_notice=False):
        """(block, notice) of this order on credit terms, each a sentence or None: why it may
        not be confirmed, and, ``with_notice`` (the form, not the confirmation), what to know
        when the customer's credit is to be reviewed (the policy neither grants nor denies
        it: a credit manager decides on the customer's credit; the limit, if any, applies)."""
        self.ensure_one()
        company = self.company_id
        if not company.account_use_credit_limit or not self.partner_id or self._crm_is_immediate():
            return None, None
        partner = self.partner_id.commercial_partner_id
        currency = company.currency_id
        _ = self.env._
        # sudo: the order's salesperson may not read customer metrics; only the credit
        # decision, score, reasons and suggested limit of this order's customer are read.
        metric = partner.sudo().with_company(company).crm_metric_id

        def reasons():
            return " ".join(metric.with_env(self.env)._credit_reason_lines())

        if metric.credit_decision == "deny":
            block = _(
                "House credit is denied to %(customer)s (credit score %(score)s): %(reasons)s "
                "Choose immediate payment terms, or ask a credit manager to override.",
                customer=partner.display_name,
                score=metric.credit_score,
                reasons=reasons(),
            )
            return block, None
        exposure, limit = self._crm_credit_exposure()
        if limit > 0 and currency.compare_amounts(exposure, limit) > 0:
            block = _(
                "%(customer)s would owe %(exposure)s with this order (receivables, confirmed "
                "orders not invoiced yet and this order), over the credit limit of %(limit)s "
                "by %(excess)s. Choose immediate payment terms, or ask a credit manager to "
                "override.",
                customer=partner.display_name,
                exposure=formatLang(self.env, exposure, currency_obj=currency),
                limit=formatLang(self.env, limit, currency_obj=currency),
                excess=formatLang(self.env, exposure - limit, currency_obj=currency),
            )
            return block, None
        if not with_notice or metric.credit_decision != "review":
            return None, None
        if not metric.credit_has_history:
            notice = _(
                "House credit of %(customer)s is to be reviewed by a credit manager: %(reasons)s",
                customer=partner.display_name,
                reasons=reasons(),
            )
        else:
            notice = _(
                "House credit of %(customer)s is to be reviewed by a credit manager (credit "
                "score %(score)s): %(reasons)s The policy suggests a limit of %(suggested)s; "
                "with this order they would owe %(exposure)s.",
                customer=partner.display_name,
                score=metric.credit_score,
                reasons=reasons(),
                suggested=formatLang(
                    self.env, metric.credit_limit_suggested, currency_obj=currency
                ),
                exposure=formatLang(self.env, exposure, currency_obj=currency),
            )
        return None, notice

    def _crm_credit_overridden(self):
        """A credit manager accepted this order for at least its current total."""
        self.ensure_one()
        # sudo: the override log is not readable by salespeople; only whether this order has
        # one covering its amount is checked.
        overrides = self.sudo().crm_credit_override_ids
        return any(
            self.currency_id.compare_amounts(override.amount, self.amount_total) >= 0
            for override in overrides
        )

    def _crm_check_credit(self):
        for order in self:
            reason = order._crm_credit_block_reason()
            if reason and not order._crm_credit_overridden():
                raise UserError(
                    self.env._(
                        "%(order)s cannot be confirmed: %(reason)s", order=order.name, reason=reason
                    )
                )

    def action_confirm(self):
        self._crm_check_credit()
        return super().action_confirm()

    def action_crm_override_credit(self):
        """Open the override wizard (credit managers; the wizard checks again)."""
        self.ensure_one()
        self.env["crm.credit.override"]._check_credit_manager()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Override the Credit Check"),
            "res_model": "crm.credit.override.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_order_id": self.id},
        }
