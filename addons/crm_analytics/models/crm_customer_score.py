from datetime import timedelta

import numpy as np

from odoo import api
from odoo import fields
from odoo import models
from odoo.tools import SQL
from odoo.tools import sql

from odoo.addons.crm_analytics.lib import clv
from odoo.addons.crm_analytics.lib import validation


def partner_range(column, partner_from=0, partner_to=None):
    """SQL: ``column`` (a partner id) in (partner_from, partner_to], unbounded without
    partner_to: a scoring batch."""
    if partner_to:
        return SQL("%s > %s AND %s <= %s", column, partner_from, column, partner_to)
    return SQL("%s > %s", column, partner_from)


# How a column travels packed (see packed_query): the PostgreSQL function giving the binary
# form of one value, the SQL type it takes, and that form's numpy type.
PACKED_TYPES = {
    "int": ("int4send", "int4", ">i4"),
    "float": ("float8send", "float8", ">f8"),
}


def packed_query(query, columns):
    """SQL returning one row: each column of ``columns`` ({name: "int" or "float"}) of the
    rows of ``query`` as one bytea, the binary values end to end in the same row order (NULL
    becomes 0). A million values come so as one row, instead of a million tuples built by
    psycopg2 then converted by numpy (three times faster on the benchmark's order lines).
    Decode with :func:`unpack_columns`."""
    return SQL(
        "SELECT %s FROM (%s) AS q",
        SQL(", ").join(
            SQL(
                "string_agg(%s(COALESCE(%s::%s, 0)), '')",
                SQL(PACKED_TYPES[kind][0]),
                SQL.identifier("q", name),
                SQL(PACKED_TYPES[kind][1]),
            )
            for name, kind in columns.items()
        ),
        query,
    )


def unpack_columns(row, columns):
    """{name: numpy array} of the row returned by :func:`packed_query` (int64 or float64)."""
    return {
        name: np.frombuffer(value or b"", dtype=PACKED_TYPES[kind][2]).astype(
            np.int64 if kind == "int" else np.float64
        )
        for (name, kind), value in zip(columns.items(), row, strict=True)
    }


def pg_array(values):
    """The text form of a PostgreSQL array of ``values`` (a list of numbers and None, or of
    codes: strings without quotes, commas or backslashes), for a parameter cast to an array
    type: several times faster for a long list than psycopg2's ARRAY[...], which adapts each
    element on its own. Floats keep their exact value (repr)."""
    if values and isinstance(values[0], str):
        return '{"%s"}' % '","'.join(values)
    return "{%s}" % ",".join("NULL" if v is None else repr(v) for v in values)


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
        "Ordered in Model Window",
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
        count = len(r)
        self._upsert(
            model,
            {
                "partner_id": ("int4", data["partner_id"].tolist()),
                "first_order_date": ("date", np.datetime_as_string(data["first"]).tolist()),
                "last_order_date": ("date", np.datetime_as_string(data["last"]).tolist()),
                "order_count": ("int4", data["orders"].astype(int).tolist()),
                "repeat_purchases": ("int4", data["x"].astype(int).tolist()),
                "ordered_amount": ("numeric", np.round(data["revenue"], 2).tolist()),
                "margin_total": ("numeric", np.round(data["margin"], 2).tolist()),
                "recency_days": ("int4", data["recency_days"].tolist()),
                "r_score": ("int4", r.tolist()),
                "f_score": ("int4", f.tolist()),
                "m_score": ("int4", m.tolist()),
                "rfm_code": ("varchar", (r * 100 + f * 10 + m).astype(str).tolist()),
                "rfm_segment": ("varchar", rfm_segment(r, (f + m + 1) // 2).tolist()),
                "expected_purchases": ("float8", expected.tolist()),
                "p_alive": ("float8", p_alive.tolist()),
                "churn_risk": ("float8", risk.tolist()),
                "churn_band": (
                    "varchar",
                    np.select(
                        [risk < CHURN_BAND_LIMITS[0], risk < CHURN_BAND_LIMITS[1]],
                        ["low", "medium"],
                        "high",
                    ).tolist(),
                ),
                "expected_spend": ("numeric", np.round(spend, 2).tolist()),
                "clv": ("numeric", np.round(value, 2).tolist()),
                "clv_basis": (
                    "varchar",
                    np.where(data["use_margin"], "margin", "revenue").tolist(),
                ),
                "next_offer_product_id": ("int4", [p or None for p in offers.tolist()]),
            },
        )
        return count

    @api.model
    def _upsert(self, model, columns):
        """Write one batch of scores of ``model``'s company, scored by ``model``: an UPDATE of
        the customers' rows, then an INSERT of the customers who had none.

        ``columns``: {column: (SQL type, list of values)}, partner_id first. An UPDATE joined
        to the values writes a row version per customer; INSERT ... ON CONFLICT DO UPDATE
        would also lock each row first (a WAL record each): 20 % slower on the benchmark's
        86,882 scores.
        """
        uid, now = self.env.uid, SQL("now() AT TIME ZONE 'UTC'")
        partners = columns["partner_id"][1]

        def values(rows=None):
            """The unnest() of the columns, of the rows at the positions ``rows`` (all)."""
            arrays = [
                SQL(
                    "%s::%s[]",
                    pg_array(column if rows is None else [column[i] for i in rows]),
                    SQL(sql_type),
                )
                for sql_type, column in columns.values()
            ]
            names = SQL(", ").join(SQL.identifier(name) for name in columns)
            return SQL("unnest(%s) AS u(%s)", SQL(", ").join(arrays), names)

        updated = self.env.execute_query(
            SQL(
                """
                UPDATE crm_customer_score s
                   SET %(updates)s, model_id = %(model)s, refreshed_at = %(now)s,
                       write_uid = %(uid)s, write_date = %(now)s
                  FROM %(values)s
                 WHERE s.partner_id = u.partner_id AND s.company_id = %(company)s
                   -- the batch's range: read its rows by index, not the whole table
                   AND s.partner_id BETWEEN %(first)s AND %(last)s
             RETURNING s.partner_id
                """,
                first=min(partners),
                last=max(partners),
                updates=SQL(", ").join(
                    SQL("%s = u.%s", SQL.identifier(name), SQL.identifier(name))
                    for name in columns
                    if name != "partner_id"
                ),
                model=model.id,
                company=model.company_id.id,
                now=now,
                uid=uid,
                values=values(),
            )
        )
        updated = {partner_id for (partner_id,) in updated}
        new = [i for i, partner_id in enumerate(partners) if partner_id not in updated]
        if new:
            # ON CONFLICT: another transaction may have scored one of them meanwhile
            self.env.execute_query(
                SQL(
                    """
                    INSERT INTO crm_customer_score (%(names)s, company_id, model_id,
                                                    refreshed_at, create_uid, create_date,
                                                    write_uid, write_date)
                    SELECT u.*, %(company)s, %(model)s, %(now)s, %(uid)s, %(now)s, %(uid)s,
                           %(now)s
                      FROM %(values)s
                    ON CONFLICT (partner_id, company_id) DO UPDATE SET %(updates)s,
                       model_id = EXCLUDED.model_id, refreshed_at = EXCLUDED.refreshed_at,
                       write_uid = EXCLUDED.write_uid, write_date = EXCLUDED.write_date
                    """,
                    names=SQL(", ").join(SQL.identifier(name) for name in columns),
                    updates=SQL(", ").join(
                        SQL("%s = EXCLUDED.%s", SQL.identifier(name), SQL.identifier(name))
                        for name in columns
                        if name != "partner_id"
                    ),
                    company=model.company_id.id,
                    model=model.id,
                    now=now,
                    uid=uid,
                    values=values(new),
                )
            )
        self.invalidate_model()
