from ast import literal_eval

from odoo import api
from odoo import fields
from odoo import models
from odoo.fields import Domain

from ..tools import check_group

CRM_USER = "crm_relationship.group_user"
CRM_MANAGER = "crm_relationship.group_manager"
INVOICE_GROUPS = "account.group_account_invoice,account.group_account_readonly"


class ResPartner(models.Model):
    """The customer's segment and metrics in the current company, for the Customer 360° page."""

    _inherit = "res.partner"

    crm_segment_id = fields.Many2one(
        "crm.customer.segment",
        string="Segment",
        company_dependent=True,
        readonly=True,
        copy=False,
        groups="crm_relationship.group_user",
        help="Segment of this customer in the current company, set by the classification.",
    )
    crm_metric_id = fields.Many2one(
        "crm.customer.metric",
        string="Customer Metrics",
        compute="_compute_crm_metric_id",
        search="_search_crm_metric_id",
        groups="crm_relationship.group_user",
    )
    # Key metrics of the current company, for the Customer 360° page (one read of the row).
    crm_currency_id = fields.Many2one(
        related="crm_metric_id.currency_id", string="Metrics Currency", groups=CRM_USER
    )
    crm_pinned_segment_id = fields.Many2one(
        related="crm_metric_id.pinned_segment_id", groups=CRM_USER
    )
    crm_pinned_by_id = fields.Many2one(related="crm_metric_id.pinned_by_id", groups=CRM_USER)
    crm_pinned_date = fields.Datetime(related="crm_metric_id.pinned_date", groups=CRM_USER)
    crm_pin_reason = fields.Char(related="crm_metric_id.pin_reason", groups=CRM_USER)
    crm_first_order_date = fields.Date(related="crm_metric_id.first_order_date", groups=CRM_USER)
    crm_last_order_date = fields.Date(related="crm_metric_id.last_order_date", groups=CRM_USER)
    crm_order_count = fields.Integer(related="crm_metric_id.order_count", groups=CRM_USER)
    crm_revenue_total = fields.Monetary(
        related="crm_metric_id.revenue_total", currency_field="crm_currency_id", groups=CRM_USER
    )
    crm_revenue_12m = fields.Monetary(
        related="crm_metric_id.revenue_12m", currency_field="crm_currency_id", groups=CRM_USER
    )
    crm_average_ticket = fields.Monetary(
        related="crm_metric_id.average_ticket", currency_field="crm_currency_id", groups=CRM_USER
    )
    crm_orders_per_month = fields.Float(related="crm_metric_id.orders_per_month", groups=CRM_USER)
    crm_mean_days_between_orders = fields.Float(
        related="crm_metric_id.mean_days_between_orders", groups=CRM_USER
    )
    crm_days_since_last_order = fields.Integer(
        related="crm_metric_id.days_since_last_order", groups=CRM_USER
    )
    crm_margin_total = fields.Monetary(
        related="crm_metric_id.margin_total", currency_field="crm_currency_id", groups=CRM_USER
    )
    crm_margin_percent = fields.Float(related="crm_metric_id.margin_percent", groups=CRM_USER)
    crm_avg_days_late = fields.Float(related="crm_metric_id.avg_days_late", groups=CRM_USER)
    crm_on_time_ratio = fields.Float(related="crm_metric_id.on_time_ratio", groups=CRM_USER)
    crm_overdue_amount = fields.Monetary(
        related="crm_metric_id.overdue_amount", currency_field="crm_currency_id", groups=CRM_USER
    )
    crm_oldest_overdue_days = fields.Integer(
        related="crm_metric_id.oldest_overdue_days", groups=CRM_USER
    )
    crm_preferred_team_id = fields.Many2one(
        related="crm_metric_id.preferred_team_id", groups=CRM_USER
    )
    crm_preferred_medium_id = fields.Many2one(
        related="crm_metric_id.preferred_medium_id", groups=CRM_USER
    )
    crm_refreshed_at = fields.Datetime(related="crm_metric_id.refreshed_at", groups=CRM_USER)
    crm_segment_history_ids = fields.One2many(
        "crm.customer.segment.history",
        "partner_id",
        string="Segment History",
        readonly=True,
        groups="crm_relationship.group_user",
    )
    crm_payment_count = fields.Integer(
        string="Customer Payments", compute="_compute_crm_payment_count", groups=INVOICE_GROUPS
    )

    @api.depends("commercial_partner_id")
    @api.depends_context("company")
    def _compute_crm_metric_id(self):
        commercial = self.commercial_partner_id
        Metric = self.env["crm.customer.metric"]
        # one query for the row and every column the 360° page shows (search + read is two)
        metrics = Metric.search_fetch(
            [("partner_id", "in", commercial.ids), ("company_id", "=", self.env.company.id)]
        )
        by_partner = {metric.partner_id: metric for metric in metrics}
        for partner in self:
            partner.crm_metric_id = by_partner.get(partner.commercial_partner_id, False)

    def _search_crm_metric_id(self, operator, value):
        if operator not in ("in", "any"):
            return NotImplemented
        Metric = self.env["crm.customer.metric"]
        metrics = Metric.browse(v for v in value if v) if operator == "in" else Metric.search(value)
        return [("commercial_partner_id", "in", metrics.partner_id.ids)]

    @api.depends("commercial_partner_id")
    @api.depends_context("company", "allowed_company_ids")
    def _compute_crm_payment_count(self):
        counts = dict(
            self.env["account.payment"]._read_group(
                self.commercial_partner_id._crm_payment_domain(),
                ["partner_id.commercial_partner_id"],
                ["__count"],
            )
        )
        for partner in self:
            partner.crm_payment_count = counts.get(partner.commercial_partner_id, 0)

    def _crm_payment_domain(self):
        """Customer payments received from these commercial partners or their contacts (the
        button's count and the list it opens)."""
        return Domain("partner_id.commercial_partner_id", "in", self.ids) & Domain(
            [("partner_type", "=", "customer"), ("state", "in", ("in_process", "paid"))]
        )

    # ------------------------------------------------------------------ actions
    def action_crm_refresh_metrics(self):
        """Recompute the metrics and segment of these customers in the current company.

        For CRM users (crm_relationship.group_user), whose 360° page shows the button: a
        refresh only recomputes facts from the company's documents and applies the segment
        rules the managers wrote, so reading users may bring them up to date. A salesperson
        without the CRM group and a portal user are refused, as are customers the user cannot
        read and a company the user does not work in.
        """
        check_group(self.env, CRM_USER)
        self.check_access("read")
        company = self.env.company  # AccessError for a company the user may not use
        self.env["crm.customer.metric"]._refresh_metrics(
            self.commercial_partner_id.ids, company.ids
        )
        return True

    def action_crm_pin_segment(self):
        """Open the wizard that pins the customer to a segment (CRM managers; the wizard's
        Apply checks again)."""
        self.ensure_one()
        check_group(self.env, CRM_MANAGER)
        self.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Pin to a Segment"),
            "res_model": "crm.segment.pin.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_partner_id": self.commercial_partner_id.id},
        }

    def action_crm_view_payments(self):
        """Customer payments of this customer and its contacts (Odoo's list, narrowed), for
        the invoicing users the button is shown to."""
        self.ensure_one()
        check_group(self.env, INVOICE_GROUPS)
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_account_payments")
        action["domain"] = list(self.commercial_partner_id._crm_payment_domain())
        action["context"] = dict(
            literal_eval(action.get("context") or "{}"),
            default_partner_id=self.commercial_partner_id.id,
        )
        return action
