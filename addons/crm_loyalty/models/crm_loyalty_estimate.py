from odoo import api
from odoo import fields
from odoo import models


class CrmLoyaltyEstimate(models.Model):
    """One estimate of the share of a program's points that will be redeemed (IFRS 15 B42).

    The program keeps its current estimate; each change is recorded here with its date and
    author, and each period's posting records the estimate it used beside the rate the closed
    points showed, so an auditor sees how the estimate moved and why.
    """

    _name = "crm.loyalty.estimate"
    _description = "Loyalty Redemption Rate Estimate"
    _order = "date desc, id desc"

    program_id = fields.Many2one("loyalty.program", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="program_id.company_id", store=True, index=True)
    date = fields.Date(required=True, default=fields.Date.context_today)
    rate = fields.Float(
        string="Expected Redemption (%)", digits=(5, 2), required=True, readonly=True
    )
    observed_rate = fields.Float(
        string="Observed Redemption (%)",
        digits=(5, 2),
        readonly=True,
        help="Points redeemed over points redeemed or expired since the accounting started, "
        "when the estimate was recorded.",
    )
    origin = fields.Selection(
        [("manual", "Changed by a user"), ("posting", "Period posting")],
        required=True,
        default="manual",
        readonly=True,
    )
    user_id = fields.Many2one("res.users", default=lambda self: self.env.user, readonly=True)

    @api.model
    def _rate_on(self, programs, day):
        """{program: rate (fraction)} in force on ``day``: the last estimate dated on or before
        it, else the program's current one."""
        rates = {program: program.crm_redemption_rate / 100 for program in programs}
        # sudo: the rate is a setting of the program, read by whoever may post its entries
        estimates = self.sudo().search(
            [("program_id", "in", programs.ids), ("date", "<=", day), ("origin", "=", "manual")],
            order="date desc, id desc",
        )
        seen = set()
        for estimate in estimates:
            if estimate.program_id not in seen:
                seen.add(estimate.program_id)
                rates[estimate.program_id] = estimate.rate / 100
        return rates
