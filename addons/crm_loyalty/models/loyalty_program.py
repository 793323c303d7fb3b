import logging
import math

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.exceptions import ValidationError
from odoo.fields import Command
from odoo.tools import SQL
from odoo.tools.i18n import format_list
from odoo.tools.misc import formatLang
from odoo.tools.translate import LazyTranslate

from ..lib.points import MAX_POINTS
from ..lib.points import PointsValueError
from ..lib.points import clean_points
from ..lib.points import lot_expiry_date
from ..lib.points import round_points
from ..lib.points import shown_decimals

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

# What a program's tiers count (crm_tier_basis), and each tier change counted (its tier_basis).
TIER_BASES = [("points", "Points earned"), ("amount", "Amount spent")]

# settings of the points' accounting: an accounting adviser's
IFRS_FIELDS = frozenset(
    {
        "crm_ifrs",
        "crm_ifrs_start",
        "crm_point_value",
        "crm_redemption_rate",
        "crm_breakage_mode",
        "crm_journal_id",
        "crm_liability_account_id",
        "crm_revenue_account_id",
        "crm_breakage_account_id",
        "crm_reward_expense_account_id",
    }
)
# account types each account of the points' accounting may have
IFRS_ACCOUNT_TYPES = {
    "crm_liability_account_id": ("liability_current", "liability_non_current"),
    "crm_revenue_account_id": ("income", "income_other"),
    "crm_breakage_account_id": ("income", "income_other"),
    "crm_reward_expense_account_id": ("expense", "expense_direct_cost"),
}


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
        TIER_BASES,
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
    # IFRS 15: the points as a material right (see crm.loyalty.accounting)
    crm_ifrs = fields.Boolean(
        string="Defer Points Revenue (IFRS 15)",
        help="Part of each invoice that earns points is deferred as a contract liability and "
        "released when the points are redeemed or expire. Set up by an accounting adviser.",
    )
    crm_ifrs_start = fields.Date(
        string="Accounting From",
        help="Points earned from this day are deferred from their invoices; the points "
        "outstanding on this day open the liability.",
    )
    crm_ifrs_posted_until = fields.Date(
        string="Posted Until",
        readonly=True,
        copy=False,
        help="Last day the points' liability was posted; postings only move forward.",
    )
    crm_company_currency_id = fields.Many2one(
        related="company_id.currency_id", string="Company Currency"
    )
    crm_point_value = fields.Monetary(
        string="Value of a Point",
        currency_field="crm_company_currency_id",
        help="Stand-alone selling price of one point in the company currency: the discount "
        "it buys.",
    )
    crm_redemption_rate = fields.Float(
        string="Expected Redemption (%)",
        digits=(5, 2),
        default=100.0,
        help="Share of the points expected to be redeemed, the rest expiring (breakage). "
        "Re-estimate it each period: every change is kept in its history.",
    )
    crm_breakage_mode = fields.Selection(
        [
            ("estimate", "With redemptions (reliable estimate)"),
            ("expiry", "At expiry (no reliable estimate)"),
        ],
        string="Breakage Recognised",
        default="estimate",
        required=True,
    )
    crm_journal_id = fields.Many2one(
        "account.journal",
        string="Loyalty Journal",
        check_company=True,
        domain="[('type', '=', 'general')]",
    )
    crm_liability_account_id = fields.Many2one(
        "account.account",
        string="Contract Liability Account",
        check_company=True,
        domain="[('account_type', 'in', ('liability_current', 'liability_non_current'))]",
    )
    crm_revenue_account_id = fields.Many2one(
        "account.account",
        string="Revenue Account",
        check_company=True,
        domain="[('account_type', 'in', ('income', 'income_other'))]",
    )
    crm_breakage_account_id = fields.Many2one(
        "account.account",
        string="Breakage Income Account",
        check_company=True,
        domain="[('account_type', 'in', ('income', 'income_other'))]",
    )
    crm_reward_expense_account_id = fields.Many2one(
        "account.account",
        string="Reward Expense Account",
        check_company=True,
        domain="[('account_type', 'in', ('expense', 'expense_direct_cost'))]",
    )
    crm_estimate_ids = fields.One2many(
        "crm.loyalty.estimate", "program_id", string="Redemption Estimates"
    )
    crm_points_total = fields.Float(
        string="Points Outstanding",
        compute="_compute_crm_points_total",
        digits=(16, 2),
        help="Sum of the points of the program's cards.",
    )
    # promotions tied to a payment method and a channel
    crm_payment_method_line_ids = fields.Many2many(
        "account.payment.method.line",
        "crm_loyalty_program_payment_line_rel",
        "program_id",
        "line_id",
        string="Required Payment Methods",
        domain="[('payment_type', '=', 'inbound')]",
        help="The promotion holds only for orders to be paid with one of these payment methods "
        "of the company's journals (at the counter, by transfer). Empty: any method.",
    )
    crm_payment_method_ids = fields.Many2many(
        "payment.method",
        "crm_loyalty_program_payment_method_rel",
        "program_id",
        "method_id",
        string="Required Online Payment Methods",
        domain="[('provider_ids', '!=', False)]",
        help="The promotion holds only when the customer pays online with one of these methods "
        "of the company's payment providers (the store's card, say). Empty: any method.",
    )
    crm_payment_restricted = fields.Boolean(
        "Payment Method Required",
        compute="_compute_crm_payment_restricted",
        store=True,
    )
    crm_payment_label = fields.Char(
        "Payment Condition",
        compute="_compute_crm_payment_label",
        help="How the promotion is announced: 'with Tarjeta Tienda Andina'.",
    )
    crm_team_ids = fields.Many2many(
        "crm.team",
        "crm_loyalty_program_team_rel",
        "program_id",
        "team_id",
        string="Sales Teams",
        help="The promotion holds only on orders of these sales teams. Empty: every team.",
    )
    crm_compliance_action = fields.Selection(
        [
            ("debit_note", "Bill the difference on a debit note"),
            ("accept", "An accountant accepts the difference"),
        ],
        string="When Paid Otherwise",
        default="debit_note",
        required=True,
        help="What happens when the invoice of an order that used the promotion is paid with "
        "a method the promotion does not allow: a draft debit note for the discount, or the "
        "difference waits for an accountant to accept it. Either way the order and its invoice "
        "are flagged and an accountant gets an activity.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._crm_check_relation_ids(vals)
            if any(field in vals for field in IFRS_FIELDS):
                self._crm_check_ifrs_access()
                self._crm_check_ifrs_numbers(vals)
            if vals.get("crm_ifrs"):
                company = self.env["res.company"].browse(vals.get("company_id"))
                vals.update(self._crm_ifrs_defaults(company, vals))
        programs = super().create(vals_list)
        programs.filtered("crm_ledger")._crm_open_ledger()
        programs.filtered("crm_ifrs")._crm_record_estimate()
        return programs

    def write(self, vals):
        self._crm_check_relation_ids(vals)
        # an accounting adviser may write programs (their accounting) but not their rules
        if (
            not self.env.su
            and set(vals) - IFRS_FIELDS
            and self.env.user.has_group("account.group_account_manager")
            and not self.env.user.has_group("sales_team.group_sale_manager")
            and not self.env.user.has_group("crm_loyalty.group_manager")
        ):
            raise AccessError(
                self.env._(
                    "Accounting advisers change how a loyalty program is accounted, not its "
                    "rules: ask a loyalty or sales manager."
                )
            )
        if any(field in vals for field in IFRS_FIELDS):
            self._crm_check_ifrs_access()
            self._crm_check_ifrs_numbers(vals)
            self._crm_check_ifrs_frozen(vals)
            if vals.get("crm_ifrs") and len(self) > 1:
                # each program gets the defaults of its own company
                for program in self:
                    program.write(vals)
                return True
            if vals.get("crm_ifrs"):
                vals = {
                    **self._crm_ifrs_defaults(self.company_id, {**self._crm_ifrs_values(), **vals}),
                    **vals,
                }
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
        if "crm_redemption_rate" in vals or vals.get("crm_ifrs"):
            self.filtered("crm_ifrs")._crm_record_estimate()
        return res

    @api.depends("crm_payment_method_line_ids", "crm_payment_method_ids")
    def _compute_crm_payment_restricted(self):
        for program in self:
            program.crm_payment_restricted = bool(
                program.crm_payment_method_line_ids or program.crm_payment_method_ids
            )

    @api.depends("crm_payment_method_line_ids", "crm_payment_method_ids")
    def _compute_crm_payment_label(self):
        for program in self:
            names = list(
                dict.fromkeys(
                    program.crm_payment_method_ids.mapped("name")
                    + program.crm_payment_method_line_ids.mapped("name")
                )
            )
            program.crm_payment_label = (
                self.env._("with %s", format_list(self.env, names, style="or")) if names else False
            )

    def _crm_names_its_payment(self):
        """The program's name already says its payment condition ("Cámara con Tarjeta Tienda
        Andina"): the condition is not announced again beside the name."""
        self.ensure_one()
        label = self.crm_payment_label
        return bool(label) and label.casefold() in (self.name or "").casefold()

    @api.constrains("crm_team_ids", "company_id")
    def _check_crm_teams(self):
        for program in self.filtered(lambda program: program.company_id and program.crm_team_ids):
            companies = program.company_id | program.company_id.parent_ids
            other = program.crm_team_ids.filtered(
                lambda team, companies=companies: (
                    team.company_id and team.company_id not in companies
                )
            )
            if other:
                raise ValidationError(
                    self.env._(
                        "The sales team %(team)s belongs to %(other)s: the promotion %(program)s "
                        "belongs to %(company)s.",
                        team=other[0].name,
                        other=other[0].company_id.name,
                        program=program.name,
                        company=program.company_id.name,
                    )
                )

    @api.constrains("crm_payment_method_line_ids", "crm_payment_method_ids", "company_id")
    def _check_crm_payment_methods(self):
        """A promotion requires methods its company uses: a payment method of one of the
        company's journals, or a method one of its active payment providers offers. Points,
        eWallets and gift cards are not promotions: the points they earn or spend have no
        discount to bill back, so they cannot require a payment method."""
        for program in self.filtered("crm_payment_restricted"):
            if program.program_type in ("loyalty", "ewallet", "gift_card"):
                raise ValidationError(
                    self.env._(
                        "%s is a points, eWallet or gift card program: only promotions, coupons "
                        "and discount codes can require a payment method.",
                        program.name,
                    )
                )
            company = program.company_id
            companies = company | company.parent_ids if company else None
            for line in program.crm_payment_method_line_ids:
                if line.payment_type != "inbound":
                    raise ValidationError(
                        self.env._(
                            "%(method)s of journal %(journal)s pays suppliers: a promotion can "
                            "only require a method customers pay with.",
                            method=line.name,
                            journal=line.journal_id.display_name,
                        )
                    )
                if companies is not None and line.journal_id.company_id not in companies:
                    raise ValidationError(
                        self.env._(
                            "%(method)s is a payment method of %(other)s (journal %(journal)s): "
                            "the promotion %(program)s belongs to %(company)s.",
                            method=line.name,
                            other=line.journal_id.company_id.name,
                            journal=line.journal_id.name,
                            program=program.name,
                            company=company.name,
                        )
                    )
            if not program.crm_payment_method_ids:
                continue
            domain = [
                ("state", "!=", "disabled"),
                ("payment_method_ids", "in", program.crm_payment_method_ids.ids),
            ]
            if company:
                domain += self.env["payment.provider"]._check_company_domain(companies)
            # sudo: payment providers are readable by administrators only; this reads which
            # methods the company's own active providers offer, nothing else of them.
            offered = self.env["payment.provider"].sudo().search(domain).payment_method_ids
            missing = program.crm_payment_method_ids - offered.sudo(False)
            if missing:
                raise ValidationError(
                    self.env._(
                        "No active payment provider of %(company)s offers %(methods)s: enable "
                        "the method on a provider before a promotion requires it.",
                        company=company.name or self.env._("any company"),
                        methods=format_list(self.env, missing.mapped("name")),
                    )
                )

    def _crm_check_relation_ids(self, vals):
        """Channels and payment methods named by id must exist (a JSON-RPC caller may send
        any id): a clear error instead of a database one, and nothing saved."""
        for fname in ("crm_team_ids", "crm_payment_method_ids", "crm_payment_method_line_ids"):
            if fname not in vals:
                continue
            ids = set()
            for command in vals[fname] or []:
                if isinstance(command, (list, tuple)) and command:
                    if command[0] == Command.SET:
                        ids.update(command[2] or [])
                    elif command[0] == Command.LINK:
                        ids.add(command[1])
                    elif command[0] not in (Command.UNLINK, Command.CLEAR):
                        raise ValidationError(
                            self.env._("%s: choose existing records.", self._fields[fname].string)
                        )
                else:
                    ids.add(command)
            comodel = self.env[self._fields[fname].comodel_name]
            if not all(
                isinstance(record_id, int) and not isinstance(record_id, bool) for record_id in ids
            ):
                raise ValidationError(
                    self.env._("%s: records are named by their number.", self._fields[fname].string)
                )
            missing = ids - set(comodel.browse(ids).exists().ids)
            if missing:
                raise ValidationError(
                    self.env._(
                        "%(field)s: there is no %(model)s number %(ids)s.",
                        field=self._fields[fname].string,
                        model=comodel._description,
                        ids=", ".join(str(record_id) for record_id in sorted(missing)),
                    )
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

    @api.constrains(
        "crm_ifrs",
        "crm_ifrs_start",
        "company_id",
        "crm_point_value",
        "crm_redemption_rate",
        "crm_journal_id",
        *IFRS_ACCOUNT_TYPES,
    )
    def _check_crm_ifrs(self):
        for program in self:
            rate = program.crm_redemption_rate
            if not math.isfinite(rate) or not 0 <= rate <= 100:
                raise ValidationError(
                    self.env._(
                        "The expected redemption of %(program)s must be between 0 and 100 %%, "
                        "not %(rate)s.",
                        program=program.display_name,
                        rate=rate,
                    )
                )
            value = program.crm_point_value
            if not math.isfinite(value) or value < 0 or value > MAX_POINTS:
                raise ValidationError(
                    self.env._(
                        "The value of a point of %(program)s cannot be %(value)s.",
                        program=program.display_name,
                        value=value,
                    )
                )
            for field, types in IFRS_ACCOUNT_TYPES.items():
                account = program[field]
                if account and account.account_type not in types:
                    raise ValidationError(
                        self.env._(
                            "%(account)s cannot be the %(role)s of %(program)s: its type is "
                            "%(type)s.",
                            account=account.display_name,
                            role=program._fields[field]._description_string(self.env),
                            program=program.display_name,
                            type=dict(
                                account._fields["account_type"]._description_selection(self.env)
                            )[account.account_type],
                        )
                    )
            company = program.company_id
            foreign = [
                program[field].display_name
                for field in IFRS_ACCOUNT_TYPES
                if program[field] and company and company not in program[field].company_ids
            ]
            if program.crm_journal_id and program.crm_journal_id.company_id != company:
                foreign.append(program.crm_journal_id.display_name)
            if foreign:
                raise ValidationError(
                    self.env._(
                        "%(program)s belongs to %(company)s: it cannot use %(records)s, of "
                        "another company.",
                        program=program.display_name,
                        company=company.display_name,
                        records=", ".join(foreign),
                    )
                )
            if not program.crm_ifrs:
                continue
            if not program.company_id:
                raise ValidationError(
                    self.env._(
                        "%s is shared by every company: only a program of one company can "
                        "defer revenue, in that company's books.",
                        program.display_name,
                    )
                )
            if not program.crm_ifrs_start:
                raise ValidationError(
                    self.env._(
                        "Give the day from which %s defers its points' revenue.",
                        program.display_name,
                    )
                )
            if program.crm_point_value <= 0:
                raise ValidationError(
                    self.env._(
                        "Give the value of a point of %s (the discount it buys) to defer its "
                        "revenue.",
                        program.display_name,
                    )
                )
            missing = [
                program._fields[field]._description_string(self.env)
                for field in ("crm_journal_id", *IFRS_ACCOUNT_TYPES)
                if not program[field]
            ]
            if missing:
                raise ValidationError(
                    self.env._(
                        "%(program)s needs these to defer revenue: %(missing)s.",
                        program=program.display_name,
                        missing=", ".join(missing),
                    )
                )

    # ---------------------------------------------------------------- accounting

    @api.model
    def _crm_check_ifrs_numbers(self, vals):
        """Refuse a rate or point value that is not a finite number before Odoo's rounding
        turns it into a traceback (NaN, infinities, text, lists)."""
        labels = {
            "crm_redemption_rate": self.env._("The expected redemption"),
            "crm_point_value": self.env._("The value of a point"),
        }
        for field, label in labels.items():
            if field not in vals:
                continue
            value = vals[field]
            number = None
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                number = float(value)
            elif isinstance(value, str):
                try:
                    number = float(value)
                except ValueError:
                    number = None
            if value is False:
                continue
            if number is None or not math.isfinite(number):
                raise ValidationError(
                    self.env._(
                        "%(label)s must be a finite number, not %(value)r.",
                        label=label,
                        value=value,
                    )
                )

    def _crm_check_ifrs_frozen(self, vals):
        """Once a program's liability is in the books, its start day, its liability account
        and the deferral itself stay as they are: changing them would count redemptions
        twice, strand the booked balance on the old account or freeze it."""
        frozen = {"crm_ifrs_start", "crm_liability_account_id", "crm_ifrs"} & set(vals)
        if not frozen or not self.ids:
            return
        self.env["crm.loyalty.revenue.line"].flush_model(["program_id"])
        booked = {
            program_id
            for (program_id,) in self.env.execute_query(
                SQL(
                    "SELECT DISTINCT program_id FROM crm_loyalty_revenue_line"
                    " WHERE program_id IN %s",
                    tuple(self.ids),
                )
            )
        }
        for program in self.filtered(lambda program: program.id in booked):
            changed = [
                program._fields[field]._description_string(self.env)
                for field in frozen
                if program._fields[field].convert_to_record(
                    program._fields[field].convert_to_cache(vals[field], program), program
                )
                != program[field]
            ]
            if changed:
                raise UserError(
                    self.env._(
                        "The points' liability of %(program)s is already in the books: "
                        "%(fields)s can no longer change.",
                        program=program.display_name,
                        fields=", ".join(changed),
                    )
                )

    def _crm_check_ifrs_access(self):
        """The points' accounting is set up by an accounting adviser (the superuser, at
        install, too)."""
        if not self.env.su and not self.env.user.has_group("account.group_account_manager"):
            raise AccessError(
                self.env._(
                    "Only accounting advisers can change how a loyalty program is accounted."
                )
            )

    def _crm_ifrs_values(self):
        self.ensure_one()
        return {field: self[field] for field in IFRS_FIELDS}

    @api.model
    def _crm_ifrs_defaults(self, company, vals):
        """Values a program of ``company`` lacks in ``vals`` to start deferring revenue:
        today as start, a point value from its rewards, the accounts and journal (created in
        the company's chart when it has none)."""
        if not company:
            return {}
        Account = self.env["account.account"].with_company(company)
        defaults = {}
        if not vals.get("crm_ifrs_start"):
            defaults["crm_ifrs_start"] = fields.Date.context_today(self)
        if not vals.get("crm_journal_id"):
            defaults["crm_journal_id"] = self._crm_default_journal(company).id
        if not vals.get("crm_revenue_account_id"):
            revenue = company.income_account_id or Account.search(
                [*Account._check_company_domain(company), ("account_type", "=", "income")],
                limit=1,
            )
            defaults["crm_revenue_account_id"] = revenue.id
        accounts = {
            "crm_liability_account_id": (
                "loyalty_liability",
                self.env._("Loyalty programme liability"),
                "liability_current",
                "2191",
            ),
            "crm_breakage_account_id": (
                "loyalty_breakage",
                self.env._("Income from expired points"),
                "income_other",
                "4291",
            ),
            "crm_reward_expense_account_id": (
                "loyalty_reward_expense",
                self.env._("Cost of loyalty rewards"),
                "expense",
                "6291",
            ),
        }
        for field, (name, label, account_type, fallback) in accounts.items():
            if not vals.get(field):
                defaults[field] = self._crm_default_account(
                    company, name, label, account_type, fallback
                ).id
        return defaults

    @api.model
    def _crm_default_account(self, company, name, label, account_type, fallback_code):
        """The account ``name`` of ``company``'s chart made by this addon, created next to
        an account of the same type the first time."""
        xmlid = f"crm_loyalty.{company.id}_{name}"
        account = self.env.ref(xmlid, raise_if_not_found=False)
        if account:
            return account
        Account = self.env["account.account"].with_company(company)
        sample = Account.search(
            [*Account._check_company_domain(company), ("account_type", "=", account_type)],
            limit=1,
        )
        code = Account._search_new_account_code(sample.code or fallback_code)
        account = Account.create(
            {
                "name": label,
                "code": code,
                "account_type": account_type,
                "company_ids": [(6, 0, company.ids)],
            }
        )
        self.env["ir.model.data"]._update_xmlids(
            [{"xml_id": xmlid, "record": account, "noupdate": True}]
        )
        return account

    @api.model
    def _crm_default_journal(self, company):
        xmlid = f"crm_loyalty.{company.id}_loyalty_journal"
        journal = self.env.ref(xmlid, raise_if_not_found=False)
        if journal:
            return journal
        Journal = self.env["account.journal"].with_company(company)
        code = "FIDEL"
        taken = set(Journal.search([("company_id", "=", company.id)]).mapped("code"))
        number = 1
        while code in taken:
            code = f"FID{number}"
            number += 1
        journal = Journal.create(
            {
                "name": self.env._("Loyalty Programme"),
                "code": code,
                "type": "general",
                "company_id": company.id,
            }
        )
        self.env["ir.model.data"]._update_xmlids(
            [{"xml_id": xmlid, "record": journal, "noupdate": True}]
        )
        return journal

    def _crm_record_estimate(self, origin="manual"):
        """Keep the current expected redemption of these programs in their history."""
        Scheduler = self.env["crm.loyalty.accounting"]
        observed = Scheduler._observed_rates(self, fields.Date.context_today(self))
        self.env["crm.loyalty.estimate"].sudo().create(
            [
                {
                    "program_id": program.id,
                    "rate": program.crm_redemption_rate,
                    "observed_rate": program in observed and observed[program] * 100,
                    "origin": origin,
                }
                for program in self
            ]
        )

    def action_crm_ifrs_post(self):
        """Post the points' entries of these programs up to today (the period's button)."""
        self._crm_check_ifrs_post_access()
        # today in the user's time zone as the server knows it, not the request's
        today = fields.Date.context_today(self.with_context(tz=self.env.user.tz or "UTC"))
        moves = self.env["crm.loyalty.accounting"]._post(self, today)
        if not moves:
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {
                    "type": "info",
                    "message": self.env._("Nothing to post: the entries are up to date."),
                },
            }
        return moves._get_records_action(name=self.env._("Loyalty Entries"))

    def _crm_check_ifrs_post_access(self):
        """Posting the points' entries is an accountant's job (Invoicing / Billing or more),
        on programs they may read."""
        if not self.env.user.has_group("account.group_account_invoice"):
            raise AccessError(
                self.env._("Only accountants can post the entries of loyalty programs.")
            )
        self.check_access("read")
        not_deferring = self.filtered(lambda program: not program.crm_ifrs)
        if not_deferring:
            raise UserError(
                self.env._(
                    "%s does not defer revenue: enable IFRS 15 on it first.",
                    ", ".join(not_deferring.mapped("display_name")),
                )
            )

    def action_crm_open_revenue_lines(self):
        self.ensure_one()
        # the lines are the accountants' (and loyalty managers'): refuse anyone else here
        # rather than open an action that would fail
        self.env["crm.loyalty.revenue.line"].check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_loyalty.crm_loyalty_revenue_line_action"
        )
        action["domain"] = [("program_id", "=", self.id)]
        return action

    # ---------------------------------------------------------------- points

    def _crm_points_digits(self):
        """Decimals of the program's points: those of its currency, at most two (a program
        in Chilean pesos counts whole points, as Odoo rounds its cards' points)."""
        self.ensure_one()
        return min(self.currency_id.decimal_places, 2) if self.currency_id else 2

    def _crm_format_points(self, value):
        """``value`` as the user reads points of this program in messages: at the program's
        precision without trailing zeros, in the language of the environment (thousands
        separator and decimal point), as the ``crm_points`` widget shows them."""
        self.ensure_one()
        digits = self._crm_points_digits()
        # rounded first as the ledger rounds (half up), not as "%.2f" would (12.345 -> 12.34)
        value = round_points(value, digits)
        return formatLang(self.env, value, digits=shown_decimals(value, digits))

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
        reason = Ledger._customer_text_sql(
            _lt("Opening balance: points the card held when its ledger started"), "c"
        )
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
                        reason=_lt("Points changed while the program was outside the ledger"),
                    )
            except UserError as error:
                # a card below its own lots cannot be adjusted down: leave it to a manager
                # rather than fail the update of the whole addon
                _logger.warning("Ledger of card %s not opened: %s", card.code, error)
        cards._crm_sync_points()
