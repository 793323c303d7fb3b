from odoo import models


class AccountMove(models.Model):
    """Credit notes reverse points proportionally; paid invoices release pending points."""

    _inherit = "account.move"

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        refunds = posted.filtered(lambda move: move.move_type == "out_refund")
        if refunds:
            # sudo: posting the credit notes checked the accountant's rights on them; the
            # points they take back follow from them, on orders and cards the accountant
            # has no rights to read.
            refunds.sudo()._crm_reverse_refunded_points()
        return posted

    def _crm_reverse_refunded_points(self):
        """Reverse, per sales order, the share of its earned points this credit note refunds."""
        Ledger = self.env["crm.loyalty.ledger"]
        already = {
            source_id
            for (source_id,) in Ledger._read_group(
                [("source_model", "=", "account.move"), ("source_id", "in", self.ids)],
                ["source_id"],
            )
        }
        for refund in self.filtered(lambda move: move.id not in already):
            lines = refund.invoice_line_ids.filtered(
                lambda line: line.sale_line_ids and not line.sale_line_ids.reward_id
            )
            for order, order_lines in lines.grouped(
                lambda line: line.sale_line_ids.order_id[:1]
            ).items():
                base = order._crm_earning_total()
                refunded = sum(order_lines.mapped("price_total"))
                if base <= 0 or refunded <= 0:
                    continue
                cards = order._crm_ledger_cards()
                cards._crm_lock()
                Ledger._reverse_source(
                    order,
                    min(refunded / base, 1.0),
                    reversal_source=refund,
                    include_redeem=False,
                )

    def _invoice_paid_hook(self):
        """Points of orders earned 'when paid' become usable once their invoice is paid."""
        res = super()._invoice_paid_hook()
        # sudo: the payment was registered with the user's rights on these invoices; the
        # points it releases follow from it (see _post)
        invoices = self.sudo().filtered(lambda move: move.move_type == "out_invoice")
        orders = invoices.invoice_line_ids.sale_line_ids.order_id
        if orders:
            Ledger = self.env["crm.loyalty.ledger"].sudo()
            lots = Ledger.search(
                [
                    ("source_model", "=", "sale.order"),
                    ("source_id", "in", orders.ids),
                    ("state", "=", "pending"),
                    ("points", ">", 0),
                    ("program_id.crm_pending_mode", "=", "paid"),
                ]
            )
            if lots:
                lots.card_id._crm_lock()
                Ledger._mature(lots)
        return res
