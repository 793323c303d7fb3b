from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import ValidationError
from odoo.fields import Domain
from odoo.tools import SQL

# Trace states of a mail that left: the recipient was reached (or at least sent to).
REACHED_STATES = ("pending", "sent", "open", "reply")


class MailingMailing(models.Model):
    """A mailing on contacts may target a customer segment: its recipients are then the
    segment's customers at send time (narrowed by the mailing's own filter), and its revenue
    is what those customers ordered in the days after they received it."""

    _inherit = "mailing.mailing"

    crm_segment_id = fields.Many2one(
        "crm.customer.segment",
        string="Customer Segment",
        index="btree_not_null",
        help="Send to the customers in this segment when the mailing goes out (not when it is"
        " written), in the segment's company. The filter below narrows them further.",
    )
    crm_segment_recipient_count = fields.Integer(
        string="Segment Recipients",
        compute="_compute_crm_segment_recipient_count",
        help="Contacts the mailing would reach if it were sent now, before consent is checked.",
    )
    crm_revenue_days = fields.Integer(
        string="Revenue Window (days)",
        default=30,
        help="Orders confirmed by a recipient within this many days after receiving the"
        " mailing count as its revenue.",
    )
    crm_revenue_currency_id = fields.Many2one(
        "res.currency", string="Revenue Currency", compute="_compute_crm_revenue"
    )
    crm_revenue = fields.Monetary(
        string="Campaign Revenue",
        compute="_compute_crm_revenue",
        currency_field="crm_revenue_currency_id",
        help="Untaxed amount, in the company currency, of the confirmed orders of the"
        " recipients within the revenue window after the mailing reached them.",
    )
    crm_revenue_order_count = fields.Integer(
        string="Campaign Orders", compute="_compute_crm_revenue"
    )

    _crm_revenue_days_positive = models.Constraint(
        "CHECK (crm_revenue_days >= 0)", "The revenue window cannot be negative."
    )

    @api.depends("crm_segment_id", "mailing_domain", "mailing_model_real")
    def _compute_crm_segment_recipient_count(self):
        for mailing in self:
            if mailing.crm_segment_id and mailing.mailing_model_real == "res.partner":
                mailing.crm_segment_recipient_count = self.env["res.partner"].search_count(
                    mailing._get_recipients_domain()
                )
            else:
                mailing.crm_segment_recipient_count = 0

    @api.depends("crm_segment_id", "crm_revenue_days", "sent_date")
    def _compute_crm_revenue(self):
        """One query for the batch: each confirmed order of the mailing's company counts once
        per mailing when its customer received the mailing (a reached trace) at most
        `crm_revenue_days` days before the order."""
        companies = {mailing: mailing._get_crm_company() for mailing in self}
        done = self.filtered(lambda m: m.id and m.sent_date)
        rows = {}
        if done:
            self.env["sale.order"].flush_model(
                [
                    "partner_id",
                    "company_id",
                    "state",
                    "date_order",
                    "amount_untaxed",
                    "currency_rate",
                ]
            )
            self.env["mailing.trace"].flush_model(
                ["mass_mailing_id", "model", "res_id", "trace_status", "sent_datetime"]
            )
            self.env["res.partner"].flush_model(["commercial_partner_id"])
            # Raw read of orders: the campaign's revenue is a total shown to marketing users,
            # who have no right on sales orders; no order leaves this query.
            result = self.env.execute_query(
                SQL(
                    """
                    WITH m AS (
                        SELECT * FROM unnest(%(ids)s::int[], %(companies)s::int[],
                                             %(days)s::int[]) AS m(id, company_id, days)
                    )
                    SELECT m.id, count(so.id),
                           coalesce(sum(so.amount_untaxed / NULLIF(so.currency_rate, 0)), 0)
                      FROM m
                      JOIN sale_order so ON so.company_id = m.company_id AND so.state = 'sale'
                      JOIN res_partner p ON p.id = so.partner_id
                     WHERE EXISTS (
                            SELECT 1
                              FROM mailing_trace t
                              JOIN res_partner tp ON tp.id = t.res_id
                             WHERE t.mass_mailing_id = m.id
                               AND t.model = 'res.partner'
                               AND t.trace_status IN %(reached)s
                               AND tp.commercial_partner_id = p.commercial_partner_id
                               AND so.date_order >= t.sent_datetime
                               AND so.date_order < t.sent_datetime + make_interval(days => m.days)
                           )
                  GROUP BY m.id
                    """,
                    ids=done.ids,
                    companies=[companies[mailing].id for mailing in done],
                    days=[mailing.crm_revenue_days for mailing in done],
                    reached=REACHED_STATES,
                )
            )
            rows = {mailing_id: (count, amount) for mailing_id, count, amount in result}
        for mailing in self:
            count, amount = rows.get(mailing.id, (0, 0.0))
            mailing.crm_revenue_currency_id = companies[mailing].currency_id
            mailing.crm_revenue_order_count = count
            mailing.crm_revenue = amount

    @api.constrains("crm_segment_id", "mailing_model_id")
    def _check_crm_segment(self):
        """A segment mailing goes to contacts, and the user saving it may read the segment
        (record rules: a segment of the companies they work in), since the mail queue later
        sends it as superuser. Constraints run as superuser: the check is the user's own."""
        user = self.env.user
        for mailing in self:
            if mailing.crm_segment_id and not user._is_superuser():
                mailing.crm_segment_id.with_user(user).check_access("read")
            if mailing.crm_segment_id and mailing.mailing_model_real != "res.partner":
                raise ValidationError(
                    self.env._(
                        "A mailing to the customer segment %(segment)s must be sent to contacts.",
                        segment=mailing.crm_segment_id.name,
                    )
                )

    def _get_crm_company(self):
        """The company of the campaign: its segment's, else the current one."""
        self.ensure_one()
        return self.crm_segment_id.company_id or self.env.company

    def _get_recipients_domain(self):
        """The mailing's filter, narrowed to the segment's customers as they are now."""
        domain = super()._get_recipients_domain()
        if self.crm_segment_id and self.mailing_model_real == "res.partner":
            domain &= Domain("id", "in", self.crm_segment_id._get_campaign_partner_ids())
        return domain
