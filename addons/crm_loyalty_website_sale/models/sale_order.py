from odoo import fields
from odoo import models
from odoo.exceptions import ValidationError


class SaleOrder(models.Model):
    """A website order is paid online: the payment method the customer picks at the payment
    step decides which promotions that require a payment method apply."""

    _inherit = "sale.order"

    crm_payment_method_id = fields.Many2one(
        "payment.method",
        string="Chosen Payment Method",
        copy=False,
        readonly=True,
        help="The online payment method the customer picked at the payment step of the shop: "
        "promotions that require payment methods apply only when it is one of theirs.",
    )

    def _crm_intended_payment_methods(self):
        """Website orders: the method picked at the payment step (no journal method)."""
        if self.website_id:
            return self.env["account.payment.method.line"], self.crm_payment_method_id
        return super()._crm_intended_payment_methods()

    def _crm_set_payment_method(self, payment_method):
        """Record the method the customer will pay with, then re-evaluate the promotions: those
        that require another method leave the order, those that require this one join it."""
        self.ensure_one()
        self.crm_payment_method_id = payment_method
        self._update_programs_and_rewards()
        self._auto_apply_rewards()

    def _crm_check_payment_method(self, payment_method):
        """Refuse to pay these orders with `payment_method` when one carries a promotion that
        requires another payment method (ValidationError naming the promotion)."""
        methods = payment_method | payment_method.primary_payment_method_id
        for order in self:
            for program in order.order_line.reward_id.program_id:
                if program.crm_payment_restricted and not (
                    methods & program.crm_payment_method_ids
                ):
                    raise ValidationError(
                        self.env._(
                            "The promotion %(promotion)s of order %(order)s applies only when "
                            "paying %(label)s. Choose that payment method, or refresh the page "
                            "to pay without the promotion.",
                            promotion=program.name,
                            order=order.name,
                            label=program.crm_payment_label,
                        )
                    )
