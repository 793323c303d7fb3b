from odoo import api
from odoo import models


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    @api.model_create_multi
    def create(self, vals_list):
        """A payment can only complete an order that carries a promotion requiring a payment
        method when it uses one of them: any other is refused before the customer pays, whatever
        the route that creates the transaction (shop, customer portal, payment link)."""
        transactions = super().create(vals_list)
        for transaction in transactions.filtered(lambda tx: tx.operation != "refund"):
            transaction.sale_order_ids._crm_check_payment_method(transaction.payment_method_id)
        return transactions
