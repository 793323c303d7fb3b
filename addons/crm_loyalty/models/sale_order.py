import datetime

from odoo import api
from odoo import models
from odoo.exceptions import UserError
from odoo.tools import float_round

from ..tools import MANAGED
from ..tools import RECORD
from ..tools import ledger_scope


class SaleOrder(models.Model):
    """Sales orders feed the points ledger: earn and redeem on confirmation, reverse on
    cancellation; tier multipliers and tier-only rewards apply while the order is built."""

    _inherit = "sale.order"

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
        (cards | to_confirm._crm_ledger_cards())._crm_sync_points()
        return res

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
                reason=self.env._("Purchase %s", self.name),
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
                    reason=self.env._("Reward on %s", self.name),
                )

    def _crm_line_scope(self):
        """Scope of a change of reward lines on these orders: the points Odoo gives back or
        takes on a confirmed order are recorded as reversals or redemptions of the order."""
        return ledger_scope(
            self.env,
            RECORD,
            kind=("reverse", "redeem"),
            reason=lambda: self.env._("Reward changed on %s", ", ".join(self.mapped("name"))),
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
            allowed = coupon.sudo()._crm_filter_tier_rewards(result[coupon]).sudo(False)
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
