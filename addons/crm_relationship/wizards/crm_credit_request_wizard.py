from odoo import api
from odoo import fields
from odoo import models

from ..tools import check_group

SALESMAN = "sales_team.group_sale_salesman"


class CrmCreditRequestWizard(models.TransientModel):
    """A salesperson asks, for a customer, to extend the customer's credit line."""

    _name = "crm.credit.request.wizard"
    _description = "Request More Credit"

    partner_id = fields.Many2one("res.partner", "Customer", required=True, readonly=True)
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    # required in the form; the request refuses a missing or non-positive amount itself
    requested_limit = fields.Monetary(
        "New Limit Requested",
        compute="_compute_requested_limit",
        store=True,
        readonly=False,
    )
    reason = fields.Text()

    @api.depends("partner_id", "company_id")
    def _compute_requested_limit(self):
        # starts at the limit the policy suggests, for the users who read it on the 360° tab
        may_read = self.env["crm.customer.metric"].has_access("read")
        for wizard in self:
            partner = wizard.partner_id.commercial_partner_id.with_company(wizard.company_id)
            wizard.requested_limit = partner.crm_credit_limit_suggested if may_read else 0.0

    def action_submit(self):
        self.ensure_one()
        check_group(self.env, SALESMAN)
        self.partner_id.check_access("read")
        # the company the user works in (Odoo checks it against the user's companies), never
        # the wizard's field: a JSON-RPC caller may write any company there
        request = self.env["crm.credit.request"]._submit(
            self.partner_id, self.env.company, self.requested_limit, self.reason, "backoffice"
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.credit.request",
            "res_id": request.id,
            "view_mode": "form",
            "target": "current",
        }
