from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import ValidationError

from ..lib.points import check_tier_table


class CrmLoyaltyTier(models.Model):
    """A level of a loyalty program (Classic, Silver, Gold...) reached above a threshold.

    Thresholds strictly increase with the sequence; the qualifying value (points earned
    or amount spent over the program's rolling window) picks the highest tier reached.
    """

    _name = "crm.loyalty.tier"
    _description = "Loyalty Tier"
    _order = "program_id, sequence, threshold, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    program_id = fields.Many2one("loyalty.program", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="program_id.company_id", store=True, index=True)
    # a sum or average of thresholds or factors means nothing: no aggregate in group rows
    threshold = fields.Float(
        aggregator=False,
        help="Points earned (or amount spent) over the qualifying window needed to reach this tier.",
    )
    multiplier = fields.Float(
        default=1.0,
        aggregator=False,
        help="Factor applied to every accrual of members of this tier.",
    )
    reward_ids = fields.Many2many(
        "loyalty.reward",
        string="Extra Rewards",
        domain="[('program_id', '=', program_id)]",
        help="Rewards of the program that only members of this tier or a higher one can claim.",
    )
    card_count = fields.Integer(compute="_compute_card_count", string="Members")
    # what the threshold counts, for showing it: points, or an amount in the program's currency
    tier_basis = fields.Selection(related="program_id.crm_tier_basis")
    currency_id = fields.Many2one(related="program_id.currency_id")

    _threshold_positive = models.Constraint(
        "CHECK (threshold >= 0)", "A tier threshold cannot be negative."
    )
    _multiplier_positive = models.Constraint(
        "CHECK (multiplier > 0)", "A tier multiplier must be greater than zero."
    )

    def _compute_card_count(self):
        counts = dict(
            self.env["loyalty.card"]._read_group(
                [("crm_tier_id", "in", self.ids)], ["crm_tier_id"], ["__count"]
            )
        )
        for tier in self:
            tier.card_count = counts.get(tier, 0)

    @api.constrains("program_id", "threshold", "sequence")
    def _check_threshold_order(self):
        tiers_by_program = dict(
            self.env["crm.loyalty.tier"]._read_group(
                [("program_id", "in", self.program_id.ids)], ["program_id"], ["id:recordset"]
            )
        )
        for program, tiers in tiers_by_program.items():
            table = [(tier.sequence, tier.threshold, tier.name) for tier in tiers]
            thresholds = [row[1] for row in table]
            if len(thresholds) != len(set(thresholds)):
                raise ValidationError(
                    self.env._("Two tiers of %s have the same threshold.", program.display_name)
                )
            culprit = check_tier_table(table)
            if culprit:
                raise ValidationError(
                    self.env._(
                        "The tiers of %(program)s are not ordered: %(tier)s must have a higher "
                        "threshold than the tiers before it.",
                        program=program.display_name,
                        tier=culprit,
                    )
                )
