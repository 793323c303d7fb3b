import datetime

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools import float_compare
from odoo.tools.translate import LazyGettext
from odoo.tools.translate import LazyTranslate

from ..lib.points import add_months
from ..lib.points import qualifying_tier
from ..lib.points import round_points
from ..tools import ENGINE
from ..tools import MANAGED
from ..tools import RECORD
from ..tools import current_scope
from ..tools import in_engine
from ..tools import ledger_scope

_lt = LazyTranslate(__name__)


class LoyaltyCard(models.Model):
    """Loyalty card seen through its ledger: points = available ledger balance, tier."""

    _inherit = "loyalty.card"

    crm_ledger = fields.Boolean(related="program_id.crm_ledger")
    crm_ledger_ids = fields.One2many("crm.loyalty.ledger", "card_id", string="Ledger")
    crm_tier_id = fields.Many2one("crm.loyalty.tier", string="Tier", index="btree_not_null")
    crm_tier_since = fields.Date(string="Tier Since")
    crm_tier_review_date = fields.Date(
        string="Tier Review", help="Date from which a lower qualification downgrades the card."
    )
    crm_tier_history_ids = fields.One2many(
        "crm.loyalty.tier.history", "card_id", string="Tier Changes"
    )
    crm_program_name = fields.Char(
        related="program_id.name",
        string="Program Name",
        store=True,
        # stored once, in the language the program was named in (Odoo cannot keep a stored
        # related field translated in every language)
        translate=False,
        help="The program's name stored on the card: the customer's 360 page lists the cards "
        "without reading their programs.",
    )
    crm_points_pending = fields.Float(
        string="Pending Points", compute="_compute_crm_points", digits=(16, 2)
    )
    crm_points_expiring = fields.Float(
        string="Expiring Soon", compute="_compute_crm_points", digits=(16, 2)
    )
    crm_next_expiry_date = fields.Date(string="Next Expiry", compute="_compute_crm_points")
    crm_debt = fields.Float(string="Points Owed", compute="_compute_crm_points", digits=(16, 2))

    @api.depends("points", "point_name")
    @api.depends_context("lang")
    def _compute_points_display(self):
        # the text depends on the reader's language (thousands separator) since the override
        # of _format_points below
        return super()._compute_points_display()

    def _format_points(self, points):
        """Points of a ledger program as the suite shows them (``crm_points`` widget): the
        language's thousands separator, no trailing decimals ("6.930 Puntos")."""
        self.ensure_one()
        program = self.program_id
        if not program.crm_ledger or (
            program.currency_id and self.point_name == program.currency_id.symbol
        ):
            return super()._format_points(points)
        return f"{program._crm_format_points(points)} {self.point_name or ''}".strip()

    @api.depends("crm_program_name", "code")
    def _compute_display_name(self):
        # Odoo's "program: code", from the name stored on the card (no read of the programs)
        for card in self:
            card.display_name = f"{card.crm_program_name}: {card.code}"

    @api.depends("points", "crm_ledger_ids.state", "crm_ledger_ids.remaining")
    def _compute_crm_points(self):
        # Aggregates of the card's own ledger, shown to whoever may read the card (raw SQL,
        # as the ledger's rules are not the card's): pending, expiring within 30 days and owed
        # points in one query, as the 360 page reads them for every card of the customer.
        ids = tuple(card._origin.id for card in self if card._origin.id)
        totals = {}
        if ids:
            horizon = fields.Date.context_today(self) + datetime.timedelta(days=30)
            self.env["crm.loyalty.ledger"].flush_model(
                ["card_id", "state", "points", "remaining", "expiry_date", "debt"]
            )
            rows = self.env.execute_query(
                SQL(
                    """
                    SELECT card_id,
                           SUM(points) FILTER (WHERE state = 'pending'),
                           SUM(remaining) FILTER (WHERE %(expiring)s),
                           MIN(expiry_date) FILTER (WHERE %(expiring)s),
                           SUM(debt) FILTER (WHERE debt > 0)
                      FROM crm_loyalty_ledger
                     WHERE card_id IN %(ids)s
                  GROUP BY card_id
                    """,
                    expiring=SQL(
                        "state = 'available' AND remaining > 0 AND expiry_date <= %s", horizon
                    ),
                    ids=ids,
                )
            )
            totals = {row[0]: row[1:] for row in rows}
        for card in self:
            pending, expiring, first, debt = totals.get(card._origin.id, (None, None, None, None))
            card.crm_points_pending = pending or 0.0
            card.crm_points_expiring = expiring or 0.0
            card.crm_next_expiry_date = first if expiring else False
            card.crm_debt = debt or 0.0

    @api.model_create_multi
    def create(self, vals_list):
        # On a program with a ledger the initial balance enters through the ledger like any
        # other change: the card is created empty, then credited by an entry.
        default_program = self.env.context.get("default_program_id")  # a default, not a right
        program_ids = [vals.get("program_id") or default_program for vals in vals_list]
        programs = self.env["loyalty.program"].browse({pid for pid in program_ids if pid})
        ledger_programs = {program.id: program for program in programs.filtered("crm_ledger")}
        opening = []
        for vals, program_id in zip(vals_list, program_ids, strict=True):
            program = ledger_programs.get(program_id)
            points = 0.0
            if program and vals.get("points"):
                points = program._crm_clean_points(vals["points"], allow_zero=True)
                vals["points"] = 0.0
            opening.append(points)
        tracked = [(index, points) for index, points in enumerate(opening) if points]
        if tracked:
            kinds, reason = self._crm_outside_change_kinds(_lt("Initial balance"))
        cards = super().create(vals_list)
        if tracked:
            Ledger = self.env["crm.loyalty.ledger"]
            for index, points in tracked:
                card = cards[index]
                Ledger._post_entry(
                    card,
                    kinds[0] if points > 0 else kinds[1],
                    points,
                    source=card.order_id if "order_id" in card._fields else None,
                    reason=reason,
                )
            cards.browse([cards[index].id for index, _points in tracked])._crm_sync_points()
        return cards

    def write(self, vals):
        if "points" not in vals or in_engine(self.env):
            return super().write(vals)
        tracked = self.filtered("program_id.crm_ledger")
        scope = current_scope(self.env)
        if not tracked or (scope and scope.mode == MANAGED):
            # our flow posts its own entries and syncs the card afterwards
            return super().write(vals)
        vals = dict(vals)
        for program in tracked.program_id:
            vals["points"] = program._crm_clean_points(vals["points"], allow_zero=True)
        recording = scope and scope.mode == RECORD
        if not recording and not self.env.su:
            raise UserError(
                self.env._(
                    "The points of a card change through orders, invoices, the counter and "
                    "expiry. To correct them, a loyalty manager uses Update Balance on the card, "
                    "with a reason."
                )
            )
        if recording:
            kinds = scope.kind or ("reverse", "redeem")
            reason = scope.reason() if callable(scope.reason) else scope.reason
        else:
            # server code of another application running as superuser (point of sale...; no
            # client can obtain sudo): the change happened in its flow, which checked its rights
            kinds = ("earn", "redeem")
            reason = _lt("Balance change from another application")
        before = {card: card.points for card in tracked}
        res = super().write(vals)
        # A change from a flow of Odoo's that the ledger does not drive (reward line of a
        # confirmed order, customer merge, point of sale...): record it as it happened.
        Ledger = self.env["crm.loyalty.ledger"]
        source = scope.source if recording else None
        for card, old in before.items():
            delta = card.points - old
            digits = card.program_id._crm_points_digits()
            if float_compare(delta, 0.0, precision_digits=digits) == 0:
                continue
            if delta > 0 and kinds[0] == "reverse" and source and source._name == "sale.order":
                # points an order gives back: never more than that order used on the card
                Ledger._give_back(card, source, delta, reason)
                continue
            Ledger._post_entry(
                card,
                kinds[0] if delta > 0 else kinds[1],
                delta,
                source=source,
                source_type=(recording and scope.source_type) or "system",
                reason=reason,
            )
        tracked._crm_sync_points()
        return res

    @api.model
    def _crm_outside_change_kinds(self, default_reason):
        """How a change of card points made outside our own flows is recorded.

        :return: ``((kind if positive, kind if negative), reason)``
        :raises UserError: when no server flow is running and the caller is not a loyalty
            manager: points then change only through orders, invoices, the till and expiry,
            or through an adjustment, which is a manager's and needs a reason.
        """
        scope = current_scope(self.env)
        if scope and scope.mode == RECORD:
            return scope.kind or ("reverse", "redeem"), scope.reason or default_reason
        if self.env.su:
            # server code of another application running as superuser (no client can
            # obtain sudo): the change happened in its flow, which checked its own rights
            return ("earn", "redeem"), default_reason
        self._crm_check_adjustment(default_reason)
        return ("adjust", "adjust"), default_reason

    def _crm_check_loyalty_user(self):
        """Loyalty Points users only, on cards they may read (views are not a security layer)."""
        if not self.env.user.has_group("crm_loyalty.group_user"):
            raise AccessError(self.env._("Only Loyalty Points users can do this."))
        self.check_access("read")

    def action_crm_open_ledger(self):
        self.ensure_one()
        self._crm_check_loyalty_user()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_loyalty.crm_loyalty_ledger_action"
        )
        action["domain"] = [("card_id", "=", self.id)]
        action["context"] = {"default_card_id": self.id}
        return action

    def action_crm_print_statement(self):
        """Ask the period, then print the PDF statement of the cards."""
        self._crm_check_loyalty_user()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Print Points Statement"),
            "res_model": "crm.loyalty.statement.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_card_ids": self.ids},
        }

    # ---------------------------------------------------------------- business

    def _crm_check_adjustment(self, reason):
        """Manual adjustments are for loyalty managers, and always say why."""
        if not self.env.user.has_group("crm_loyalty.group_manager"):
            raise UserError(self.env._("Only loyalty managers can adjust points."))
        if isinstance(reason, LazyGettext):  # a text of ours, written in the customer's language
            return
        if not isinstance(reason, str) or not reason.strip():
            raise UserError(self.env._("Give the reason of the adjustment."))

    def crm_adjust_points(self, points, reason):
        """Manual adjustment of ``points`` (signed) with a mandatory reason; managers only."""
        self.ensure_one()
        self.check_access("write")
        self._crm_check_adjustment(reason)
        points = self.program_id._crm_clean_points(points)
        self._crm_lock()
        entry = self.env["crm.loyalty.ledger"]._post_entry(
            self, "adjust", points, source_type="manual", reason=reason.strip()
        )
        self._crm_sync_points()
        return entry

    def crm_redeem_points(self, points, reason=None):
        """Spend ``points`` (> 0) of the available balance at the counter (the cashier: a
        Loyalty Points user who may write the card)."""
        self.ensure_one()
        self._crm_check_loyalty_user()
        # Spending points is changing the card: only users who may write it can.
        self.check_access("write")
        if not self.program_id.crm_ledger:
            raise UserError(
                self.env._("The program %s does not keep a points ledger.", self.program_id.name)
            )
        points = self.program_id._crm_clean_points(points)
        if points < 0:
            raise UserError(self.env._("Redeem a positive number of points."))
        if reason is not None and not isinstance(reason, str):
            raise UserError(self.env._("The reason of a redemption must be a text."))
        self._crm_lock()
        entry = self.env["crm.loyalty.ledger"]._post_entry(
            self, "redeem", -points, source_type="manual", reason=reason
        )
        self._crm_sync_points()
        return entry

    def _crm_lock(self):
        """Lock the cards' rows for this transaction.

        NOWAIT: when another transaction holds a card, PostgreSQL raises LockNotAvailable,
        which Odoo's request handler retries by itself (``odoo.service.model.retrying``);
        the user sees the operation succeed a moment later instead of an error.
        """
        cards = self.filtered("program_id.crm_ledger")
        if not cards:
            return
        self.env.execute_query(
            SQL(
                "SELECT id FROM loyalty_card WHERE id IN %s ORDER BY id FOR UPDATE NOWAIT",
                tuple(cards.ids),
            )
        )
        # The balance and lots may have moved since this transaction read them.
        cards.invalidate_recordset(["points"])
        self.env["crm.loyalty.ledger"].invalidate_model(["remaining", "debt", "state"])

    def _crm_sync_points(self):
        """Set each card's points to its available ledger balance, then upgrade tiers."""
        cards = self.filtered("program_id.crm_ledger")
        if not cards:
            return
        balances = dict(
            # sudo: the balance is computed whoever triggered the flow (see _engine).
            self.env["crm.loyalty.ledger"]
            .sudo()
            ._read_group(
                [("card_id", "in", cards.ids), ("state", "=", "available")],
                ["card_id"],
                ["points:sum"],
            )
        )
        for card in cards:
            balance = round_points(balances.get(card, 0.0), card.program_id._crm_points_digits())
            if card.points != balance:  # exact: the card holds the rounded balance
                # sudo: the balance is system-maintained; the user who triggered the flow
                # (a salesman, a portal checkout) may not write cards directly.
                with ledger_scope(self.env, ENGINE):
                    card.sudo().points = balance
        # sudo: tiers follow from the ledger whoever triggered the change (a salesperson
        # confirming an order has no Loyalty Points rights).
        cards.sudo()._crm_update_tiers()

    def _crm_qualifying_values(self, as_of=None):
        """Points earned or amount spent in each card's program window ending on ``as_of``
        (a date, included; default now): {card id: value}."""
        if not self:
            return {}
        self.env["crm.loyalty.ledger"].flush_model()
        until = (
            datetime.datetime.combine(as_of, datetime.time.max) if as_of else fields.Datetime.now()
        )
        rows = self.env.execute_query(
            SQL(
                """
                SELECT l.card_id,
                       COALESCE(SUM(CASE WHEN p.crm_tier_basis = 'amount'
                                         THEN l.amount ELSE l.points END), 0)
                  FROM crm_loyalty_ledger l
                  JOIN loyalty_program p ON p.id = l.program_id
             LEFT JOIN crm_loyalty_ledger o ON o.id = l.origin_id
                 WHERE l.card_id IN %(cards)s
                   AND l.state != 'cancelled'
                   AND l.date > %(until)s - make_interval(months => p.crm_tier_window_months)
                   AND l.date <= %(until)s
                   AND (l.kind = 'earn' OR (l.kind = 'reverse' AND o.kind = 'earn'))
              GROUP BY l.card_id
                """,
                cards=tuple(self.ids),
                until=until,
            )
        )
        return dict(rows)

    def _crm_update_tiers(self, allow_downgrade=False, as_of=None):
        """Move cards to the tier they qualify for as of ``as_of`` (a date, default today): up
        at once, down only after retention (``allow_downgrade``: the periodic review)."""
        cards = self.filtered(lambda card: card.program_id.crm_tier_ids)
        if not cards:
            return
        values = cards._crm_qualifying_values(as_of)
        today = as_of or fields.Date.context_today(self)
        history = []
        for card in cards:
            program = card.program_id
            value = values.get(card.id, 0.0)
            tiers = program.crm_tier_ids
            target = qualifying_tier([(tier, tier.threshold) for tier in tiers], value) or tiers[:1]
            current = card.crm_tier_id
            review_due = not card.crm_tier_review_date or card.crm_tier_review_date <= today
            if target == current:
                if allow_downgrade and review_due:
                    card.sudo().crm_tier_review_date = add_months(
                        today, program.crm_tier_retention_months
                    )
                continue
            upgrade = not current or target.threshold > current.threshold
            if not upgrade and not (allow_downgrade and review_due):
                continue
            # sudo: tiers follow from the ledger whoever triggered the change.
            card.sudo().write(
                {
                    "crm_tier_id": target.id,
                    "crm_tier_since": today,
                    "crm_tier_review_date": add_months(today, program.crm_tier_retention_months),
                }
            )
            history.append(
                {
                    "card_id": card.id,
                    "old_tier_id": current.id,
                    "new_tier_id": target.id,
                    "reason": "upgrade" if upgrade else "downgrade",
                    "qualifying_value": value,
                    "date": today,
                }
            )
        if history:
            self.env["crm.loyalty.tier.history"].sudo().create(history)

    def _crm_statement_data(self, date_from=None, date_to=None, movements=None):
        """Points statement of the card for a period (default: the last three months).

        :param movements: keep only the last N movements (portal), all when None
        :return: dict with opening, movements (entries, oldest first), closing, pending,
            expiring lots (date, points) of the next 90 days, tier and period dates
        """
        self.ensure_one()
        # the ledger is read in sudo below: only for a card the caller may read
        self.check_access("read")
        today = fields.Date.context_today(self)
        date_to = fields.Date.to_date(date_to) or today
        date_from = fields.Date.to_date(date_from) or add_months(date_to, -3)
        start = datetime.datetime.combine(date_from, datetime.time.min)
        end = datetime.datetime.combine(date_to, datetime.time.max)
        # sudo: the statement is printed for whoever may read the card (portal included).
        Ledger = self.env["crm.loyalty.ledger"].sudo()
        base = [("card_id", "=", self.id), ("state", "=", "available")]
        opening = Ledger._read_group([*base, ("date", "<", start)], [], ["points:sum"])[0][0]
        closing = Ledger._read_group([*base, ("date", "<=", end)], [], ["points:sum"])[0][0]
        lines = Ledger.search(
            [("card_id", "=", self.id), ("date", ">=", start), ("date", "<=", end)],
            order="date desc, id desc",
            limit=movements,
        )
        horizon = today + datetime.timedelta(days=90)
        expiring = Ledger._read_group(
            [*base, ("remaining", ">", 0), ("expiry_date", "<=", horizon)],
            ["expiry_date:day"],
            ["remaining:sum"],
            order="expiry_date:day",
        )
        return {
            "date_from": date_from,
            "date_to": date_to,
            "opening": opening,
            "movements": lines.sorted(lambda entry: (entry.date, entry.id)),
            "closing": closing,
            "pending": self.crm_points_pending,
            "expiring": [
                (day.date() if hasattr(day, "date") else day, points) for day, points in expiring
            ],
            "tier": self.crm_tier_id,
        }

    def _crm_filter_tier_rewards(self, rewards):
        """The ``rewards`` this card may claim: tier-only rewards need that tier or higher."""
        self.ensure_one()
        tiers = self.program_id.crm_tier_ids
        if not tiers:
            return rewards
        level = self.crm_tier_id.threshold if self.crm_tier_id else -1.0
        minimum = {}
        for tier in tiers:
            for reward in tier.reward_ids:
                minimum[reward] = min(minimum.get(reward, tier.threshold), tier.threshold)
        return rewards.filtered(lambda reward: level >= minimum.get(reward, -1.0))

    def _crm_tier_multiplier(self):
        """Earning multiplier of the card's tier (1 without tier)."""
        self.ensure_one()
        return self.crm_tier_id.multiplier or 1.0
