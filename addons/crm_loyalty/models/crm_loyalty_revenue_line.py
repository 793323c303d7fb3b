from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import UserError
from odoo.tools import format_date

from ..tools import ENGINE
from ..tools import in_engine
from ..tools import ledger_scope

# change of the contract liability by kind, and the account on the other side
REVENUE_KINDS = [
    ("opening", "Opening Liability"),
    ("defer", "Deferred on Invoice"),
    ("refund", "Credit Note"),
    ("undo", "Invoice No Longer Posted"),
    ("adjust", "Points Adjustment"),
    ("cancel", "Points Cancelled with their Order"),
    ("release", "Released on Redemption"),
    ("breakage", "Breakage"),
    ("reward_cost", "Cost of Gift Rewards"),
]


class CrmLoyaltyRevenueLine(models.Model):
    """One step of a program's points liability under IFRS 15 (the accountant's audit trail).

    ``amount`` is the change of the contract liability in the company currency: positive
    when revenue is deferred (an invoice earns points, an opening balance, points granted
    by an adjustment), negative when it is released (redemptions, breakage, credit notes, an
    invoice reset to draft). Reward-cost lines book the cost of gifts and leave the liability
    alone. Each line belongs to the journal entry of the posting that created it; lines are
    written by that posting only and never changed: a mistake is corrected by a new line
    (``undo`` lines cancel the allocation of an invoice that is no longer posted).
    """

    _name = "crm.loyalty.revenue.line"
    _description = "Loyalty Points Revenue Allocation"
    _order = "date desc, id desc"
    _check_company_auto = True

    program_id = fields.Many2one("loyalty.program", required=True, index=True, ondelete="restrict")
    company_id = fields.Many2one("res.company", required=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Date(required=True, index=True)
    kind = fields.Selection(REVENUE_KINDS, required=True, index=True)
    partner_id = fields.Many2one("res.partner", string="Customer", index="btree_not_null")
    invoice_id = fields.Many2one(
        "account.move",
        string="Invoice / Credit Note",
        index="btree_not_null",
        ondelete="set null",
    )
    ledger_id = fields.Many2one(
        "crm.loyalty.ledger", string="Ledger Entry", index="btree_not_null", ondelete="restrict"
    )
    origin_id = fields.Many2one(
        "crm.loyalty.revenue.line", string="Cancels", index="btree_not_null", ondelete="restrict"
    )
    undone = fields.Boolean(
        default=False,
        readonly=True,
        help="The invoice of this allocation is no longer posted: cancelled.",
    )
    points = fields.Float(digits=(16, 2), help="Points this line accounts for (signed).")
    price = fields.Monetary(
        string="Transaction Price",
        help="Untaxed amount of the invoice lines of the order, rewards included, that the "
        "allocation split between goods and points.",
    )
    points_ssp = fields.Monetary(
        string="Points Stand-alone Price",
        help="Points x value of a point x expected redemption rate.",
    )
    amount = fields.Monetary(string="Liability Change")
    cost = fields.Monetary(string="Reward Cost")
    rate = fields.Float(string="Expected Redemption (%)", digits=(5, 2))
    move_id = fields.Many2one(
        "account.move", string="Journal Entry", index=True, ondelete="restrict", readonly=True
    )

    # one live allocation per ledger entry and invoice: a posting run twice books nothing twice
    _allocation_once = models.UniqueIndex(
        "(ledger_id, invoice_id) WHERE kind IN ('defer', 'refund') AND undone IS NOT TRUE"
    )
    _undo_once = models.UniqueIndex("(origin_id) WHERE kind = 'undo'")
    _adjust_once = models.UniqueIndex(
        "(ledger_id) WHERE kind IN ('adjust', 'cancel', 'reward_cost')"
    )
    _opening_once = models.UniqueIndex("(program_id) WHERE kind = 'opening'")

    @api.depends("kind", "program_id", "date")
    @api.depends_context("lang")
    def _compute_display_name(self):
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for line in self:
            parts = [kinds.get(line.kind), line.program_id.name, format_date(self.env, line.date)]
            line.display_name = " - ".join(part for part in parts if part)

    @api.model_create_multi
    def create(self, vals_list):
        if not in_engine(self.env):
            raise UserError(
                self.env._("Loyalty revenue lines are written by the period posting only.")
            )
        return super().create(vals_list)

    def write(self, vals):
        if not in_engine(self.env) or set(vals) - {"undone", "move_id"}:
            raise UserError(
                self.env._("Loyalty revenue lines cannot be changed: post a correction instead.")
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(self.env._("Loyalty revenue lines cannot be deleted."))

    def _engine_write(self, vals):
        """Write the system fields (``undone``) as the posting engine, which inserts the lines
        themselves in one statement (crm.loyalty.accounting._insert_lines)."""
        with ledger_scope(self.env, ENGINE):
            return self.sudo().write(vals)

    def action_open_move(self):
        self.ensure_one()
        return self.move_id._get_records_action() if self.move_id else False
