from ast import literal_eval

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import ValidationError
from odoo.fields import Domain
from odoo.tools import SQL

from ..tools import check_group
from .crm_interaction import CHANNELS

CRM_USER = "crm_relationship.group_user"
CRM_MANAGER = "crm_relationship.group_manager"
INVOICE_GROUPS = "account.group_account_invoice,account.group_account_readonly"
SALES_OR_CRM = "sales_team.group_sale_salesman,crm_relationship.group_user"
# How many of the latest interactions the 360° page lists, and how many interactions and
# orders decide the preferred channel.
LAST_INTERACTIONS = 10
PREFERRED_CHANNEL_WINDOW = 20
# What a partner needs to be reached on a channel.
ADDRESS_CHECKS = {
    "email": lambda partner: partner.email_normalized,
    "phone": lambda partner: partner.phone,
    "sms": lambda partner: partner.phone,
    "letter": lambda partner: partner.street and partner.city,
}
# Orders count for the channel of their UTM medium.
ORDER_MEDIUM_CHANNELS = {
    "utm.utm_medium_email": "email",
    "utm.utm_medium_phone": "phone",
    "utm.utm_medium_website": "web",
    "utm.utm_medium_direct": "visit",
}


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
    # Interactions, consent and birthday (issue 15)
    crm_interaction_count = fields.Integer(
        string="Interactions", compute="_compute_crm_interactions", groups=SALES_OR_CRM
    )
    crm_last_interaction_ids = fields.Many2many(
        "crm.interaction",
        string="Last Interactions",
        compute="_compute_crm_interactions",
        groups=SALES_OR_CRM,
    )
    crm_preferred_channel = fields.Selection(
        CHANNELS,
        string="Preferred Contact Channel",
        compute="_compute_crm_interactions",
        groups=SALES_OR_CRM,
        help="The channel most used in the customer's latest interactions and orders.",
    )
    crm_consent_ids = fields.One2many(
        "crm.consent", "partner_id", string="Contact Consent", groups=SALES_OR_CRM
    )
    crm_birthday = fields.Date(string="Birthday", groups="base.group_user")
    crm_birthday_greeted_year = fields.Integer(
        string="Birthday Handled In",
        readonly=True,
        copy=False,
        groups="base.group_user",
        help="Year of the last birthday greeting sent (or refused and counted) to this contact.",
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

    # ------------------------------------------------------------ interactions and consent
    @api.depends("commercial_partner_id")
    @api.depends_context("company", "allowed_company_ids")
    def _compute_crm_interactions(self):
        """The count and the last interactions of each customer the user may read, and its
        preferred channel: the channel of most of its latest interactions and confirmed orders
        (PREFERRED_CHANNEL_WINDOW of each, in the user's companies, whoever logged them; orders
        by their UTM medium), the most recent on a tie. One query for the whole batch, as the
        360 page reads all three."""
        commercial_ids = self.commercial_partner_id.ids
        summary = {}
        if commercial_ids:
            Interaction = self.env["crm.interaction"]
            Interaction.flush_model(["partner_id", "channel", "date", "company_id", "user_id"])
            self.env["sale.order"].flush_model(["partner_id", "medium_id", "date_order", "state"])
            # the interactions the user may read (record rules), latest first
            query = Interaction._search([("partner_id", "in", commercial_ids)])
            table = query.table
            visible = query.select(
                SQL.identifier(table, "id"),
                SQL.identifier(table, "partner_id"),
                SQL(
                    "ROW_NUMBER() OVER (PARTITION BY %s ORDER BY %s DESC, %s DESC) AS rank",
                    SQL.identifier(table, "partner_id"),
                    SQL.identifier(table, "date"),
                    SQL.identifier(table, "id"),
                ),
                SQL(
                    "COUNT(*) OVER (PARTITION BY %s) AS total", SQL.identifier(table, "partner_id")
                ),
            )
            mediums = {
                medium_id: channel
                for xmlid, channel in ORDER_MEDIUM_CHANNELS.items()
                if (medium_id := self.env["ir.model.data"]._xmlid_to_res_id(xmlid))
            }
            order_channel = SQL("NULL::varchar")
            if mediums:
                order_channel = SQL(
                    "(CASE %s END)",
                    SQL(" ").join(
                        SQL("WHEN so.medium_id = %s THEN %s", medium_id, channel)
                        for medium_id, channel in mediums.items()
                    ),
                )
            rows = self.env.execute_query(
                SQL(
                    """
                    WITH visible AS (%(visible)s),
                    last AS (
                        SELECT partner_id, array_agg(id ORDER BY rank) AS ids, MAX(total) AS total
                          FROM visible WHERE rank <= %(last)s GROUP BY partner_id
                    ), recent AS (
                        SELECT partner_id, channel, date FROM (
                            SELECT partner_id, channel, date,
                                   ROW_NUMBER() OVER (PARTITION BY partner_id
                                                      ORDER BY date DESC, id DESC) AS rank
                              FROM crm_interaction
                             WHERE partner_id IN %(partners)s AND company_id IN %(companies)s
                        ) i WHERE rank <= %(window)s
                        UNION ALL
                        SELECT partner_id, channel, date FROM (
                            SELECT p.commercial_partner_id AS partner_id,
                                   %(order_channel)s AS channel, so.date_order AS date,
                                   ROW_NUMBER() OVER (PARTITION BY p.commercial_partner_id
                                                      ORDER BY so.date_order DESC, so.id DESC)
                                       AS rank
                              FROM sale_order so
                              JOIN res_partner p ON p.id = so.partner_id
                             WHERE p.commercial_partner_id IN %(partners)s
                               AND so.company_id IN %(companies)s AND so.state = 'sale'
                        ) o WHERE rank <= %(window)s AND channel IS NOT NULL
                    ), preferred AS (
                        SELECT DISTINCT ON (partner_id) partner_id, channel
                          FROM recent
                      GROUP BY partner_id, channel
                      ORDER BY partner_id, count(*) DESC, max(date) DESC, channel
                    )
                    SELECT c.id, last.ids, last.total, preferred.channel
                      FROM unnest(%(partner_list)s::int[]) AS c(id)
                 LEFT JOIN last ON last.partner_id = c.id
                 LEFT JOIN preferred ON preferred.partner_id = c.id
                    """,
                    visible=visible,
                    last=LAST_INTERACTIONS,
                    partners=tuple(commercial_ids),
                    partner_list=list(commercial_ids),
                    companies=tuple(self.env.companies.ids),
                    window=PREFERRED_CHANNEL_WINDOW,
                    order_channel=order_channel,
                )
            )
            summary = {row[0]: row[1:] for row in rows}
        for partner in self:
            ids, total, channel = summary.get(partner.commercial_partner_id.id, (None, 0, None))
            partner.crm_last_interaction_ids = ids or []
            partner.crm_interaction_count = total or 0
            partner.crm_preferred_channel = channel or False

    @api.constrains("crm_birthday")
    def _check_crm_birthday(self):
        today = fields.Date.context_today(self)
        for partner in self:
            if partner.crm_birthday and partner.crm_birthday > today:
                raise ValidationError(
                    self.env._(
                        "The birthday of %(name)s cannot be in the future (%(date)s).",
                        name=partner.display_name,
                        date=partner.crm_birthday,
                    )
                )

    def _crm_consent_opt_in(self, channel):
        """{partner id: whether consent allows contacting it on `channel`}: its own choice,
        else its company's, else yes (no row, no objection). One query for the batch."""
        Consent = self.env["crm.consent"].sudo()  # sudo: consent is read to obey it, not shown
        consents = Consent.search_fetch(
            [
                ("partner_id", "in", (self | self.commercial_partner_id).ids),
                ("channel", "=", channel),
            ],
            ["partner_id", "opt_in"],
        )
        opt_in = {consent.partner_id.id: consent.opt_in for consent in consents}
        return {
            partner.id: opt_in.get(partner.id, opt_in.get(partner.commercial_partner_id.id, True))
            for partner in self
        }

    def _crm_contact_refusals(self, channel):
        """{partner: reason} for the partners of `self` that must not be contacted on
        `channel`: opted out (their own consent, else their company's), on Odoo's e-mail
        or phone blacklist, or without an address on that channel. Reads only, for the whole batch."""
        opt_in = self._crm_consent_opt_in(channel)
        has_address = ADDRESS_CHECKS.get(channel, lambda partner: True)
        refusals = {}
        for partner in self:
            if not opt_in[partner.id]:
                refusals[partner] = "opted_out"
            elif not has_address(partner):
                refusals[partner] = "no_address"
            elif partner._crm_blacklisted(channel):
                refusals[partner] = "blacklisted"
        return refusals

    def _crm_blacklisted(self, channel):
        """Whether Odoo's blacklist of `channel` holds this partner: the e-mail blacklist, or
        the phone blacklist for calls and SMS where phone_validation is installed."""
        self.ensure_one()
        # sudo: the blacklist flags are read to obey them
        partner = self.sudo()
        if channel == "email":
            return partner.is_blacklisted
        if channel in ("phone", "sms") and "phone_sanitized_blacklisted" in partner._fields:
            return partner.phone_sanitized_blacklisted
        return False

    def _crm_can_contact(self, channel, purpose=False):
        """The partners of `self` that may be contacted on `channel` (consent, blacklist and
        address; see _crm_contact_refusals). Every outbound send asks it with its `purpose`
        (a crm.contact.refusal purpose): each refused partner is then counted in the refused
        sends log instead of being silently dropped."""
        refusals = self._crm_contact_refusals(channel)
        if purpose and refusals:
            # sudo: the log is written by the send itself, whoever runs it (a cron, a user
            # sending a campaign); it holds only what was refused and why.
            self.env["crm.contact.refusal"].sudo().create(
                [
                    {
                        "partner_id": partner.id,
                        "channel": channel,
                        "reason": reason,
                        "purpose": purpose,
                        "company_id": (partner.company_id or self.env.company).id,
                    }
                    for partner, reason in refusals.items()
                ]
            )
        return self.filtered(lambda partner: partner not in refusals)

    def action_crm_log_interaction(self):
        """Open a small interaction form for this customer (a contact is its contact person),
        for salespeople and CRM users; saving it logs the interaction."""
        self.ensure_one()
        check_group(self.env, SALES_OR_CRM)
        self.check_access("read")
        context = {
            "default_partner_id": self.commercial_partner_id.id,
            "default_channel": "phone",
            "default_direction": "outbound",
        }
        # defaults only: whatever a client sends as defaults, create() normalises the customer
        # and the contact and checks that the user may read both
        if self != self.commercial_partner_id:
            context["default_contact_id"] = self.id
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Log Interaction"),
            "res_model": "crm.interaction",
            "view_mode": "form",
            "views": [
                (self.env.ref("crm_relationship.crm_interaction_view_form_quick").id, "form")
            ],
            "target": "new",
            "context": context,
        }

    def action_crm_view_interactions(self):
        """The interactions of this customer (and its contacts)."""
        self.ensure_one()
        check_group(self.env, SALES_OR_CRM)
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_relationship.crm_interaction_action"
        )
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {"default_partner_id": self.commercial_partner_id.id}
        return action
