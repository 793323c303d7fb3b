import logging

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..lib.points import MAX_POINTS
from ..lib.points import PointsValueError
from ..lib.points import clean_points
from ..lib.points import lot_expiry_date
from ..lib.points import round_points

_logger = logging.getLogger(__name__)


class LoyaltyProgram(models.Model):
    """Ledger settings of a loyalty program: pending points, expiry, tiers, debts."""

    _inherit = "loyalty.program"

    crm_ledger = fields.Boolean(
        string="Points Ledger",
        compute="_compute_crm_ledger",
        store=True,
        readonly=False,
        help="Record every change of the cards' points in the auditable ledger. Switched on, "
        "each card's current points open its ledger as an opening balance; switched off, the "
        "cards keep their points and the ledger stops following them.",
    )
    crm_pending_mode = fields.Selection(
        [
            ("none", "Immediately"),
            ("paid", "When the invoice is paid"),
            ("window", "After the return window"),
        ],
        string="Points Become Usable",
        default="none",
        required=True,
    )
    crm_pending_days = fields.Integer(
        string="Return Window (days)",
        default=30,
        help="Days after the order during which earned points stay pending.",
    )
    crm_expiry_mode = fields.Selection(
        [
            ("none", "Never"),
            ("months", "Months after earning"),
            ("year_end", "End of the calendar year"),
        ],
        string="Points Expire",
        default="none",
        required=True,
    )
    crm_expiry_months = fields.Integer(string="Validity (months)", default=12)
    crm_reminder_days = fields.Integer(
        string="Expiry Reminder (days before)",
        default=15,
        help="E-mail the customer this many days before points expire; 0 disables it.",
    )
    crm_allow_negative = fields.Boolean(
        string="Allow Negative Balance",
        help="A refund of points already spent drives the balance negative. Otherwise the "
        "points are recorded as a debt that future earnings settle.",
    )
    crm_tier_basis = fields.Selection(
        [("points", "Points earned"), ("amount", "Amount spent")],
        string="Tier Qualification",
        default="points",
        required=True,
    )
    crm_tier_window_months = fields.Integer(string="Qualifying Window (months)", default=12)
    crm_tier_retention_months = fields.Integer(
        string="Tier Retention (months)",
        default=12,
        help="A tier is kept at least this long; downgrades happen only at its end.",
    )
    crm_tier_ids = fields.One2many("crm.loyalty.tier", "program_id", string="Tiers")
    crm_points_total = fields.Float(
        string="Points Outstanding",
        compute="_compute_crm_points_total",
        digits=(16, 2),
        help="Sum of the points of the program's cards.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        programs = super().create(vals_list)
        programs.filtered("crm_ledger")._crm_open_ledger()
        return programs

    def write(self, vals):
        # switching the ledger off and on moves points outside it: a loyalty manager's
        if (
            "crm_ledger" in vals
            and not self.env.su
            and not self.env.user.has_group("crm_loyalty.group_manager")
        ):
            raise AccessError(
                self.env._("Only loyalty managers can switch a program's points ledger.")
            )
        off = self.filtered(lambda program: not program.crm_ledger)
        res = super().write(vals)
        # cards of a program that joins the ledger open it with their current points
        off.filtered("crm_ledger")._crm_open_ledger()
        return res

    @api.depends("program_type")
    def _compute_crm_ledger(self):
        for program in self:
            program.crm_ledger = program.program_type == "loyalty"

    def _compute_crm_points_total(self):
        totals = dict(
            self.env["loyalty.card"]._read_group(
                [("program_id", "in", self.ids)], ["program_id"], ["points:sum"]
            )
        )
        for program in self:
            program.crm_points_total = totals.get(program, 0.0)

    @api.constrains(
        "crm_expiry_mode",
        "crm_expiry_months",
        "crm_pending_days",
        "crm_reminder_days",
        "crm_tier_window_months",
        "crm_tier_retention_months",
    )
    def _check_crm_settings(self):
        for program in self:
            if program.crm_expiry_mode == "months" and program.crm_expiry_months <= 0:
                raise ValidationError(
                    self.env._(
                        "The validity of the points of %s must be at least one month.",
                        program.display_name,
                    )
                )
            if program.crm_pending_mode == "window" and program.crm_pending_days <= 0:
                raise ValidationError(
                    self.env._(
                        "The return window of %s must be at least one day.", program.display_name
                    )
                )
            if (
                program.crm_reminder_days < 0
                or program.crm_tier_window_months <= 0
                or program.crm_tier_retention_months < 0
            ):
                raise ValidationError(
                    self.env._(
                        "The reminder days, qualifying window and tier retention of %s "
                        "cannot be negative, and the window must be at least one month.",
                        program.display_name,
                    )
                )

    # ---------------------------------------------------------------- points

    def _crm_points_digits(self):
        """Decimals of the program's points: those of its currency, at most two (a program
        in Chilean pesos counts whole points, as Odoo rounds its cards' points)."""
        self.ensure_one()
        return min(self.currency_id.decimal_places, 2) if self.currency_id else 2

    def _crm_clean_points(self, value, allow_zero=False):
        """``value`` as points of this program: a finite number rounded to its precision.

        :raises UserError: for anything else (NaN, infinities, more than a trillion points,
            an amount that rounds to zero, a non-number), in the user's language
        """
        self.ensure_one()
        digits = self._crm_points_digits()
        try:
            return clean_points(value, digits, allow_zero=allow_zero)
        except PointsValueError as error:
            messages = {
                "type": self.env._("%(value)s is not a number of points.", value=error.value),
                "not_finite": self.env._(
                    "%(value)s is not a finite number of points.", value=error.value
                ),
                "too_large": self.env._(
                    "%(value)s points is beyond the largest amount a card can hold (%(maximum)s).",
                    value=error.value,
                    maximum=f"{MAX_POINTS:,.0f}",
                ),
                "too_small": self.env._(
                    "%(value)s points is less than the smallest amount %(program)s counts "
                    "(%(unit)s).",
                    value=error.value,
                    program=self.display_name,
                    unit=round_points(10**-digits, digits),
                ),
                "zero": self.env._("The number of points must not be zero."),
            }
            raise UserError(messages[error.code]) from None

    # ---------------------------------------------------------------- opening

    @api.model
    def _crm_open_all_ledgers(self):
        """Open the ledger of every card of every ledger program, archived ones included
        (run at install and at each update of the module: idempotent)."""
        self.with_context(active_test=False).search([("crm_ledger", "=", True)])._crm_open_ledger()

    def _crm_open_ledger(self):
        """Make every card of these ledger programs equal to its ledger, losing nothing.

        A card that has no ledger entry yet (a database that had cards before the addon, a
        program that joins the ledger) gets one opening entry holding its current points,
        inserted set-based per program. A card with entries whose points moved while its
        program was outside the ledger gets an adjustment of the difference. Cards whose
        points have more decimals than the program counts are rounded to its precision.
        """
        programs = self.filtered("crm_ledger")
        if not programs:
            return
        self.env.flush_all()
        Ledger = self.env["crm.loyalty.ledger"]
        now = fields.Datetime.now()
        today = fields.Date.context_today(self)
        reason = self.env._("Opening balance: points the card held when its ledger started")
        uid = self.env.uid
        drifted = []
        for program in programs:
            digits = program._crm_points_digits()
            expiry = lot_expiry_date(today, program.crm_expiry_mode, program.crm_expiry_months)
            # Cards without any entry: one opening entry each, in one statement. The entry
            # is a lot (remaining = points) when positive; a negative card opens with its
            # negative balance and no lot.
            self.env.execute_query(
                SQL(
                    """
                    INSERT INTO crm_loyalty_ledger (
                        card_id, program_id, partner_id, company_id, kind, points, date, state,
                        remaining, debt, expiry_date, source_type, source_model, source_id,
                        source_name, reason, user_id, reminder_sent, amount,
                        create_uid, write_uid, create_date, write_date)
                    SELECT c.id, c.program_id, c.partner_id, %(company)s, 'opening',
                           ROUND(c.points::numeric, %(digits)s), %(now)s, 'available',
                           GREATEST(ROUND(c.points::numeric, %(digits)s), 0), 0,
                           %(expiry)s, 'system', 'loyalty.card', c.id, c.code, %(reason)s,
                           %(uid)s, FALSE, 0, %(uid)s, %(uid)s, %(now)s, %(now)s
                      FROM loyalty_card c
                     WHERE c.program_id = %(program)s
                       AND ROUND(c.points::numeric, %(digits)s) != 0
                       AND NOT EXISTS (SELECT 1 FROM crm_loyalty_ledger l WHERE l.card_id = c.id)
                    """,
                    company=program.company_id.id or None,
                    digits=digits,
                    now=now,
                    expiry=expiry,
                    reason=reason,
                    uid=uid,
                    program=program.id,
                )
            )
            # Cards whose points differ from their available ledger balance (entries from an
            # earlier time in the ledger, or more decimals than the program counts).
            drifted += self.env.execute_query(
                SQL(
                    """
                    SELECT c.id, ROUND(c.points::numeric, %(digits)s)
                                 - COALESCE(SUM(l.points), 0)
                      FROM loyalty_card c
                 LEFT JOIN crm_loyalty_ledger l ON l.card_id = c.id AND l.state = 'available'
                     WHERE c.program_id = %(program)s
                  GROUP BY c.id
                    HAVING c.points != COALESCE(SUM(l.points), 0)
                    """,
                    digits=digits,
                    program=program.id,
                )
            )
        Ledger.invalidate_model()
        if not drifted:
            return
        cards = self.env["loyalty.card"].browse([card_id for card_id, _diff in drifted])
        for card, (_card_id, diff) in zip(cards, drifted, strict=True):
            if not diff:
                continue
            try:
                with self.env.cr.savepoint():
                    Ledger._post_entry(
                        card,
                        "adjust",
                        float(diff),
                        source=card,
                        source_type="system",
                        reason=self.env._(
                            "Points changed while the program was outside the ledger"
                        ),
                    )
            except UserError as error:
                # a card below its own lots cannot be adjusted down: leave it to a manager
                # rather than fail the update of the whole addon
                _logger.warning("Ledger of card %s not opened: %s", card.code, error)
        cards._crm_sync_points()
