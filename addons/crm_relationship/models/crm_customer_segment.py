import ast
import logging
from datetime import datetime
from datetime import time

import psycopg2

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.exceptions import ValidationError
from odoo.fields import Domain
from odoo.tools import SQL
from odoo.tools import split_every

from ..tools import check_group
from ..tools import find_operator
from ..tools import reads_own_columns_only
from ..tools import search_x2many_ids
from .crm_customer_metric import CRON_BATCH_SIZE

_logger = logging.getLogger(__name__)

CRM_USER = "crm_relationship.group_user"
CRM_MANAGER = "crm_relationship.group_manager"

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

# What running a rule may raise when the rule itself is at fault: a value PostgreSQL cannot
# cast (DataError), a column or operator that no longer exists (ProgrammingError), a value or
# path the ORM refuses (ValueError, TypeError, KeyError, AttributeError), a model the rule's
# user may not read (AccessError, a UserError). Lock and serialization errors (OperationalError)
# are not the rule's fault: they propagate, so that Odoo retries the request or the cron.
RULE_ERRORS = (
    psycopg2.DataError,
    psycopg2.ProgrammingError,
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
    UserError,
)
# Operators a rule may not use: 'any!' skips the record rules of the records it searches, and
# a hierarchy is expanded with rights of its own.
REFUSED_OPERATORS = ("any!", "not any!", "child_of", "parent_of")


class CrmCustomerSegment(models.Model):
    """A class of customers defined by explicit criteria ("Premium": over 1,000,000 a year).

    `domain` is a domain over `crm.customer.metric`. A customer belongs to the first segment of
    its company, by sequence, whose domain it matches, unless a manager pinned it elsewhere.

    A rule is run when it is saved (under the saving user's rights, in the segment's company)
    and refused if it fails. It is evaluated in its company only (`_get_rule_metric_model`); a
    rule that fails later is skipped by the classification and its error kept in `rule_error`.
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
    rule_user_id = fields.Many2one(
        "res.users",
        string="Criteria Saved By",
        readonly=True,
        copy=False,
        help="Criteria reading other records than the customer metrics (orders, the customer's"
        " fields) run with this user's rights, in the segment's company only.",
    )
    rule_error = fields.Text(
        string="Criteria Error",
        readonly=True,
        copy=False,
        help="Why the last classification skipped these criteria; the segment's current"
        " customers stay in it until the criteria work again.",
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
        # the reader's rights, in the segment's company (as when the rule is saved)
        for segment in self:
            try:
                Metric = segment._get_user_metric_model()
                segment.matching_count = segment._run_rule(Metric, count=True)
            except ValidationError:
                segment.matching_count = 0

    def _compute_member_stats(self):
        groups = self.env["crm.customer.metric"]._read_group(
            [("segment_id", "in", self.ids)],
            ["segment_id"],
            ["__count", "revenue_12m:sum"],
        )
        stats = {segment: (count, revenue) for segment, count, revenue in groups}
        for segment in self:
            segment.member_count, segment.member_revenue_12m = stats.get(segment, (0, 0.0))

    @api.constrains("domain", "company_id")
    def _check_domain(self):
        """Run the criteria once, as the saving user in the segment's company: a rule that
        fails (a value of the wrong type, a model the user may not read) is refused now rather
        than at the next classification."""
        for segment in self:
            segment._run_rule(segment._get_user_metric_model(), limit=1)

    # ------------------------------------------------------------------ CRUD
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_rule_fields(vals)
            vals["rule_user_id"] = self._get_rule_user_id()
        return super().create(vals_list)

    def write(self, vals):
        self._check_rule_fields(vals)
        if "domain" in vals or "company_id" in vals:
            # new criteria (or a new company) are checked again by _check_domain: they now
            # run with the rights of the user saving them
            vals = dict(vals, rule_user_id=self._get_rule_user_id(), rule_error=False)
        return super().write(vals)

    @api.model
    def _check_rule_fields(self, vals):
        """`rule_user_id` and `rule_error` are set by the system: whoever set the author of a
        rule would choose the rights it runs with."""
        if not self.env.su and {"rule_user_id", "rule_error"} & vals.keys():
            raise AccessError(
                self.env._("Who saved the criteria and their error are set by the system.")
            )

    def _set_rule_author_from_last_writer(self):
        """Give criteria saved before they had an author (an update of the addon) the user who
        last saved the segment, when that user is an active CRM manager (who may write rules);
        others stay without author and are marked at the next classification if they need one."""
        for segment in self.sudo():
            writer = segment.write_uid
            if (
                writer
                and writer.active
                and not writer._is_superuser()
                and writer.has_group("crm_relationship.group_manager")
            ):
                segment.rule_user_id = writer

    @api.model
    def _get_rule_user_id(self):
        """The saving user, whose rights the criteria will run with; none for the superuser
        (data files, server code), whose rules must then only read the metrics themselves."""
        return False if self.env.su else self.env.uid

    # ------------------------------------------------------------------ business
    def _get_metric_domain(self):
        """The criteria as a validated `Domain` over crm.customer.metric (ValidationError)."""
        self.ensure_one()
        Metric = self.env["crm.customer.metric"]
        try:
            domain = Domain(ast.literal_eval((self.domain or "[]").strip()))
            self._check_rule_operators(domain)
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

    def _check_rule_operators(self, domain):
        """ValidationError if `domain` uses one of REFUSED_OPERATORS, at any depth."""
        operator = find_operator(domain, REFUSED_OPERATORS)
        if operator:
            raise ValidationError(
                self.env._(
                    "Segment %(segment)s uses the operator %(operator)s, which rules cannot use.",
                    segment=self.name,
                    operator=operator,
                )
            )

    def _get_user_metric_model(self):
        """crm.customer.metric with the current user's rights, in the segment's company only
        (AccessError on running a rule if the user does not work in it). Not in superuser
        mode, which constraints run in: the rights are the user's own."""
        self.ensure_one()
        company = self.company_id or self.env.company
        env = self.env(context={"allowed_company_ids": company.ids}, su=False)
        return env["crm.customer.metric"]

    def _get_rule_metric_model(self):
        """crm.customer.metric as the classification runs this segment's criteria: in the
        segment's company only, with a context of our own (no key of the caller's changes a
        rule's result), and

        - superuser rights for a rule on the metrics' own columns (`reads_own_columns_only`):
          it reads nothing but metrics rows, and `_run_rule` keeps the segment company's ones;
        - otherwise the rights of the user who saved the criteria (`rule_user_id`). A path may
          reach any model (orders, invoices, messages...) and an explicit company filter on
          each would miss models without a company field or with their own search rules;
          Odoo's record rules, applied with `allowed_company_ids` set to the segment's company
          alone, hide every other company's records on every path (`_run_rule` turns the
          x2many compared with ids, which Odoo reads as superuser, into searches, and
          REFUSED_OPERATORS keeps out 'any!', which skips the rules).

        ValidationError when no user can run the criteria.
        """
        self.ensure_one()
        context = {"allowed_company_ids": self.company_id.ids}
        Metric = self.env["crm.customer.metric"]
        if reads_own_columns_only(Metric, self._get_metric_domain()):
            return self.env(context=context, su=True)["crm.customer.metric"]
        author = self.sudo().rule_user_id
        if not author:
            raise ValidationError(
                self.env._(
                    "The criteria of segment %(segment)s read other records than the customer"
                    " metrics but were not saved by a user whose rights they could run with:"
                    " a CRM manager must save them again.",
                    segment=self.name,
                )
            )
        if not author.active or self.company_id not in author.company_ids:
            raise ValidationError(
                self.env._(
                    "The criteria of segment %(segment)s run with the rights of %(user)s, who"
                    " no longer works in %(company)s: a CRM manager must save them again.",
                    segment=self.name,
                    user=author.name,
                    company=self.company_id.name,
                )
            )
        return self.env(user=author.id, context=context, su=False)["crm.customer.metric"]

    def _run_rule(self, Metric, domain=None, limit=None, count=False):
        """Ids (or the number, with `count`) of the segment's company metrics matching the
        criteria and `domain`, searched with `Metric` (whose environment gives the rights).

        Runs in a savepoint: ValidationError, with the transaction intact, if the rule fails.
        """
        self.ensure_one()
        rule = self._get_metric_domain() & Domain("company_id", "=", self.company_id.id)
        if domain is not None:
            rule &= domain
        # Flushed first, then a savepoint that keeps the ORM cache when rolled back: a flushing
        # savepoint clears the whole cache, which in a form's onchange drops the criteria being
        # edited (the form then saved the previous ones without a word).
        self.env.flush_all()
        try:
            with self.env.cr.savepoint(flush=False):
                # resolved with the rights that run the rule (search methods of the fields on
                # its paths included), then every x2many searched with them too
                rule = search_x2many_ids(Metric, rule.optimize_full(Metric))
                if count:
                    return Metric.search_count(rule)
                return Metric.search(rule, order="id", limit=limit).ids
        except ValidationError:
            raise
        except RULE_ERRORS as error:
            message = getattr(getattr(error, "diag", None), "message_primary", None)
            raise ValidationError(
                self.env._(
                    "The criteria of segment %(segment)s cannot be run: %(error)s",
                    segment=self.name,
                    error=message or error,
                )
            ) from error

    @api.model
    def _classify_metrics(self, metrics, reason="rule", note=None, as_of=None):
        """Assign each metric the first matching segment of its company (or its pin).

        One search per segment over the batch, in the segment's company
        (`_get_rule_metric_model`); changes are written with set-based SQL, mirrored on
        `res.partner.crm_segment_id` and logged in the segment history with `reason`.

        A segment whose criteria fail is skipped and its error kept in `rule_error`: its current
        members stay in it (whether they still match is unknown), the other customers go on to
        the next segments, and the other segments and companies are classified as usual.

        `as_of` (a date) dates the changes at the end of that day instead of now: the metrics
        were computed as of that day.
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
        current_of = {}
        for metric_id, company_id, current_segment, pinned in state:
            current_of[metric_id] = current_segment
            if not pinned:  # a pin wins: no rule needs to be tried
                by_company.setdefault(company_id, set()).add(metric_id)
        # Every active segment of the companies applies, whatever the running user may read
        # (reading their configuration; each rule then runs with its own rights), and whatever
        # `active_test` the caller's context holds.
        segments = (
            self.sudo()
            .with_context(active_test=True)
            .search([("company_id", "in", list(by_company))])
        )
        new_segment = {}
        errors = {}
        for company_id, pending in by_company.items():
            for segment in segments.filtered(lambda s, c=company_id: s.company_id.id == c):
                if not pending:
                    break
                try:
                    matched = segment._run_rule(
                        segment._get_rule_metric_model(), Domain("id", "in", list(pending))
                    )
                except ValidationError as error:
                    errors[segment] = error.args[0]
                    matched = [m for m in pending if current_of[m] == segment.id]
                else:
                    errors[segment] = False
                new_segment.update(dict.fromkeys(matched, segment.id))
                pending.difference_update(matched)
        self._set_rule_errors(errors)
        changes = [
            (metric_id, target)
            for metric_id, _company, current, pinned in state
            if (target := pinned or new_segment.get(metric_id)) != current
        ]
        self._apply_segment_changes(changes, reason, note, as_of=as_of)

    @api.model
    def _set_rule_errors(self, errors):
        """Keep {segment: error message or False} on the segments whose state changed."""
        for segment, error in errors.items():
            if segment.rule_error != error:
                if error:
                    _logger.warning("Segment %s skipped by the classification: %s", segment, error)
                # the system's own note on the segment: the running user may not edit segments
                segment.sudo().write({"rule_error": error})

    @api.model
    def _apply_segment_changes(self, changes, reason, note=None, as_of=None):
        """Write [(metric id, new segment id or None)], mirror them on the partners and log
        one history row per change (dated now, or at the end of the day `as_of`)."""
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
                           %(date)s, %(reason)s, %(note)s, %(uid)s
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
                date=SQL("now() AT TIME ZONE 'UTC'")
                if as_of is None
                else datetime.combine(fields.Date.to_date(as_of), time.max).replace(microsecond=0),
            )
        )
        self.env["crm.customer.metric"].invalidate_model(["segment_id"])
        self.env["res.partner"].invalidate_model(["crm_segment_id"])
        self.env["crm.customer.segment.history"].invalidate_model()

    # ------------------------------------------------------------------ actions
    def action_view_members(self):
        """Customers currently in this segment (CRM users who can read the segment)."""
        self.ensure_one()
        check_group(self.env, CRM_USER)
        self.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "name": self.name,
            "res_model": "crm.customer.metric",
            "view_mode": "list,form",
            "domain": [("segment_id", "=", self.id)],
        }

    def action_view_matching(self):
        """Customers whose metrics match the criteria now (before the next classification),
        for CRM users who can read the segment."""
        self.ensure_one()
        check_group(self.env, CRM_USER)
        self.check_access("read")
        domain = self._get_metric_domain() & Domain("company_id", "=", self.company_id.id)
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Matching %(segment)s", segment=self.name),
            "res_model": "crm.customer.metric",
            "view_mode": "list,form",
            "domain": list(domain),
        }

    def action_reclassify(self):
        """Re-run the classification of the segment companies' customers on current metrics.

        CRM managers only (it moves customers between segments and writes their history), on
        segments of the companies they are working in (`env.companies`).
        """
        check_group(self.env, CRM_MANAGER)
        self.check_access("write")
        foreign = self.company_id - self.env.companies
        if foreign:
            raise AccessError(
                self.env._(
                    "You can classify only the customers of the companies you are working in,"
                    " not those of %(companies)s.",
                    companies=", ".join(foreign.mapped("name")),
                )
            )
        Metric = self.env["crm.customer.metric"]
        metrics = Metric.search([("company_id", "in", self.company_id.ids)])
        for ids in split_every(CRON_BATCH_SIZE, metrics.ids):
            self._classify_metrics(Metric.browse(ids))
        return True
