import json

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools.translate import LazyGettext
from odoo.tools.translate import LazyTranslate

from ..lib.points import allocate_fifo
from ..lib.points import lot_expiry_date
from ..lib.points import round_points
from ..tools import ENGINE
from ..tools import in_engine
from ..tools import ledger_scope

_lt = LazyTranslate(__name__)

# Fields the ledger engine itself may update on a posted entry (lifecycle and lot
# bookkeeping); everything else is frozen once written.
_SYSTEM_FIELDS = frozenset({"state", "remaining", "debt", "reminder_sent"})
# Source fields the engine may fill once, in the transaction that posted an entry without
# one (channels that change the points first and log their document after).
_SOURCE_FIELDS = frozenset({"source_type", "source_model", "source_id", "source_name"})


class CrmLoyaltyLedger(models.Model):
    """Append-only points ledger of a loyalty card.

    Positive entries are lots (``remaining`` points not yet consumed, an expiry date);
    negative entries consume lots first-in first-out through consumption rows. The
    available balance (sum of ``points`` of available entries) always equals the card's
    ``points``: the engine methods below are the only writers and end with
    ``loyalty.card._crm_sync_points``. They write inside the server-side ENGINE scope
    (``crm_loyalty.tools``); ``create`` and ``write`` refuse anything outside it, whoever
    calls and whatever context the call carries. Every stored amount is rounded to the
    program's point precision (``loyalty.program._crm_points_digits``).
    """

    _name = "crm.loyalty.ledger"
    _description = "Loyalty Points Ledger Entry"
    _order = "date desc, id desc"
    _rec_name = "reason"

    card_id = fields.Many2one("loyalty.card", required=True, index=True, ondelete="restrict")
    program_id = fields.Many2one("loyalty.program", required=True, index=True, ondelete="restrict")
    partner_id = fields.Many2one("res.partner", index="btree_not_null", ondelete="restrict")
    company_id = fields.Many2one("res.company", index=True)
    currency_id = fields.Many2one(related="program_id.currency_id")
    kind = fields.Selection(
        [
            ("opening", "Opening Balance"),
            ("earn", "Earn"),
            ("redeem", "Redeem"),
            ("expire", "Expire"),
            ("adjust", "Adjust"),
            ("reverse", "Reverse"),
        ],
        required=True,
        index=True,
    )
    points = fields.Float(required=True, digits=(16, 2))
    date = fields.Datetime(required=True, default=fields.Datetime.now, index=True)
    state = fields.Selection(
        [("pending", "Pending"), ("available", "Available"), ("cancelled", "Cancelled")],
        required=True,
        default="available",
        index=True,
    )
    mature_date = fields.Date(string="Usable From", help="End of the return window.")
    expiry_date = fields.Date(index=True)
    remaining = fields.Float(
        digits=(16, 2), help="Points of this lot not yet redeemed, expired or reversed."
    )
    debt = fields.Float(
        digits=(16, 2),
        help="Points this entry could not take from any lot: future earnings settle them.",
    )
    reminder_sent = fields.Boolean(copy=False)
    amount = fields.Monetary(
        help="Amount spent that earned these points, in the program's currency (tier "
        "qualification)."
    )
    source_type = fields.Selection(
        [
            ("sale", "Sales Order"),
            ("website", "Website Order"),
            ("pos", "Point of Sale"),
            ("invoice", "Invoice / Credit Note"),
            ("manual", "Manual"),
            ("expiry", "Expiry"),
            ("system", "Other"),
        ],
        string="Source",
        required=True,
        default="manual",
    )
    source_model = fields.Char(index=True)
    source_id = fields.Many2oneReference(
        string="Source Record", model_field="source_model", index=True
    )
    source_name = fields.Char(string="Source Document")
    origin_id = fields.Many2one(
        "crm.loyalty.ledger", string="Reverses", index="btree_not_null", ondelete="restrict"
    )
    reason = fields.Char()
    user_id = fields.Many2one("res.users", default=lambda self: self.env.user, ondelete="set null")
    consumption_ids = fields.One2many("crm.loyalty.consumption", "entry_id", string="Lots Used")
    lot_consumption_ids = fields.One2many("crm.loyalty.consumption", "lot_id", string="Consumed By")

    _open_lots_idx = models.Index("(card_id, expiry_date, id) WHERE remaining > 0")
    _due_lots_idx = models.Index("(expiry_date, id) WHERE remaining > 0 AND state = 'available'")
    _open_debts_idx = models.Index("(card_id, id) WHERE debt > 0")
    _remaining_range = models.Constraint(
        "CHECK (remaining >= 0 AND debt >= 0)", "Remaining points and debts cannot be negative."
    )

    @api.depends("kind", "points", "source_name", "reason")
    def _compute_display_name(self):
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for entry in self:
            label = entry.reason or entry.source_name or ""
            entry.display_name = f"{kinds.get(entry.kind, '')} {entry.points:g} {label}".strip()

    @api.model_create_multi
    def create(self, vals_list):
        if not in_engine(self.env):
            raise UserError(
                self.env._(
                    "Ledger entries are created by the loyalty flows and adjustments only; "
                    "use Adjust Points on the card."
                )
            )
        return super().create(vals_list)

    def write(self, vals):
        allowed = _SYSTEM_FIELDS
        if not any(self.mapped("source_model")):
            allowed = _SYSTEM_FIELDS | _SOURCE_FIELDS
        if not in_engine(self.env) or set(vals) - allowed:
            raise UserError(
                self.env._(
                    "Posted ledger entries cannot be changed: record a correction as a new entry."
                )
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(
            self.env._("Posted ledger entries cannot be deleted: record a correction instead.")
        )

    # ------------------------------------------------------------------ engine

    @api.model
    def _engine(self):
        """The ledger model as the engine reads it.

        sudo: entries are read and written by the system on behalf of whoever triggered the
        flow (a salesman confirming an order has no ledger rights); every public entry point
        checked the caller's rights on the card before reaching the engine.
        """
        return self.sudo()

    @api.model
    def _engine_create(self, vals_list):
        """Create entries (or consumptions, called on that model) as the engine."""
        with ledger_scope(self.env, ENGINE):
            return self.sudo().create(vals_list)

    def _engine_write(self, vals):
        """Write the lifecycle fields of entries as the engine."""
        with ledger_scope(self.env, ENGINE):
            return self.sudo().write(vals)

    @api.model
    def _source_values(self, record, source_type=None):
        """Source fields of an entry caused by ``record`` (any model, may be empty)."""
        if not record:
            return {"source_type": source_type or "manual"}
        if not source_type:
            source_type = "system"
            if record._name == "sale.order":
                website = "website_id" in record._fields and record.website_id
                source_type = "website" if website else "sale"
            elif record._name == "pos.order":
                source_type = "pos"
            elif record._name == "account.move":
                source_type = "invoice"
        return {
            "source_type": source_type,
            "source_model": record._name,
            "source_id": record.id,
            "source_name": record.display_name,
        }

    @api.model
    def _customer_lang(self, card):
        """Language the ledger of ``card`` is written in: its customer's, else that of the
        program's company (the current company for a shared program), else the user's.

        The reason of an entry is stored once and read by the customer (statement, portal),
        whoever posted it: a cashier or salesman working in another language.
        """
        company = card.program_id.company_id or self.env.company
        for lang in (card.partner_id.lang, company.partner_id.lang):
            if lang and self.env["res.lang"]._get_data(code=lang):
                return lang
        return self.env.lang or "en_US"

    @api.model
    def _customer_text(self, card, text):
        """``text`` as stored on an entry of ``card``: a lazy translation (``_lt``) in the
        customer's language (``_customer_lang``), anything else (a text someone typed) as is."""
        if isinstance(text, LazyGettext):
            return self.with_context(lang=self._customer_lang(card)).env._(text)
        return text

    @api.model
    def _customer_text_sql(self, text, card_alias):
        """SQL expression of the lazy ``text`` as ``_customer_text`` writes it for the card of
        the table ``card_alias`` (a loyalty_card): for entries written in one statement."""
        texts = {
            code: self.with_context(lang=code).env._(text)
            for code, _name in self.env["res.lang"].get_installed()
        }
        return SQL(
            """COALESCE(
                %(texts)s::jsonb ->> (SELECT lang FROM res_partner WHERE id = %(partner)s),
                %(texts)s::jsonb ->> (
                    SELECT own.lang
                      FROM loyalty_program program
                      JOIN res_company company
                        ON company.id = COALESCE(program.company_id, %(company)s)
                      JOIN res_partner own ON own.id = company.partner_id
                     WHERE program.id = %(program)s),
                %(default)s)""",
            texts=json.dumps(texts),
            partner=SQL.identifier(card_alias, "partner_id"),
            program=SQL.identifier(card_alias, "program_id"),
            company=self.env.company.id,
            default=self.env._(text),
        )

    @api.model
    def _entry_values(self, card, kind, points, **values):
        """Values of a new entry of ``points`` (signed) on ``card``, in its program's company;
        ``values`` add fields or override these. A lazy ``reason`` (``_lt``) is written in
        the customer's language."""
        program = card.program_id
        if "reason" in values:
            values["reason"] = self._customer_text(card, values["reason"])
        return {
            "card_id": card.id,
            "program_id": program.id,
            "partner_id": card.partner_id.id,
            # a program shared by every company (no company) keeps entries of none: every
            # company that may read the card reads its ledger
            "company_id": program.company_id.id,
            "kind": kind,
            "points": points,
            **values,
        }

    @api.model
    def _post_entry(self, card, kind, points, *, source=None, source_type=None, **extra):
        """Post one entry of ``points`` (signed) on ``card`` and consume or open lots.

        ``points`` is validated and rounded to the program's precision first (a UserError
        for NaN, infinities, huge, tiny or non-numeric values). Positive points open a lot
        (``state`` pending or available). Negative points consume available lots FIFO
        (``prefer_lot`` first); when lots do not cover them, a ``reverse`` records the rest
        as a debt (balance negative only if the program allows it) and any other kind raises
        a UserError. The card's points are not synced here: callers finish with
        ``loyalty.card._crm_sync_points``.
        """
        self = self._engine()
        card.ensure_one()
        program = card.program_id
        digits = program._crm_points_digits()
        points = program._crm_clean_points(points)
        if (kind in ("redeem", "expire") and points > 0) or (kind == "earn" and points < 0):
            kinds = dict(self._fields["kind"]._description_selection(self.env))
            raise UserError(
                self.env._(
                    'A "%(kind)s" movement of %(points)s points is not possible.',
                    kind=kinds[kind],
                    points=program.with_env(self.env)._crm_format_points(points),
                )
            )
        prefer_lot = extra.pop("prefer_lot", None)
        vals = self._entry_values(
            card, kind, points, **{**self._source_values(source, source_type), **extra}
        )
        today = fields.Date.context_today(self)
        if points >= 0:
            vals["remaining"] = points
            vals["expiry_date"] = lot_expiry_date(
                today, program.crm_expiry_mode, program.crm_expiry_months
            )
            entry = self._engine_create(vals)
            if entry.state == "available":
                self._settle_debts(card)
            return entry
        wanted = -points
        lots = self._open_lots(card, prefer_lot)
        takes, uncovered = allocate_fifo(
            wanted, [(lot, lot.remaining) for lot in lots], digits=digits
        )
        if uncovered > 0:
            if kind != "reverse":
                # the numbers in the user's language, whatever environment the card came in
                shown = program.with_env(self.env)._crm_format_points
                raise UserError(
                    self.env._(
                        "The card %(card)s has only %(available)s points available; "
                        "%(wanted)s were requested.",
                        card=card.code,
                        available=shown(wanted - uncovered),
                        wanted=shown(wanted),
                    )
                )
            vals["debt"] = uncovered
            if not program.crm_allow_negative:
                vals["points"] = -round_points(wanted - uncovered, digits)
        entry = self._engine_create(vals)
        self._consume(entry, takes)
        return entry

    @api.model
    def _attach_source(self, card, document):
        """Give ``document`` as source to the entries of ``card`` posted without one in
        this transaction (point of sale, reward line added to a confirmed order)."""
        entries = self._engine().search(
            [
                ("card_id", "=", card.id),
                ("source_model", "=", False),
                ("create_date", "=", self.env.cr.now()),
                ("create_uid", "=", self.env.uid),
            ]
        )
        if entries and document:
            entries._engine_write(self._source_values(document))
        return entries

    @api.model
    def _open_lots(self, card, prefer_lot=None):
        """Available lots of ``card`` with points left, in consumption order."""
        lots = self._engine().search(
            [("card_id", "=", card.id), ("remaining", ">", 0), ("state", "=", "available")],
            order="expiry_date asc nulls last, date, id",
        )
        if prefer_lot and prefer_lot in lots:
            lots = prefer_lot | (lots - prefer_lot)
        return lots

    @api.model
    def _consume(self, entry, takes):
        """Record that ``entry`` used ``takes`` (``[(lot, points)]``) and lower the lots."""
        if not takes:
            return
        digits = entry.program_id._crm_points_digits()
        self.env["crm.loyalty.consumption"]._engine_create(
            [{"entry_id": entry.id, "lot_id": lot.id, "points": take} for lot, take in takes]
        )
        for lot, take in takes:
            lot._engine_write({"remaining": max(round_points(lot.remaining - take, digits), 0.0)})

    @api.model
    def _settle_debts(self, card):
        """Let the card's available lots pay its open debts, oldest debt first.

        With a negative balance allowed the debt was already deducted: the lots are only
        consumed. Otherwise each settlement is a new ``reverse`` entry.
        """
        self = self._engine()
        digits = card.program_id._crm_points_digits()
        debts = self.search([("card_id", "=", card.id), ("debt", ">", 0)], order="date, id")
        for debtor in debts:
            lots = self._open_lots(card)
            takes, uncovered = allocate_fifo(
                debtor.debt, [(lot, lot.remaining) for lot in lots], digits=digits
            )
            paid = round_points(debtor.debt - uncovered, digits)
            if paid <= 0:
                break
            consumer = debtor
            if not card.program_id.crm_allow_negative:
                consumer = self._engine_create(
                    self._entry_values(
                        card,
                        "reverse",
                        -paid,
                        company_id=debtor.company_id.id,
                        origin_id=debtor.id,
                        reason=_lt("Debt settlement"),
                        source_type=debtor.source_type,
                        source_model=debtor.source_model,
                        source_id=debtor.source_id,
                        source_name=debtor.source_name,
                    )
                )
            self._consume(consumer, takes)
            debtor._engine_write({"debt": uncovered})

    @api.model
    def _mature(self, lots):
        """Make pending ``lots`` (and their pending reversals) usable."""
        self = self._engine()
        lots = lots.filtered(lambda lot: lot.state == "pending")
        if not lots:
            return
        children = self.search([("origin_id", "in", lots.ids), ("state", "=", "pending")])
        (lots | children)._engine_write({"state": "available"})
        for card in lots.card_id:
            self._settle_debts(card)
        lots.card_id._crm_sync_points()

    @api.model
    def _reverse_source(self, source, ratio=1.0, *, reversal_source=None, include_redeem=True):
        """Reverse ``ratio`` of what ``source`` (a document) earned and redeemed.

        Pending points are simply removed (they never mature); available ones are taken
        back from the source lot first, then FIFO, the rest becoming a debt. Redeemed
        points come back as a new lot. Repeated calls never reverse more than 100 %.
        """
        self = self._engine()
        entries = self.search(
            [
                ("source_model", "=", source._name),
                ("source_id", "in", source.ids),
                ("kind", "in", ("earn", "redeem")),
                ("state", "!=", "cancelled"),
            ],
            order="id",
        )
        if not entries:
            return
        done = dict(
            self._read_group(
                [("origin_id", "in", entries.ids), ("kind", "=", "reverse")],
                ["origin_id"],
                ["points:sum"],
            )
        )
        reversal_source = reversal_source or source
        reason = _lt("Reversal of %s", source.display_name)
        exhausted = self.browse()
        for entry in entries:
            if entry.kind == "redeem" and not include_redeem:
                continue
            digits = entry.program_id._crm_points_digits()
            total = abs(entry.points)
            already = abs(done.get(entry, 0.0))
            points = round_points(min(total * ratio, total - already), digits)
            if points <= 0:
                continue
            amount = -entry.amount * points / total if total else 0.0
            common = {
                "origin_id": entry.id,
                "reason": reason,
                "amount": amount,
                "source": reversal_source,
            }
            if entry.kind == "redeem":
                self._post_entry(entry.card_id, "reverse", points, **common)
            elif entry.state == "pending":
                self._post_pending_reversal(entry, min(points, entry.remaining), common)
                if entry.remaining <= 0:
                    exhausted |= entry
            else:
                self._post_entry(entry.card_id, "reverse", -points, prefer_lot=entry, **common)
        if exhausted:
            # these lots never mature: they and every pending reversal of them are cancelled
            reversals = self.search([("origin_id", "in", exhausted.ids), ("state", "=", "pending")])
            (exhausted | reversals)._engine_write({"state": "cancelled"})
        entries.card_id._crm_sync_points()

    @api.model
    def _give_back(self, card, order, points, reason):
        """Return ``points`` that ``order`` had redeemed from ``card`` (a reward removed from
        the confirmed order), as reversals of its redemptions, newest first.

        :raises UserError: when the order used fewer points on the card than that
        """
        self = self._engine()
        digits = card.program_id._crm_points_digits()
        redemptions = self.search(
            [
                ("card_id", "=", card.id),
                ("source_model", "=", order._name),
                ("source_id", "=", order.id),
                ("kind", "=", "redeem"),
                ("state", "!=", "cancelled"),
            ],
            order="id desc",
        )
        done = dict(
            self._read_group(
                [("origin_id", "in", redemptions.ids), ("kind", "=", "reverse")],
                ["origin_id"],
                ["points:sum"],
            )
        )
        left = round_points(points, digits)
        for redemption in redemptions:
            take = round_points(min(-redemption.points - done.get(redemption, 0.0), left), digits)
            if take <= 0:
                continue
            self._post_entry(
                card, "reverse", take, source=order, origin_id=redemption.id, reason=reason
            )
            left = round_points(left - take, digits)
            if left <= 0:
                return
        raise UserError(
            self.env._(
                "%(order)s cannot give back %(points)s points to card %(card)s: it used fewer.",
                order=order.display_name,
                points=card.program_id.with_env(self.env)._crm_format_points(points),
                card=card.code,
            )
        )

    @api.model
    def _post_pending_reversal(self, lot, take, common):
        """Remove ``take`` pending points from ``lot`` with a pending reverse entry."""
        if take <= 0:
            return
        reversal = self._engine_create(
            self._entry_values(
                lot.card_id,
                "reverse",
                -take,
                partner_id=lot.partner_id.id,
                company_id=lot.company_id.id,
                state="pending",
                origin_id=common["origin_id"],
                reason=common["reason"],
                amount=common["amount"],
                **self._source_values(common["source"]),
            )
        )
        self._consume(reversal, [(lot, take)])
