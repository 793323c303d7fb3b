from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import ValidationError


class CrmLoyaltyTier(models.Model):
    """A level of a loyalty program (Classic, Silver, Gold...) reached above a threshold."""

    _name = "crm.loyalty.tier"
    _description = "Loyalty Tier"
    _order = "program_id, threshold, id"

    name = fields.Char(required=True, translate=True)
    program_id = fields.Many2one("loyalty.program", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="program_id.company_id", store=True, index=True)
    threshold = fields.Float(
        help="Points earned over the qualifying window needed to reach this tier."
    )
    multiplier = fields.Float(
        default=1.0, help="Factor applied to every accrual of members of this tier."
    )

    _threshold_positive = models.Constraint(
        "CHECK (threshold >= 0)", "A tier threshold cannot be negative."
    )
    _multiplier_positive = models.Constraint(
        "CHECK (multiplier > 0)", "A tier multiplier must be greater than zero."
    )

    @api.constrains("program_id", "threshold")
    def _check_threshold_unique_per_program(self):
        for program in self.program_id:
            thresholds = (
                program.env["crm.loyalty.tier"]
                .search([("program_id", "=", program.id)])
                .mapped("threshold")
            )
            if len(thresholds) != len(set(thresholds)):
                raise ValidationError(
                    self.env._("Two tiers of %s have the same threshold.", program.display_name)
                )
