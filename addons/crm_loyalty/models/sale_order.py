import datetime

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.fields import Domain
from odoo.tools import float_round
from odoo.tools.i18n import format_list
from odoo.tools.translate import LazyTranslate

from ..tools import ENGINE
from ..tools import MANAGED
from ..tools import RECORD
from ..tools import in_engine
from ..tools import ledger_scope

_lt = LazyTranslate(__name__)

COMPLIANCE = [
    ("flagged", "Paid With Another Method"),
    ("billed", "Difference Billed"),
    ("accepted", "Difference Accepted"),
]
# set by the payment check and the accountant's decision only (see write)
COMPLIANCE_FIELDS = frozenset(
    {
        "crm_promo_compliance",
        "crm_promo_difference",
        "crm_promo_paid_with",
        "crm_promo_action",
        "crm_promo_invoice_id",
        "crm_promo_debit_note_id",
        "crm_promo_accepted_by_id",
        "crm_promo_accepted_on",
        "crm_required_payment_line_ids",
        "crm_required_payment_method_ids",
    }
)


class SaleOrder(models.Model):
    """Sales orders feed the points ledger: earn and redeem on confirmation, reverse on
    cancellation; tier multipliers and tier-only rewards apply while the order is built."""

    _inherit = "sale.order"

    crm_required_payment_line_ids = fields.Many2many(
        "account.payment.method.line",
        "crm_sale_order_required_payment_line_rel",
        "order_id",
        "line_id",
        string="Promotion Payment Methods",
        readonly=True,
        copy=False,
        help="Payment methods the order's promotions required when it was confirmed: the order "
        "keeps them when a promotion changes later.",
    )
    crm_required_payment_method_ids = fields.Many2many(
        "payment.method",
        "crm_sale_order_required_payment_method_rel",
        "order_id",
        "method_id",
        string="Promotion Online Payment Methods",
        readonly=True,
        copy=False,
    )
    crm_promo_compliance = fields.Selection(
        COMPLIANCE,
        "Promotion Compliance",
        readonly=True,
        copy=False,
        tracking=True,
        index="btree_not_null",
    )
    crm_promo_difference = fields.Monetary(
        "Promotion Difference",
        readonly=True,
        copy=False,
        help="Discount of the order's payment-method promotions that its payment did not "
        "entitle the customer to.",
    )
    crm_promo_paid_with = fields.Char("Paid With", readonly=True, copy=False)
    crm_promo_action = fields.Selection(
        [("debit_note", "Bill the difference"), ("accept", "Wait for an accountant")],
        "Action When Paid Otherwise",
        readonly=True,
        copy=False,
        help="The promotion's action when the order was flagged.",
    )
    crm_promo_invoice_id = fields.Many2one(
        "account.move", "Invoice Paid Otherwise", readonly=True, copy=False
    )
    crm_promo_debit_note_id = fields.Many2one(
        "account.move", "Debit Note", readonly=True, copy=False
    )
    crm_promo_accepted_by_id = fields.Many2one(
        "res.users", "Accepted By", readonly=True, copy=False
    )
    crm_promo_accepted_on = fields.Datetime("Accepted On", readonly=True, copy=False)
    crm_promo_label = fields.Char(
        "Promotion Conditions",
        compute="_compute_crm_promo_label",
        help="Payment methods the promotions applied on the order require.",
    )

    @api.depends("order_line.reward_id", "crm_required_payment_line_ids")
    def _compute_crm_promo_label(self):
        for order in self:
            programs = order.order_line.reward_id.program_id.filtered("crm_payment_restricted")
            labels = [
                program.name
                if program._crm_names_its_payment()
                else f"{program.name} ({program.crm_payment_label})"
                for program in programs
            ]
            order.crm_promo_label = format_list(self.env, labels) if labels else False

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._crm_check_compliance_values(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._crm_check_compliance_values(vals)
        res = super().write(vals)
        # the promotions that hold depend on the intended payment method (which follows the
        # customer) and the sales team: a change re-evaluates them (rewards no longer allowed
        # are removed)
        if {"preferred_payment_method_line_id", "team_id", "partner_id"} & set(vals):
            for order in self.filtered(lambda order: order.state in ("draft", "sent")):
                if order.order_line.reward_id:
                    order._update_programs_and_rewards()
        return res

    def _crm_check_compliance_values(self, vals):
        """The methods an order's promotions required and its compliance are written by its
        confirmation, its payment and the accountant's decision only, never by a client
        (create, copy and write alike)."""
        if COMPLIANCE_FIELDS & set(vals) and not in_engine(self.env):
            raise UserError(
                self.env._(
                    "The payment methods an order's promotions required and its compliance are "
                    "set by its confirmation, its payment and the accountant's decision only."
                )
            )

    def _crm_intended_payment_methods(self):
        """(journal payment methods, online payment methods) the order is to be paid with:
        in the back office, the payment method the salesperson chose on the quotation."""
        self.ensure_one()
        return self.preferred_payment_method_line_id, self.env["payment.method"]

    def _crm_promotion_domain(self, prefix=""):
        """Promotions that hold for this order's payment method and sales team: a program that
        requires payment methods holds only when the order is to be paid with one of them,
        one restricted to sales teams only on their orders."""
        lines, methods = self._crm_intended_payment_methods()
        return Domain.AND(
            [
                Domain(f"{prefix}crm_payment_restricted", "=", False)
                | Domain(f"{prefix}crm_payment_method_line_ids", "in", lines.ids)
                | Domain(f"{prefix}crm_payment_method_ids", "in", methods.ids),
                Domain(f"{prefix}crm_team_ids", "=", False)
                | Domain(f"{prefix}crm_team_ids", "in", self.team_id.ids),
            ]
        )

    def _get_program_domain(self):
        # a list, as website_sale_loyalty's override edits the domain it receives leaf by leaf
        return [*super()._get_program_domain(), *self._crm_promotion_domain()]

    def _get_trigger_domain(self):
        return [*super()._get_trigger_domain(), *self._crm_promotion_domain("program_id.")]

    def _crm_ledger_cards(self):
        """Ledger-tracked cards this order earns on or redeems from."""
        cards = self.coupon_point_ids.coupon_id | self.order_line.coupon_id
        return cards.filtered("program_id.crm_ledger")

    def action_confirm(self):
        to_confirm = self.filtered(lambda order: order.state != "sale")
        cards = to_confirm._crm_ledger_cards()
        # Serialise redemptions of the same card: a second transaction fails at once.
        cards._crm_lock()
        with ledger_scope(self.env, MANAGED):
            res = super().action_confirm()
        for order in to_confirm:
            order._crm_post_confirmation_entries()
            order._crm_keep_required_payment()
        (cards | to_confirm._crm_ledger_cards())._crm_sync_points()
        return res

    def _crm_keep_required_payment(self):
        """The payment methods the order's promotions require, as they are at confirmation:
        a promotion changed later applies to future orders, this one keeps its conditions."""
        self.ensure_one()
        programs = self.order_line.reward_id.program_id.filtered("crm_payment_restricted")
        if not programs and not (
            self.crm_required_payment_line_ids or self.crm_required_payment_method_ids
        ):
            return
        with ledger_scope(self.env, ENGINE):
            self.write(
                {
                    "crm_required_payment_line_ids": [
                        Command.set(programs.crm_payment_method_line_ids.ids)
                    ],
                    "crm_required_payment_method_ids": [
                        Command.set(programs.crm_payment_method_ids.ids)
                    ],
                }
            )

    def _crm_promotion_lines(self):
        """Reward lines of the order's payment-method promotions."""
        return self.order_line.filtered(
            lambda line: line.reward_id.program_id.crm_payment_restricted
        )

    def _crm_required_payment(self):
        """(journal methods, online methods) the order's promotions require: those kept at
        confirmation, and those of a promotion added to the confirmed order since."""
        self.ensure_one()
        programs = self._crm_promotion_lines().reward_id.program_id
        return (
            self.crm_required_payment_line_ids | programs.crm_payment_method_line_ids,
            self.crm_required_payment_method_ids | programs.crm_payment_method_ids,
        )

    def _crm_check_promotion_payment(self, invoice):
        """Called when ``invoice`` of these confirmed orders is paid: an order whose promotions
        required payment methods, and whose invoice that carries their discount was paid
        otherwise (any part of it), is flagged, never silently."""
        invoiced = invoice.invoice_line_ids.sale_line_ids
        for order in self.filtered(lambda order: not order.crm_promo_compliance):
            lines, methods = order._crm_required_payment()
            if not (lines or methods) or not (invoiced & order._crm_promotion_lines()):
                continue
            other = invoice._crm_payments_not_in(lines, methods)
            if other:
                order._crm_flag_promotion(invoice, other)

    def _crm_flag_promotion(self, invoice, paid_with):
        """Flag the order and its invoice, give the accountant an activity, and apply the
        promotion's configured action."""
        self.ensure_one()
        lines = self._crm_promotion_lines()
        difference = sum(self._crm_promotion_value(line) for line in lines)
        programs = lines.reward_id.program_id
        action = (
            "debit_note" if "debit_note" in programs.mapped("crm_compliance_action") else "accept"
        )
        self.write(
            {
                "crm_promo_compliance": "flagged",
                "crm_promo_difference": difference,
                "crm_promo_paid_with": paid_with,
                "crm_promo_action": action,
                "crm_promo_invoice_id": invoice.id,
            }
        )
        invoice.write({"crm_promo_compliance": "flagged"})
        user = self._crm_compliance_user()
        self.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=self.env._("Promotion paid with another method"),
            note=self.env._(
                "%(order)s used %(programs)s but invoice %(invoice)s was paid with %(paid)s: "
                "%(amount)s of discount at stake.",
                order=self.name,
                programs=format_list(self.env, programs.mapped("name")),
                invoice=invoice.name,
                paid=paid_with,
                amount=self.currency_id.format(difference),
            ),
            user_id=user.id,
        )
        if action == "debit_note":
            # not here: the payment's reconciliation is still running, and an invoice created
            # inside it gets no receivable line (account's recursion guard); the scheduled
            # action bills it right after, in its own transaction
            self.env.ref("crm_loyalty.ir_cron_bill_promotion_differences")._trigger()

    def _crm_compliance_user(self):
        """The accountant who gets the compliance activity: the invoice's salesperson is not
        one; an accounting adviser of the order's company, else the order's salesperson."""
        advisers = (
            self.env.ref("account.group_account_manager")
            .sudo()
            .all_user_ids.filtered(
                lambda user: not user.share and self.company_id in user.company_ids
            )
        )
        return (advisers.sorted("id")[:1] or self.user_id or self.env.user).sudo(False)

    def _crm_promotion_value(self, line):
        """What a reward line of a promotion gave, taxes included: its discount, or the price
        of the gift (a free product is its price less a 100 % discount)."""
        if line.reward_id.reward_type == "product":
            return line.tax_ids.compute_all(
                line.price_unit, line.currency_id, line.product_uom_qty, line.product_id
            )["total_included"]
        return -line.price_total

    def _crm_bill_promotion_difference(self, automatic=False):
        """A draft debit note on the flagged invoice for what the promotions the payment did
        not entitle the customer to gave (the accountant checks and posts it). ``automatic``
        (the scheduled action): only the promotions whose action is to bill; the others wait
        for the accountant's decision."""
        self.ensure_one()
        invoice = self.crm_promo_invoice_id
        lines = self._crm_promotion_lines()
        if automatic:
            lines = lines.filtered(
                lambda line: line.reward_id.program_id.crm_compliance_action == "debit_note"
            )
        debit_note = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": invoice.partner_id.id,
                "company_id": invoice.company_id.id,
                "journal_id": invoice.journal_id.id,
                "currency_id": invoice.currency_id.id,
                "debit_origin_id": invoice.id,
                "invoice_origin": self.name,
                "ref": self.env._(
                    "Promotion not applicable: %(order)s paid with %(paid)s",
                    order=self.name,
                    paid=self.crm_promo_paid_with,
                ),
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": line.product_id.id,
                            "name": self.env._(
                                "%(promotion)s: paid with %(paid)s",
                                promotion=line.name,
                                paid=self.crm_promo_paid_with,
                            ),
                            "quantity": line.product_uom_qty,
                            # a gift is billed at its price, a discount by its amount
                            "price_unit": abs(line.price_unit),
                            "discount": 0.0
                            if line.reward_id.reward_type == "product"
                            else line.discount,
                            "tax_ids": [Command.set(line.tax_ids.ids)],
                        }
                    )
                    for line in lines
                ],
            }
        )
        self.write({"crm_promo_compliance": "billed", "crm_promo_debit_note_id": debit_note.id})
        invoice.write({"crm_promo_compliance": "billed"})
        return debit_note

    def _crm_check_compliance_access(self):
        if not self.env.user.has_group("account.group_account_invoice"):
            raise AccessError(
                self.env._("Only accountants decide on a promotion paid with another method.")
            )
        if self.filtered(lambda order: order.crm_promo_compliance != "flagged"):
            raise UserError(
                self.env._(
                    "Only orders flagged as paid with another method wait for this decision."
                )
            )
        if self.filtered(lambda order: order.user_id == self.env.user):
            raise AccessError(
                self.env._(
                    "The salesperson of an order does not decide on its own promotion: "
                    "another accountant does."
                )
            )

    def action_crm_accept_promotion_difference(self):
        """The accountant accepts the discount given although the payment did not entitle the
        customer to it; who and when are recorded."""
        self._crm_check_compliance_access()
        now = fields.Datetime.now()
        # sudo: checked above (an accountant deciding on flagged orders); the fields are
        # read-only in the views so that nobody else sets them.
        with ledger_scope(self.env, ENGINE):
            self.sudo().write(
                {
                    "crm_promo_compliance": "accepted",
                    "crm_promo_accepted_by_id": self.env.uid,
                    "crm_promo_accepted_on": now,
                }
            )
            self.crm_promo_invoice_id.sudo().write({"crm_promo_compliance": "accepted"})
        self.activity_feedback(
            ["mail.mail_activity_data_todo"],
            feedback=self.env._("Difference accepted by %s", self.env.user.name),
        )
        return True

    def action_crm_bill_promotion_difference(self):
        """The accountant bills the difference on a draft debit note."""
        if not self:
            return False
        self._crm_check_compliance_access()
        debit_notes = self.env["account.move"]
        with ledger_scope(self.env, ENGINE):
            for order in self:
                debit_notes |= order._crm_bill_promotion_difference()
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "view_mode": "form" if len(debit_notes) == 1 else "list,form",
            "res_id": debit_notes[:1].id,
            "domain": [("id", "in", debit_notes.ids)],
            "name": self.env._("Debit Notes"),
        }

    def _crm_earning_total(self):
        """What the customer paid for goods, rewards (discounts) excluded: points are earned
        on it and refunds reverse them in proportion to it."""
        self.ensure_one()
        return sum(self.order_line.filtered(lambda line: not line.reward_id).mapped("price_total"))

    def _crm_post_confirmation_entries(self):
        """Earn (pending or available) and redeem entries of a just-confirmed order."""
        self.ensure_one()
        Ledger = self.env["crm.loyalty.ledger"]
        total = self._crm_earning_total()
        for coupon_point in self.coupon_point_ids:
            card = coupon_point.coupon_id
            if not card.program_id.crm_ledger or coupon_point.points <= 0:
                continue
            program = card.program_id
            # Amount spent in the program's currency: tier thresholds are expressed in it.
            amount = self.currency_id._convert(
                total, program.currency_id, self.company_id, self.date_order.date()
            )
            state = "available" if program.crm_pending_mode == "none" else "pending"
            mature_date = False
            if program.crm_pending_mode == "window":
                mature_date = self.date_order.date() + datetime.timedelta(
                    days=program.crm_pending_days
                )
            Ledger._post_entry(
                card,
                "earn",
                coupon_point.points,
                source=self,
                state=state,
                mature_date=mature_date,
                amount=amount,
                reason=_lt("Purchase %s", self.name),
            )
        costs = {}
        # the points rewards cost, as Odoo counts them (reward lines only)
        for line in self.order_line.filtered(
            lambda line: line.reward_id and line.coupon_id and line.points_cost > 0
        ):
            costs[line.coupon_id] = costs.get(line.coupon_id, 0.0) + line.points_cost
        for card, cost in costs.items():
            if card.program_id.crm_ledger:
                Ledger._post_entry(
                    card,
                    "redeem",
                    -cost,
                    source=self,
                    reason=_lt("Reward on %s", self.name),
                )

    def _crm_line_scope(self):
        """Scope of a change of reward lines on these orders: the points Odoo gives back or
        takes on a confirmed order are recorded as reversals or redemptions of the order."""
        return ledger_scope(
            self.env,
            RECORD,
            kind=("reverse", "redeem"),
            reason=_lt("Reward changed on %s", ", ".join(self.mapped("name"))),
            source=self if len(self) == 1 else None,
        )

    def _crm_check_reward_values(self, vals):
        """Points a reward line costs are never negative, and a ledger card pays only for its
        own customer's orders (a JSON-RPC caller may send any line values)."""
        if vals.get("points_cost"):
            try:
                negative = float(vals["points_cost"]) < 0
            except (TypeError, ValueError):
                negative = True
            if negative:
                raise UserError(self.env._("The points a reward costs cannot be negative."))
        if vals.get("coupon_id"):
            card = self.env["loyalty.card"].browse(vals["coupon_id"]).exists()
            customers = self.partner_id.commercial_partner_id
            if (
                card.program_id.crm_ledger
                and card.partner_id
                and card.partner_id.commercial_partner_id not in customers
            ):
                raise UserError(
                    self.env._(
                        "The card %(card)s belongs to %(owner)s: it cannot pay rewards of an "
                        "order of another customer.",
                        card=card.code,
                        owner=card.partner_id.display_name,
                    )
                )

    def _update_loyalty_history(self, coupon_id, points):
        """A reward line added to a confirmed order: its redemption gets the order as source."""
        res = super()._update_loyalty_history(coupon_id, points)
        if coupon_id.program_id.crm_ledger:
            self.env["crm.loyalty.ledger"]._attach_source(coupon_id, self)
        return res

    def _action_cancel(self):
        confirmed = self.filtered(lambda order: order.state == "sale")
        cards = confirmed._crm_ledger_cards()
        cards._crm_lock()
        with ledger_scope(self.env, MANAGED):
            res = super()._action_cancel()
        if confirmed:
            self.env["crm.loyalty.ledger"]._reverse_source(confirmed)
            cards._crm_sync_points()
        return res

    def _program_check_compute_points(self, programs):
        """Apply the partner's tier multiplier to the points of ledger programs."""
        result = super()._program_check_compute_points(programs)
        tiered = programs.filtered(lambda p: p.crm_ledger and p.crm_tier_ids)
        if not tiered or not self.partner_id:
            return result
        cards = self.env["loyalty.card"].search(
            [
                ("partner_id", "=", self.partner_id.id),
                ("program_id", "in", tiered.ids),
                ("crm_tier_id", "!=", False),
            ]
        )
        # sudo: the tier's multiplier of cards the user may read; a salesperson building the
        # order has no Loyalty Points rights on tiers, and the multiplier is part of the price.
        factors = {card.program_id: card.sudo()._crm_tier_multiplier() for card in cards}
        for program, values in result.items():
            factor = factors.get(program, 1.0)
            if factor != 1.0 and "points" in values:
                values["points"] = [
                    float_round(points * factor, precision_digits=2, rounding_method="DOWN")
                    for points in values["points"]
                ]
        return result

    def _get_claimable_rewards(self, forced_coupons=None):
        """Hide rewards reserved to a tier the card has not reached."""
        result = super()._get_claimable_rewards(forced_coupons=forced_coupons)
        for coupon in list(result):
            # sudo: the tiers of a card the order may use (see _program_check_compute_points)
            # back in the caller's environment (the shop works on the cart in sudo)
            allowed = (
                coupon.sudo()._crm_filter_tier_rewards(result[coupon]).with_env(result[coupon].env)
            )
            if allowed:
                result[coupon] = allowed
            else:
                del result[coupon]
        return result


class SaleOrderLine(models.Model):
    """Reward lines added, changed or removed on a confirmed order move the card's points
    (Odoo does it in sale_loyalty): the ledger records each move under the order."""

    _inherit = "sale.order.line"

    @api.model_create_multi
    def create(self, vals_list):
        Order = self.env["sale.order"]
        for vals in vals_list:
            if vals.get("points_cost") or vals.get("coupon_id"):
                Order.browse(vals.get("order_id"))._crm_check_reward_values(vals)
        orders = Order.browse({vals["order_id"] for vals in vals_list if vals.get("order_id")})
        with orders._crm_line_scope():
            return super().create(vals_list)

    def write(self, vals):
        if vals.get("points_cost") or vals.get("coupon_id"):
            self.order_id._crm_check_reward_values(vals)
        with self.order_id._crm_line_scope():
            return super().write(vals)

    def unlink(self):
        with self.order_id._crm_line_scope():
            return super().unlink()
