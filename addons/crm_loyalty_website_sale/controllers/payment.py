from odoo.addons.website_sale_loyalty.controllers.payment import PaymentPortal


class CrmLoyaltyPaymentPortal(PaymentPortal):
    def _validate_transaction_for_order(self, transaction, sale_order):
        """The transaction's method is the one the order is paid with: website_sale_loyalty's
        check that follows re-evaluates the promotions with it and refuses the payment if the
        amount changed (a promotion requiring another method would leave the order)."""
        if sale_order.exists():
            sale_order.crm_payment_method_id = transaction.payment_method_id
        return super()._validate_transaction_for_order(transaction, sale_order)
