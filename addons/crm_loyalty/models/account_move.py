from odoo import fields
from odoo import models
from odoo.exceptions import UserError

from ..tools import in_engine


class AccountMove(models.Model):
    """Credit notes reverse points proportionally; paid invoices release pending points;
    the journal entries of the points' liability (IFRS 15) know their program."""

    _inherit = "account.move"

    crm_loyalty_program_id = fields.Many2one(
        "loyalty.program",
        string="Loyalty Program",
        index="btree_not_null",
        readonly=True,
        copy=False,
        help="The loyalty program whose points' liability this entry books.",
    )

    def _crm_check_loyalty_entry(self):
        """The entries of a program's points liability hold its revenue lines: they are
        corrected by posting the program again (a credit note, a new estimate), never reset,
        cancelled or reversed by hand, which would leave the lines without their entry."""
        if any(self.mapped("crm_loyalty_program_id")):
            raise UserError(
                self.env._(
                    "An entry of a loyalty program's liability cannot be reset to draft, "
                    "cancelled or reversed: its revenue lines are booked in it. Correct the "
                    "program's data (a credit note, a new redemption estimate) and post it "
                    "again."
                )
            )

    def write(self, vals):
        if "crm_loyalty_program_id" in vals and not in_engine(self.env):
            raise UserError(
                self.env._("The loyalty program of a journal entry is set by its posting only.")
            )
        return super().write(vals)

    def button_draft(self):
        self._crm_check_loyalty_entry()
        return super().button_draft()

    def button_cancel(self):
        self._crm_check_loyalty_entry()
        return super().button_cancel()

    def _reverse_moves(self, default_values_list=None, cancel=False):
        self._crm_check_loyalty_entry()
        return super()._reverse_moves(default_values_list=default_values_list, cancel=cancel)

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
