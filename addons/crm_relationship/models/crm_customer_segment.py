import ast

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import ValidationError
from odoo.fields import Domain
from odoo.tools import SQL
from odoo.tools import split_every

from .crm_customer_metric import CRON_BATCH_SIZE

# Metrics that cannot be negative: a condition comparing them to a negative number is a
# typing mistake, not a rule.
NON_NEGATIVE_FIELDS = {
    "order_count",
    "invoice_count",
    "orders_per_month",
    "mean_days_between_orders",
    "days_since_last_order",
    "avg_days_late",
    "on_time_ratio",
    "overdue_amount",
    "oldest_overdue_days",
}


class CrmCustomerSegment(models.Model):
    """A class of customers defined by explicit criteria ("Premium": over 1,000,000 a year).

    `domain` is a domain over `crm.customer.metric`. A customer belongs to the first segment of
    its company, by sequence, whose domain it matches, unless a manager pinned it elsewhere.
    """

    _name = "crm.customer.segment"
    _description = "Customer Segment"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    color = fields.Integer()
    active = fields.Boolean(default=True)
    description = fields.Text(translate=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    domain = fields.Char(
        string="Criteria",
        default="[]",
        required=True,
        help="Conditions on the customer metrics; an empty rule matches every customer.",
    )
    matching_count = fields.Integer(
        string="Matching Customers",
        compute="_compute_matching_count",
        help="Customers of the company whose current metrics match the criteria.",
    )
    member_count = fields.Integer(string="Customers", compute="_compute_member_stats")
    member_revenue_12m = fields.Monetary(
        string="Revenue (12 months)", compute="_compute_member_stats"
    )

    _name_company_uniq = models.UniqueIndex(
        "(company_id, name)", "A segment with this name already exists in this company."
    )

    @api.depends("domain", "company_id")
    def _compute_matching_count(self):
        Metric = self.env["crm.customer.metric"]
        for segment in self:
            try:
                domain = segment._get_metric_domain()
            except ValidationError:
                segment.matching_count = 0
                continue
            company = segment.company_id or self.env.company
            segment.matching_count = Metric.search_count(
                domain & Domain("company_id", "=", company.id)
            )

    def _compute_member_stats(self):
        groups = self.env["crm.customer.metric"]._read_group(
            [("segment_id", "in", self.ids)],
            ["segment_id"],
            ["__count", "revenue_12m:sum"],
        )
        stats = {segment: (count, revenue) for segment, count, revenue in groups}
        for segment in self:
            segment.member_count, segment.member_revenue_12m = stats.get(segment, (0, 0.0))

    @api.constrains("domain")
    def _check_domain(self):
        for segment in self:
            segment._get_metric_domain()

    # ------------------------------------------------------------------ business
    def _get_metric_domain(self):
        """The criteria as a validated `Domain` over crm.customer.metric (ValidationError)."""
        self.ensure_one()
        Metric = self.env["crm.customer.metric"]
        try:
            domain = Domain(ast.literal_eval((self.domain or "[]").strip()))
            domain.validate(Metric)
        except (ValueError, SyntaxError, TypeError, KeyError) as error:
            raise ValidationError(
                self.env._(
                    "The criteria of segment %(segment)s are not a valid rule on customer"
                    " metrics: %(error)s",
                    segment=self.name,
                    error=error,
                )
            ) from error
        for condition in domain.iter_conditions():
            name = condition.field_expr.split(".")[0]
            values = (
                condition.value if isinstance(condition.value, (list, tuple)) else [condition.value]
            )
            numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
            if name in NON_NEGATIVE_FIELDS and any(v < 0 for v in numbers):
                raise ValidationError(
                    self.env._(
                        "Segment %(segment)s compares %(field)s with a negative number;"
                        " this metric is never negative.",
                        segment=self.name,
                        field=Metric._fields[name].string,
                    )
                )
        return domain

    @api.model
    def _classify_metrics(self, metrics, reason="rule", note=None):
        """Assign each metric the first matching segment of its company (or its pin).

        One search per segment over the batch; changes are written with set-based SQL, mirrored
        on `res.partner.crm_segment_id` and logged in the segment history with `reason`.
        """
        if not metrics:
            return
        self.env.flush_all()
        state = self.env.execute_query(
            SQL(
                """SELECT id, company_id, segment_id, pinned_segment_id
                     FROM crm_customer_metric WHERE id = ANY(%s)""",
                metrics.ids,
            )
        )
        by_company = {}
        for metric_id, company_id, _current, pinned in state:
            if not pinned:  # a pin wins: no rule needs to be tried
                by_company.setdefault(company_id, set()).add(metric_id)
        # classification is a system step over every customer, not a user's edit
        Metric = self.env["crm.customer.metric"].sudo()
        new_segment = {}
        for company_id, pending in by_company.items():
            # every segment of the company applies, whatever the running user may read
            for segment in self.sudo().search([("company_id", "=", company_id)]):
                if not pending:
                    break
                domain = segment._get_metric_domain() & Domain("id", "in", list(pending))
                matched = Metric.search(domain, order="id").ids
                new_segment.update(dict.fromkeys(matched, segment.id))
                pending.difference_update(matched)
        changes = [
            (metric_id, target)
            for metric_id, _company, current, pinned in state
            if (target := pinned or new_segment.get(metric_id)) != current
        ]
        self._apply_segment_changes(changes, reason, note)

    @api.model
    def _apply_segment_changes(self, changes, reason, note=None):
        """Write [(metric id, new segment id or None)], mirror them on the partners and log
        one history row per change."""
        if not changes:
            return
        metric_ids = [c[0] for c in changes]
        segment_ids = [c[1] for c in changes]
        self.env.flush_all()
        self.env.execute_query(
            SQL(
                """
                WITH v AS (
                    SELECT * FROM unnest(%(metrics)s::int[], %(segments)s::int[]) AS v(id, seg)
                ), hist AS (
                    INSERT INTO crm_customer_segment_history
                           (partner_id, company_id, old_segment_id, new_segment_id, date,
                            reason, note, user_id)
                    SELECT m.partner_id, m.company_id, m.segment_id, v.seg,
                           now() AT TIME ZONE 'UTC', %(reason)s, %(note)s, %(uid)s
                      FROM v JOIN crm_customer_metric m ON m.id = v.id
                ), upd AS (
                    UPDATE crm_customer_metric m SET segment_id = v.seg
                      FROM v WHERE m.id = v.id
                 RETURNING m.partner_id, m.company_id, v.seg
                )
                UPDATE res_partner p
                   SET crm_segment_id = COALESCE(p.crm_segment_id, '{}'::jsonb)
                                        || jsonb_build_object(upd.company_id::text, upd.seg)
                  FROM upd WHERE p.id = upd.partner_id
                """,
                metrics=metric_ids,
                segments=segment_ids,
                reason=reason,
                note=note,
                uid=self.env.uid,
            )
        )
        self.env["crm.customer.metric"].invalidate_model(["segment_id"])
        self.env["res.partner"].invalidate_model(["crm_segment_id"])
        self.env["crm.customer.segment.history"].invalidate_model()

    # ------------------------------------------------------------------ actions
    def action_view_members(self):
        """Customers currently in this segment."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.name,
            "res_model": "crm.customer.metric",
            "view_mode": "list,form",
            "domain": [("segment_id", "=", self.id)],
        }

    def action_view_matching(self):
        """Customers whose metrics match the criteria now (before the next classification)."""
        self.ensure_one()
        domain = self._get_metric_domain() & Domain("company_id", "=", self.company_id.id)
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Matching %(segment)s", segment=self.name),
            "res_model": "crm.customer.metric",
            "view_mode": "list,form",
            "domain": list(domain),
        }

    def action_reclassify(self):
        """Re-run the classification of the segment companies' customers on current metrics."""
        Metric = self.env["crm.customer.metric"]
        metrics = Metric.search([("company_id", "in", self.company_id.ids)])
        for ids in split_every(CRON_BATCH_SIZE, metrics.ids):
            self._classify_metrics(Metric.browse(ids))
        return True
