from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import UserError

from ..models.crm_credit_override import CREDIT_MANAGER
from ..tools import check_group


class CrmCreditOverrideWizard(models.TransientModel):
    """A credit manager confirms an order the credit check refused, giving the reason."""

    _name = "crm.credit.override.wizard"
    _description = "Override the House Credit Check"

    order_id = fields.Many2one("sale.order", required=True, readonly=True)
    block_reason = fields.Text(related="order_id.crm_credit_block")
    reason = fields.Text("Why", required=True)

    @api.model_create_multi
    def create(self, vals_list):
        """Only a credit manager, for an order they may write (its company included)."""
        check_group(self.env, CREDIT_MANAGER)
        wizards = super().create(vals_list)
        wizards.order_id.check_access("write")
        return wizards

    def action_confirm_order(self):
        self.ensure_one()
        check_group(self.env, CREDIT_MANAGER)
        order = self.order_id
        order.check_access("write")
        reason = (self.reason or "").strip()
        if not reason:
            raise UserError(self.env._("Say why the order is accepted despite the credit check."))
        block = order._crm_credit_block_reason()
        if not block:
            raise UserError(
                self.env._(
                    "%(order)s passes the credit check: confirm it as usual.", order=order.name
                )
            )
        # sudo: the log is append-only for everyone (no write or create right); the caller is
        # a credit manager allowed to write this order (checked above).
        self.env["crm.credit.override"].sudo().create(
            {
                "order_id": order.id,
                "partner_id": order.partner_id.commercial_partner_id.id,
                "company_id": order.company_id.id,
                "currency_id": order.currency_id.id,
                "amount": order.amount_total,
                "user_id": self.env.uid,
                "reason": reason,
                "block_reason": block,
            }
        )
        order.message_post(
            body=self.env._(
                "Credit check overridden by %(user)s: %(reason)s",
                user=self.env.user.name,
                reason=reason,
            )
        )
        order.action_confirm()
        return {"type": "ir.actions.act_window_close"}
