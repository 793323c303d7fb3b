from odoo import Command
from odoo import api
from odoo import fields
from odoo import models

# DEMO DATA ONLY: what the card holders of "Tienda Andina SpA" (crm_relationship demo) do,
# through the flows the ledger records. Card holder (xml id suffix) -> welcome bonus, orders
# ({product: quantity}, paid?), points redeemed at the till, product given back (credit note).
DEMO_CARDS = {
    "ignacio": (1000, [({"parka": 2, "chaqueta": 2}, True)], 500, None),
    "martina": (0, [({"parka": 1, "chaqueta": 1}, True), ({"zapatillas": 1}, False)], 0, None),
    "catalina": (0, [({"polera": 2, "gorro": 1}, True)], 0, "gorro"),
    "benjamin": (1000, [({"jeans": 1, "mochila": 1}, True)], 300, None),
}


class ResCompany(models.Model):
    _inherit = "res.company"

    @api.model
    def _crm_demo_create_store_cards(self, company_id):
        """DEMO DATA ONLY: points of the demo store's cards, earned by orders (pending until
        their invoice is paid), welcome bonuses, redemptions and a return, then the customers'
        metrics refreshed. Called once by demo/crm_loyalty_andina_demo.xml."""
        company = self.browse(company_id)
        store = self.with_company(company).with_context(
            allowed_company_ids=[company.id], tracking_disable=True, mail_notrack=True
        )
        today = fields.Date.context_today(store)
        ref = store.env.ref
        partners = store.env["res.partner"]
        for key, (bonus, orders, redeemed, returned) in DEMO_CARDS.items():
            card = ref(f"crm_loyalty.loyalty_card_andina_{key}_demo")
            partners |= card.partner_id
            if bonus:
                card.crm_adjust_points(bonus, "Bono de bienvenida")
            for basket, paid in orders:
                invoice = store._crm_demo_card_order(card, basket)
                if returned and returned in basket:
                    product = ref(f"crm_relationship.product_andina_{returned}_demo")
                    store._crm_demo_credit_note(invoice, product, today)
                if paid:
                    store._crm_demo_pay(invoice, invoice.amount_residual, today)
            if redeemed:
                card.crm_redeem_points(redeemed, "Canje en caja")
        store.env["crm.customer.metric"]._refresh_metrics(partners.ids, company.ids)

    @api.model
    def _crm_demo_card_order(self, card, basket):
        """DEMO DATA ONLY: a confirmed order of `basket` by the card holder earning points on
        `card`, and its posted invoice."""
        ref = self.env.ref
        order = self.env["sale.order"].create(
            {
                "partner_id": card.partner_id.id,
                "company_id": card.company_id.id,
                "user_id": ref("base.user_admin").id,
                "payment_term_id": ref("account.account_payment_term_30days").id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": ref(f"crm_relationship.product_andina_{key}_demo").id,
                            "product_uom_qty": qty,
                        }
                    )
                    for key, qty in basket.items()
                ],
            }
        )
        order._update_programs_and_rewards()
        order.action_confirm()
        invoice = order._create_invoices()
        invoice.invoice_date = fields.Date.context_today(self)
        invoice.action_post()
        return invoice
