from datetime import timedelta

import numpy as np

from odoo import api
from odoo import fields
from odoo import models
from odoo.tools import SQL
from odoo.tools import sql

from odoo.addons.crm_analytics.lib import clv
from odoo.addons.crm_analytics.lib import validation
from odoo.addons.crm_relationship.tools import SCAN_SETTINGS
from odoo.addons.crm_relationship.tools import local_settings
from odoo.addons.crm_relationship.tools import pg_array

from ..tools import copy_columns
from ..tools import packed_query
from ..tools import unpack_columns


def partner_range(column, partner_from=0, partner_to=None):
    """SQL: ``column`` (a partner id) in (partner_from, partner_to], unbounded without
    partner_to: a scoring batch."""
    if partner_to:
        return SQL("%s > %s AND %s <= %s", column, partner_from, column, partner_to)
    return SQL("%s > %s", column, partner_from)


# Columns of crm.customer.score whose former single-column indexes init() drops.
_UNINDEXED = ("partner_id", "model_id", "rfm_segment", "churn_band")

# The columns of the summary query: see _summary_query.
SUMMARY_COLUMNS = {
    "partner_id": "int",
    "x": "int",
    "first_day": "int",
    "last_day": "int",
    "orders": "int",
    "revenue": "float",
    "margin": "float",
    "margin_known": "int",
    "repeat_revenue": "float",
}


RFM_SEGMENTS = [
    ("champions", "Champions"),
    ("loyal", "Loyal"),
    ("potential", "Potential Loyalist"),
    ("new", "New"),
    ("at_risk", "At Risk"),
    ("cant_lose", "Can't Lose"),
    ("hibernating", "Hibernating"),
    ("lost", "Lost"),
]
CHURN_BANDS = [("low", "Low"), ("medium", "Medium"), ("high", "High")]
# Churn risk (probability of no purchase over the holdout length): below 0.3 low, below 0.6
# medium, else high.
CHURN_BAND_LIMITS = (0.3, 0.6)


# Each column of the scores written by _upsert, as SQL over the batch's copied row u
# (_score_batch): (expression, selections whose keys it indexes by a row's position). A float
# goes to its numeric column through its text, the shortest that reads back the same float:
# float8::numeric keeps 15 significant digits only.
SCORE_COLUMNS = {
    "first_order_date": ("DATE '1970-01-01' + u.first_day",),
    "last_order_date": ("DATE '1970-01-01' + u.last_day",),
    "order_count": ("u.order_count",),
    "repeat_purchases": ("u.repeat_purchases",),
    "ordered_amount": ("round(u.ordered_amount::text::numeric, 2)",),
    "margin_total": ("round(u.margin_total::text::numeric, 2)",),
    "recency_days": ("u.recency_days",),
    "r_score": ("u.r_score",),
    "f_score": ("u.f_score",),
    "m_score": ("u.m_score",),
    "rfm_code": ("(u.r_score * 100 + u.f_score * 10 + u.m_score)::varchar",),
    "rfm_segment": ("(%s::varchar[])[u.rfm_segment + 1]", RFM_SEGMENTS),
    "expected_purchases": ("u.expected_purchases::text::numeric",),
    "p_alive": ("u.p_alive::text::numeric",),
    "churn_risk": ("u.churn_risk::text::numeric",),
    "churn_band": ("(%s::varchar[])[u.churn_band + 1]", CHURN_BANDS),
    "expected_spend": ("round(u.expected_spend::text::numeric, 2)",),
    "clv": ("round(u.clv::text::numeric, 2)",),
    "clv_basis": ("CASE WHEN u.use_margin = 1 THEN 'margin' ELSE 'revenue' END",),
    "next_offer_product_id": ("NULLIF(u.next_offer_product_id, 0)",),
}


def _selection_array(selection):
    """The keys of ``selection`` (a list of (key, label)) as a PostgreSQL array text."""
    return pg_array([key for key, _label in selection])


def _positions(keys, selection):
    """The position in ``selection`` of each key of the array ``keys``."""
    return np.select([keys == key for key, _label in selection], range(len(selection)), -1)


def rfm_segment(r, fm):
    """Named RFM segment of recency score r and frequency-monetary score fm (arrays of 1..5).

    The map (README): R 4-5 with FM 4-5 Champions, FM 3 Loyal, FM 2 Potential loyalist, FM 1
    New; R 3 with FM 3-5 Loyal, FM 1-2 Hibernating; R 1-2 with FM 5 Can't lose, FM 3-4 At risk;
    R 2 with FM 1-2 Hibernating; R 1 with FM 1-2 Lost.
    """
    conditions = [
        (r >= 4) & (fm >= 4),
        ((r >= 4) & (fm == 3)) | ((r == 3) & (fm >= 3)),
        (r >= 4) & (fm == 2),
        (r >= 4) & (fm == 1),
        (r <= 2) & (fm == 5),
        (r <= 2) & (fm >= 3),
        (r >= 2) & (fm <= 2),
    ]
    names = ["champions", "loyal", "potential", "new", "cant_lose", "at_risk", "hibernating"]
    return np.select(conditions, names, default="lost")


class CrmCustomerScore(models.Model):
    """Value scores of one commercial partner in one company, refreshed in batches.

    Rows are written set-based by :meth:`_score_batch` (one SQL upsert per batch); a refresh
    that fails leaves the previous rows untouched.
    """

    _name = "crm.customer.score"
    _description = "Customer Value Score"
    _order = "clv desc, id"
    _rec_name = "partner_id"
    _check_company_auto = True

    # Not indexed on their own (see _UNINDEXED): partner_id is the first column of the unique
    # index below.
    partner_id = fields.Many2one("res.partner", required=True, ondelete="cascade")
    company_id = fields.Many2one("res.company", required=True, index=True, ondelete="cascade")
    currency_id = fields.Many2one(related="company_id.currency_id")
    model_id = fields.Many2one("crm.clv.model", "Fitted Model", ondelete="set null")
    first_order_date = fields.Date()
    last_order_date = fields.Date()
    order_count = fields.Integer(
        "Orders in Model Window", help="Confirmed orders in the data window of the fitted model."
    )
    repeat_purchases = fields.Integer(help="Days with orders after the first one (BG/NBD x).")
    ordered_amount = fields.Monetary(
        "Amount Ordered in Model Window",
        currency_field="currency_id",
        help="Untaxed amount of the confirmed orders in the data window of the fitted model "
        "(the customer's metrics show the invoiced revenue, net of credit notes).",
    )
    margin_total = fields.Monetary(
        "Margin in Model Window",
        currency_field="currency_id",
        help="Margin of the confirmed orders in the data window of the fitted model.",
    )
    recency_days = fields.Integer("Days Since Last Order")
    r_score = fields.Integer("Recency Score", aggregator="avg")
    f_score = fields.Integer("Frequency Score", aggregator="avg")
    m_score = fields.Integer("Monetary Score", aggregator="avg")
    rfm_code = fields.Char("RFM")
    rfm_segment = fields.Selection(RFM_SEGMENTS, "RFM Segment")
    expected_purchases = fields.Float(
        digits=(16, 2), aggregator="sum", help="Purchases expected over the CLV horizon (BG/NBD)."
    )
    p_alive = fields.Float("P(active)", digits=(16, 3), aggregator="avg")
    churn_risk = fields.Float(
        digits=(16, 3),
        aggregator="avg",
        help="Probability that the customer buys nothing in the next months (the fit's "
        "holdout length): from the model when it beat the simple rule on the holdout, else "
        "from the rule (days since the last purchase divided by the usual gap).",
    )
    churn_source = fields.Selection(related="model_id.churn_source")
    churn_band = fields.Selection(CHURN_BANDS, "Churn Risk Band")
    expected_spend = fields.Monetary(
        "Expected Spend per Purchase", currency_field="currency_id", aggregator="avg"
    )
    clv = fields.Monetary(
        "Lifetime Value",
        currency_field="currency_id",
        aggregator="avg",
        help="Discounted value of the purchases expected over the horizon (margin when known).",
    )
    clv_basis = fields.Selection([("margin", "Margin"), ("revenue", "Revenue")], "CLV Basis")
    next_offer_product_id = fields.Many2one(
        "product.product", "Next Best Offer", help="Product with the highest lift not yet bought."
    )
    service_level_id = fields.Many2one(
        "crm.service.level", compute="_compute_service_level_id", compute_sudo=True
    )
    refreshed_at = fields.Datetime()

    _partner_company_uniq = models.UniqueIndex("(partner_id, company_id)")

    def init(self):
        super().init()
        # Every refresh rewrites every score, and each index costs a write per score. These
        # columns had an index of their own (index=True, kept by Odoo once the attribute is
        # gone) that no query needs: a segment, a band or a fit selects a large share of the
        # scores, which PostgreSQL scans anyway, and partner_id leads the unique index.
        # Without them the scores of the benchmark are written in half the time (7 -> 3
        # indexes, 9 -> 5 WAL records per score, 395 -> 195 ms for a batch of 6,882).
        for column in _UNINDEXED:
            sql.drop_index(self.env.cr, sql.make_index_name(self._table, column), self._table)
        # Every refresh rewrites every row: with half of each page left free, the new version
        # of a row fits on its page and no index is touched (a HOT update; no indexed column
        # changes). Packed full, none of the benchmark's updates was HOT; with this and the
        # binary copy of copy_columns, its 86,882 scores are written in 1.0 s instead of 2.8 to
        # 3.2 s (2026-12-02, 2 busy cores). Applies to the pages written from now on.
        self.env.cr.execute(
            SQL("ALTER TABLE %s SET (fillfactor = 50)", SQL.identifier(self._table))
        )

    @api.depends("clv", "rfm_segment", "company_id")
    def _compute_service_level_id(self):
        levels = self.env["crm.service.level"].search([("company_id", "in", self.company_id.ids)])
        segments = {}
        if levels.segment_id:
            metrics = self.env["crm.customer.metric"].search(
                [
                    ("partner_id", "in", self.partner_id.ids),
                    ("company_id", "in", self.company_id.ids),
                ]
            )
            segments = {
                (m.partner_id.id, m.company_id.id): m.pinned_segment_id or m.segment_id
                for m in metrics
            }
        for score in self:
            segment = segments.get((score.partner_id.id, score.company_id.id))
            score.service_level_id = levels._match(score, segment)

    @api.model
    def _service_levels(self, partners, companies):
        """{(commercial partner id, company id): service level} for orders and leads."""
        # sudo: salespeople without the analytics group see the customer's service level
        # on their orders and leads, never the scores themselves (only the level is returned).
        scores = self.sudo().search(
            [("partner_id", "in", partners.ids), ("company_id", "in", companies.ids)]
        )
        return {
            (score.partner_id.id, score.company_id.id): score.service_level_id.sudo(False)
            for score in scores
        }

    # ------------------------------------------------------------------------------------------
    # batch scoring

    @api.model
    def _summary_query(self, company, date_from, date_to, partner_from=0, partner_to=None):
        """SQL: per commercial partner with confirmed orders of ``company`` in [date_from,
        date_to), from the orders part of the customer facts (the orders read once): repeat
        purchase days (x), first and last order days (days since 1970-01-01), orders, amount
        ordered and margin (untaxed, company currency), whether the margin is known (the
        orders have a cost), and the amount ordered on the days after the first. Orders of one
        day form one purchase (the BG/NBD unit).

        The rows come packed in one row (:func:`packed_query`): pass the result to
        :meth:`_summary_arrays`.
        """
        facts = self.env["crm.customer.facts"]
        window = facts._window(date_to - timedelta(days=1), date_from=date_from)
        orders = facts._orders_part(
            [company.id],
            window,
            lambda column: partner_range(column, partner_from, partner_to),
            purchase_days=True,
        )
        return packed_query(
            SQL(
                """SELECT partner_id, purchase_days - 1 AS x,
                          first_order_date - DATE '1970-01-01' AS first_day,
                          last_order_date - DATE '1970-01-01' AS last_day,
                          order_count AS orders, amount AS revenue, margin,
                          margin_known::int AS margin_known, repeat_amount AS repeat_revenue
                     FROM (%s) AS so""",
                orders,
            ),
            SUMMARY_COLUMNS,
        )

    @api.model
    def _read_summary(self, company, date_from, date_to, partner_from=0):
        """:meth:`_summary_arrays` of :meth:`_summary_query` (None without customers), read
        with SCAN_SETTINGS: the summary reads every order of the window."""
        with local_settings(self.env.cr, SCAN_SETTINGS):
            rows = self.env.execute_query(
                self._summary_query(company, date_from, date_to, partner_from=partner_from)
            )
        return self._summary_arrays(rows, date_to)

    @api.model
    def _summary_arrays(self, rows, date_to):
        """Turn the result of :meth:`_summary_query` into numpy arrays sorted by partner, in
        weeks (frequency, recency, T, spend...); None without customers."""
        columns = unpack_columns(rows[0], SUMMARY_COLUMNS)
        if not len(columns["partner_id"]):
            return None
        order = np.argsort(columns["partner_id"], kind="stable")
        cols = {name: values[order] for name, values in columns.items()}
        end = np.datetime64(date_to, "D")
        first = cols["first_day"].astype("datetime64[D]")
        last = cols["last_day"].astype("datetime64[D]")
        x = cols["x"].astype(float)
        revenue = cols["revenue"]
        margin = cols["margin"]
        cost_known = cols["margin_known"].astype(bool)
        with np.errstate(divide="ignore", invalid="ignore"):
            monetary = np.where(x > 0, cols["repeat_revenue"] / np.maximum(x, 1), 0.0)
            ratio = np.where(revenue > 0, margin / revenue, 1.0)
        use_margin = cost_known & (revenue > 0)
        return {
            "partner_id": cols["partner_id"],
            "x": x,
            "t_x": (last - first).astype(float) / 7.0,
            "T": (end - first).astype(float) / 7.0,
            "first": first,
            "last": last,
            "recency_days": (end - last).astype(int),
            "orders": cols["orders"].astype(float),
            "revenue": revenue,
            "margin": margin,
            "monetary": np.maximum(monetary, 0.0),
            "margin_ratio": np.where(use_margin, np.clip(ratio, 0.0, 1.0), 1.0),
            "use_margin": use_margin,
        }

    @api.model
    def _rfm_scores(self, data, bounds):
        """Quintile scores 1-5 from the boundaries stored on the fitted model."""
        r = 5 - (data["recency_days"][:, None] > np.array(bounds["recency"])[None, :]).sum(1)
        f = 1 + (data["orders"][:, None] > np.array(bounds["frequency"])[None, :]).sum(1)
        m = 1 + (data["revenue"][:, None] > np.array(bounds["monetary"])[None, :]).sum(1)
        return r, f, m

    @api.model
    def _score_batch(self, model, data, offers):
        """Score the customers of ``data`` (a slice of :meth:`_summary_arrays`) with ``model``
        and write their scores with their next best offers (``offers``: a product id per
        customer, 0 for none); return their count."""
        purchase, gg = model._purchase_fit(), model._gamma_gamma()
        x, t_x, T = data["x"], data["t_x"], data["T"]
        horizon_weeks = model.horizon_months * clv.DAYS_PER_MONTH / 7.0
        p_alive = clv.probability_alive(purchase, x, t_x, T)
        expected = clv.conditional_expected_purchases(purchase, horizon_weeks, x, t_x, T)
        spend = clv.expected_average_spend(gg, x, data["monetary"]) * data["margin_ratio"]
        value = clv.discounted_clv(
            purchase,
            gg,
            x,
            t_x,
            T,
            data["monetary"],
            model.horizon_months,
            model.discount_rate,
            margin_ratio=data["margin_ratio"],
        )
        # Churn risk: the probability of no purchase over the holdout's length, from the model
        # when it beat the simple rule on the holdout, else from the rule (see the fit).
        if model.churn_source == "model":
            risk = clv.probability_no_purchase(purchase, model._churn_weeks(), x, t_x, T)
        else:
            risk = validation.naive_churn_probability(x, t_x, T, model._naive_calibration())
        r, f, m = self._rfm_scores(data, model.rfm_bounds)
        segment = rfm_segment(r, (f + m + 1) // 2)
        epoch = np.datetime64("1970-01-01", "D")
        self._upsert(
            model,
            {
                "partner_id": ("int", data["partner_id"]),
                "first_day": ("int", (data["first"] - epoch).astype(np.int64)),
                "last_day": ("int", (data["last"] - epoch).astype(np.int64)),
                "order_count": ("int", data["orders"]),
                "repeat_purchases": ("int", data["x"]),
                "ordered_amount": ("float", np.round(data["revenue"], 2)),
                "margin_total": ("float", np.round(data["margin"], 2)),
                "recency_days": ("int", data["recency_days"]),
                "r_score": ("int", r),
                "f_score": ("int", f),
                "m_score": ("int", m),
                "rfm_segment": ("int", _positions(segment, RFM_SEGMENTS)),
                "expected_purchases": ("float", expected),
                "p_alive": ("float", p_alive),
                "churn_risk": ("float", risk),
                "churn_band": (
                    "int",
                    np.select(
                        [risk < CHURN_BAND_LIMITS[0], risk < CHURN_BAND_LIMITS[1]], [0, 1], 2
                    ),
                ),
                "expected_spend": ("float", np.round(spend, 2)),
                "clv": ("float", np.round(value, 2)),
                "use_margin": ("int", data["use_margin"]),
                "next_offer_product_id": ("int", offers),
            },
        )
        return len(r)

    @api.model
    def _upsert(self, model, columns):
        """Write one batch of scores of ``model``'s company, scored by ``model``: an UPDATE of
        the customers' rows, then an INSERT of the customers who had none.

        ``columns``: the batch's values as :func:`copy_columns` takes them, copied into a
        temporary table, from which :data:`SCORE_COLUMNS` gives each column of the scores.
        An UPDATE joined to them writes a row version per customer; INSERT ... ON CONFLICT DO
        UPDATE would also lock each row first (a WAL record each): 20 % slower on the
        benchmark's 86,882 scores.
        """
        uid, now = self.env.uid, SQL("now() AT TIME ZONE 'UTC'")
        partners = columns["partner_id"][1]
        copy_columns(self.env.cr, "crm_customer_score_batch", columns)
        values = {
            name: SQL(expression, *(_selection_array(v) for v in arguments))
            for name, (expression, *arguments) in SCORE_COLUMNS.items()
        }
        # extra_float_digits 1 (PostgreSQL's default, which a database may change): a float's
        # text is the shortest that reads back the same float (SCORE_COLUMNS)
        with local_settings(self.env.cr, {"extra_float_digits": "1"}):
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE crm_customer_score s
                       SET %(updates)s, model_id = %(model)s, refreshed_at = %(now)s,
                           write_uid = %(uid)s, write_date = %(now)s
                      FROM crm_customer_score_batch u
                     WHERE s.partner_id = u.partner_id AND s.company_id = %(company)s
                       -- the batch's range: read its rows by index, not the whole table
                       AND s.partner_id BETWEEN %(first)s AND %(last)s
                    """,
                    first=int(partners.min()),
                    last=int(partners.max()),
                    updates=SQL(", ").join(
                        SQL("%s = %s", SQL.identifier(name), value)
                        for name, value in values.items()
                    ),
                    model=model.id,
                    company=model.company_id.id,
                    now=now,
                    uid=uid,
                )
            )
            updated = self.env.cr.rowcount
            if updated < len(partners):
                # the customers without a row yet (the UPDATE's rows now exist); ON CONFLICT:
                # another transaction may have scored one of them meanwhile
                self.env.execute_query(
                    SQL(
                        """
                        INSERT INTO crm_customer_score (partner_id, %(names)s, company_id,
                                                        model_id, refreshed_at, create_uid,
                                                        create_date, write_uid, write_date)
                        SELECT u.partner_id, %(values)s, %(company)s, %(model)s, %(now)s, %(uid)s,
                               %(now)s, %(uid)s, %(now)s
                          FROM crm_customer_score_batch u
                         WHERE NOT EXISTS (SELECT FROM crm_customer_score s
                                            WHERE s.partner_id = u.partner_id
                                              AND s.company_id = %(company)s)
                        ON CONFLICT (partner_id, company_id) DO UPDATE SET %(updates)s,
                           model_id = EXCLUDED.model_id, refreshed_at = EXCLUDED.refreshed_at,
                           write_uid = EXCLUDED.write_uid, write_date = EXCLUDED.write_date
                        """,
                        names=SQL(", ").join(SQL.identifier(name) for name in values),
                        values=SQL(", ").join(values.values()),
                        updates=SQL(", ").join(
                            SQL("%s = EXCLUDED.%s", SQL.identifier(name), SQL.identifier(name))
                            for name in values
                        ),
                        company=model.company_id.id,
                        model=model.id,
                        now=now,
                        uid=uid,
                    )
                )
        self.env.cr.execute(SQL("DROP TABLE crm_customer_score_batch"))
        self.invalidate_model()
