from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import UserError
from odoo.tools.i18n import format_list

from ..tools import ENGINE
from ..tools import in_engine
from ..tools import ledger_scope
from .sale_order import COMPLIANCE
from .sale_order import COMPLIANCE_FIELDS


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
    crm_promo_compliance = fields.Selection(
        COMPLIANCE,
        "Promotion Compliance",
        readonly=True,
        copy=False,
        tracking=True,
        index="btree_not_null",
        help="Set when the invoice of an order with a payment-method promotion was paid with "
        "another method.",
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

    def _crm_check_compliance_values(self, vals):
        if COMPLIANCE_FIELDS & set(vals) and not in_engine(self.env):
            raise UserError(
                self.env._(
                    "A promotion's compliance is set by the payment and the accountant's decision only."
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._crm_check_compliance_values(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._crm_check_compliance_values(vals)
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
        res = super().button_cancel()
        self._crm_reopen_promotion_differences()
        return res

    def unlink(self):
        self._crm_reopen_promotion_differences()
        return super().unlink()

    def _crm_reopen_promotion_differences(self):
        """A debit note of a promotion's difference cancelled or deleted bills nothing: its
        order and invoice wait again for the accountant's decision (flagged)."""
        # sudo: the user cancels or deletes these moves with their own rights; the orders and
        # invoices they billed only go back to 'flagged' (no right granted)
        orders = self.env["sale.order"].sudo().search([("crm_promo_debit_note_id", "in", self.ids)])
        if orders:
            with ledger_scope(self.env, ENGINE):
                orders.write(
                    {
                        "crm_promo_compliance": "flagged",
                        "crm_promo_action": "accept",
                        "crm_promo_debit_note_id": False,
                    }
                )
                orders.crm_promo_invoice_id.sudo().write({"crm_promo_compliance": "flagged"})

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
            # sudo (as above): an invoice of an order with a payment-method promotion that was
            # paid with another method is flagged for the accountant
            with ledger_scope(self.env, ENGINE):
                for invoice in invoices:
                    invoice.invoice_line_ids.sale_line_ids.order_id._crm_check_promotion_payment(
                        invoice
                    )
        return res

    def _crm_payments_not_in(self, method_lines, methods):
        """Names of the ways this invoice was paid that are neither one of ``method_lines``
        (journal payment methods) nor, for online payments, one of ``methods``: payments by
        their method, other reconciled entries (a bank statement line) by their journal
        unless it is the journal of one of ``method_lines``. Credit notes are not payments."""
        self.ensure_one()
        names = []
        payments = self._get_reconciled_payments()
        for payment in payments:
            online = payment.payment_transaction_id.payment_method_id
            # a card brand (Visa) counts as its payment method (card), as the shop checks it
            if payment.payment_method_line_id in method_lines or (
                online and (online | online.primary_payment_method_id) & methods
            ):
                continue
            names.append(
                online.name
                or payment.payment_method_line_id.display_name
                or payment.journal_id.name
            )
        partials = self.line_ids.matched_credit_ids
        # exchange differences of a payment in another currency are not a way of paying
        exchange = partials.exchange_move_id
        for counterpart in partials.credit_move_id.move_id:
            if (
                counterpart in payments.move_id
                or counterpart in exchange
                or counterpart.journal_id == self.company_id.currency_exchange_journal_id
                or counterpart.move_type == "out_refund"
            ):
                continue
            if counterpart.journal_id not in method_lines.journal_id:
                names.append(counterpart.journal_id.name)
        return format_list(self.env, list(dict.fromkeys(names))) if names else False
