from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import ValidationError

from ..lib.points import add_months


class CrmLoyaltyStatementWizard(models.TransientModel):
    """Choose the period of the points statement printed for one or more cards."""

    _name = "crm.loyalty.statement.wizard"
    _description = "Print Points Statement"

    card_ids = fields.Many2many("loyalty.card", string="Cards", required=True)
    date_from = fields.Date(
        string="From",
        required=True,
        default=lambda self: add_months(fields.Date.context_today(self), -3),
    )
    date_to = fields.Date(string="To", required=True, default=fields.Date.context_today)

    @api.constrains("date_from", "date_to")
    def _check_period(self):
        for wizard in self:
            if wizard.date_from > wizard.date_to:
                raise ValidationError(self.env._("The statement must start before it ends."))

    def action_print(self):
        """The report action printing the wizard's cards over its period.

        A report action with data makes the web client print with the data alone (the record
        ids are left out of the URL): the card ids travel in the data, next to the period.
        """
        self.ensure_one()
        return self.env.ref("crm_loyalty.action_report_loyalty_statement").report_action(
            self.card_ids,
            data={
                "card_ids": self.card_ids.ids,
                "date_from": fields.Date.to_string(self.date_from),
                "date_to": fields.Date.to_string(self.date_to),
            },
        )
