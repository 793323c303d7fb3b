from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import ValidationError


class LoyaltyProgram(models.Model):
    """Ledger settings of a loyalty program: pending points, expiry, tiers, debts."""

    _inherit = "loyalty.program"

    crm_ledger = fields.Boolean(
        string="Points Ledger",
        compute="_compute_crm_ledger",
        store=True,
        readonly=False,
        help="Record every change of the cards' points in the auditable ledger.",
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
