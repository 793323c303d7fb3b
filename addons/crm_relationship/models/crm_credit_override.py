from odoo import fields
from odoo import models

from ..tools import check_group

CREDIT_MANAGER = "crm_relationship.group_credit_manager"


class CrmCreditOverride(models.Model):
    """A credit manager accepted an order that the credit check refused: who, when, why, and
    the figures at that moment. Read by accountants; never edited."""

    _name = "crm.credit.override"
    _description = "House Credit Override"
    _order = "create_date desc, id desc"
    _rec_name = "order_id"
    _check_company_auto = True

    order_id = fields.Many2one(
        "sale.order",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
        check_company=True,
    )
    partner_id = fields.Many2one("res.partner", "Customer", required=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    amount = fields.Monetary("Order Total", readonly=True)
    user_id = fields.Many2one("res.users", "Overridden By", required=True, readonly=True)
    reason = fields.Text("Why", required=True, readonly=True)
    block_reason = fields.Text("Credit Check Said", readonly=True)

    def _check_credit_manager(self):
        check_group(self.env, CREDIT_MANAGER)
