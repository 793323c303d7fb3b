from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import AccessError
from odoo.exceptions import ValidationError

from ..tools import check_group


class CrmSegmentPinWizard(models.TransientModel):
    """Pin a customer to a segment (or release the pin) with a reason, in one company."""

    _name = "crm.segment.pin.wizard"
    _description = "Pin Customer to Segment"
    _check_company_auto = True

    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, check_company=True
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        default=lambda self: self.env.company,
        domain=lambda self: [("id", "in", self.env.companies.ids)],
    )
    segment_id = fields.Many2one(
        "crm.customer.segment",
        string="Segment",
        domain="[('company_id', '=', company_id)]",
        help="Leave empty to release the pin: the rules decide again.",
    )
    reason = fields.Char(required=True)

    @api.constrains("segment_id", "company_id")
    def _check_segment_company(self):
        for wizard in self:
            if wizard.segment_id and wizard.segment_id.company_id != wizard.company_id:
                raise ValidationError(
                    self.env._(
                        "Segment %(segment)s belongs to %(other)s, not to %(company)s.",
                        segment=wizard.segment_id.name,
                        other=wizard.segment_id.company_id.name,
                        company=wizard.company_id.name,
                    )
                )

    def action_apply(self):
        """Store the pin on the customer's metrics row and reclassify it (history: manual).

        CRM managers only, in a company they are working in (`env.companies`), for a customer
        they can read.
        """
        self.ensure_one()
        check_group(self.env, "crm_relationship.group_manager")
        if self.company_id not in self.env.companies:
            raise AccessError(
                self.env._(
                    "You can pin customers only in the companies you are working in, not in"
                    " %(company)s.",
                    company=self.company_id.name,
                )
            )
        self.partner_id.check_access("read")
        self.segment_id.check_access("read")
        partner = self.partner_id.commercial_partner_id
        Metric = self.env["crm.customer.metric"]
        metric = Metric.search(
            [("partner_id", "=", partner.id), ("company_id", "=", self.company_id.id)]
        )
        # Metrics and the history are written only by the system: the manager right, the
        # company and the customer were checked above.
        if not metric:
            metric = Metric._refresh_metrics(partner.ids, self.company_id.ids, classify=False)
        pinned = bool(self.segment_id)
        metric.sudo().write(
            {
                "pinned_segment_id": self.segment_id.id,
                "pinned_by_id": self.env.uid if pinned else False,
                "pinned_date": fields.Datetime.now() if pinned else False,
                "pin_reason": self.reason if pinned else False,
            }
        )
        # the pin wins in classification; without one, the rules apply again
        self.env["crm.customer.segment"]._classify_metrics(metric, "manual", self.reason)
        return {"type": "ir.actions.act_window_close"}
