from datetime import timedelta

import numpy as np

from odoo import api
from odoo import fields
from odoo import models
from odoo.tools import SQL

from odoo.addons.crm_analytics.lib import clv
from odoo.addons.crm_analytics.lib import validation
from odoo.addons.crm_relationship.tools import local_settings


def partner_range(column, partner_from=0, partner_to=None):
    """SQL: ``column`` (a partner id) in (partner_from, partner_to], unbounded without
    partner_to: a scoring batch."""
    if partner_to:
        return SQL("%s > %s AND %s <= %s", column, partner_from, column, partner_to)
    return SQL("%s > %s", column, partner_from)


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

    partner_id = fields.Many2one("res.partner", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one("res.company", required=True, index=True, ondelete="cascade")
    currency_id = fields.Many2one(related="company_id.currency_id")
    model_id = fields.Many2one("crm.clv.model", "Fitted Model", ondelete="set null", index=True)
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
    rfm_segment = fields.Selection(RFM_SEGMENTS, "RFM Segment", index=True)
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
    churn_band = fields.Selection(CHURN_BANDS, "Churn Risk Band", index=True)
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
        """Per commercial partner with confirmed orders of ``company`` in [date_from, date_to):
        repeat purchase days (x), first and last order dates, orders, amount ordered and margin
        (untaxed, company currency), whether the margin is known (the orders have a cost), and
        the amount ordered on the days after the first. From the customer facts; orders of one
        day form one purchase (the BG/NBD unit).
        """
        facts = self.env["crm.customer.facts"]
        window = facts._window(date_to - timedelta(days=1), date_from=date_from)
        query = facts._facts_query(
            [
                "purchase_days",
                "first_order_date",
                "last_order_date",
                "order_count",
                "ordered_amount",
                "margin_total",
                "margin_known",
                "repeat_amount",
            ],
            [company.id],
            window,
            partners=lambda column: partner_range(column, partner_from, partner_to),
            keys="orders",
        )
        return SQL(
            """SELECT partner_id, purchase_days - 1, first_order_date, last_order_date,
                      order_count, ordered_amount, margin_total, margin_known, repeat_amount
                 FROM (%s) AS facts ORDER BY partner_id""",
            query,
        )

    @api.model
    def _summary_arrays(self, rows, date_to):
        """Turn summary rows into numpy arrays in weeks (frequency, recency, T, spend...)."""
        if not rows:
            return None
        cols = list(zip(*rows, strict=True))
        end = np.datetime64(date_to, "D")
        first = np.array(cols[2], dtype="datetime64[D]")
        last = np.array(cols[3], dtype="datetime64[D]")
        x = np.array(cols[1], dtype=float)
        revenue = np.array(cols[5], dtype=float)
        margin = np.array(cols[6], dtype=float)
        cost_known = np.array(cols[7], dtype=bool)
        repeat_revenue = np.array(cols[8], dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            monetary = np.where(x > 0, repeat_revenue / np.maximum(x, 1), 0.0)
            ratio = np.where(revenue > 0, margin / revenue, 1.0)
        use_margin = cost_known & (revenue > 0)
        return {
            "partner_id": np.array(cols[0], dtype=np.int64),
            "x": x,
            "t_x": (last - first).astype(float) / 7.0,
            "T": (end - first).astype(float) / 7.0,
            "first": first,
            "last": last,
            "recency_days": (end - last).astype(int),
            "orders": np.array(cols[4], dtype=float),
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
    def _score_batch(self, model, partner_from, partner_to):
        """Score the partners of (partner_from, partner_to] with ``model``; return their count."""
        company = model.company_id
        rows = self.env.execute_query(
            self._summary_query(company, model.date_from, model.date_to, partner_from, partner_to)
        )
        data = self._summary_arrays(rows, model.date_to)
        if data is None:
            return 0
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
        band = np.where(
            risk < CHURN_BAND_LIMITS[0],
            "low",
            np.where(risk < CHURN_BAND_LIMITS[1], "medium", "high"),
        )
        self._upsert(model, data, r, f, m, segment, expected, p_alive, risk, band, spend, value)
        self._set_next_offers(company, partner_from, partner_to)
        return len(rows)

    @api.model
    def _upsert(self, model, data, r, f, m, segment, expected, p_alive, risk, band, spend, value):
        """Write one batch of scores with a single INSERT ... ON CONFLICT statement."""
        codes = [f"{a}{b}{c}" for a, b, c in zip(r.tolist(), f.tolist(), m.tolist(), strict=True)]
        basis = np.where(data["use_margin"], "margin", "revenue")
        self.env.execute_query(
            SQL(
                """
                INSERT INTO crm_customer_score (
                    partner_id, company_id, model_id, first_order_date, last_order_date,
                    order_count, repeat_purchases, ordered_amount, margin_total, recency_days,
                    r_score, f_score, m_score, rfm_code, rfm_segment, expected_purchases,
                    p_alive, churn_risk, churn_band, expected_spend, clv, clv_basis,
                    refreshed_at, create_uid, create_date, write_uid, write_date)
                SELECT u.*, now() AT TIME ZONE 'UTC', %(uid)s, now() AT TIME ZONE 'UTC',
                       %(uid)s, now() AT TIME ZONE 'UTC'
                  FROM unnest(%(partner)s::int[], %(company)s::int[], %(model)s::int[],
                              %(first)s::date[], %(last)s::date[], %(orders)s::int[],
                              %(x)s::int[], %(revenue)s::numeric[], %(margin)s::numeric[],
                              %(recency)s::int[], %(r)s::int[], %(f)s::int[], %(m)s::int[],
                              %(code)s::varchar[], %(segment)s::varchar[],
                              %(expected)s::float8[], %(p_alive)s::float8[], %(risk)s::float8[],
                              %(band)s::varchar[], %(spend)s::numeric[], %(clv)s::numeric[],
                              %(basis)s::varchar[]) AS u
                ON CONFLICT (partner_id, company_id) DO UPDATE SET
                    model_id = EXCLUDED.model_id,
                    first_order_date = EXCLUDED.first_order_date,
                    last_order_date = EXCLUDED.last_order_date,
                    order_count = EXCLUDED.order_count,
                    repeat_purchases = EXCLUDED.repeat_purchases,
                    ordered_amount = EXCLUDED.ordered_amount,
                    margin_total = EXCLUDED.margin_total,
                    recency_days = EXCLUDED.recency_days,
                    r_score = EXCLUDED.r_score, f_score = EXCLUDED.f_score,
                    m_score = EXCLUDED.m_score, rfm_code = EXCLUDED.rfm_code,
                    rfm_segment = EXCLUDED.rfm_segment,
                    expected_purchases = EXCLUDED.expected_purchases,
                    p_alive = EXCLUDED.p_alive, churn_risk = EXCLUDED.churn_risk,
                    churn_band = EXCLUDED.churn_band, expected_spend = EXCLUDED.expected_spend,
                    clv = EXCLUDED.clv, clv_basis = EXCLUDED.clv_basis,
                    refreshed_at = EXCLUDED.refreshed_at,
                    write_uid = EXCLUDED.write_uid, write_date = EXCLUDED.write_date
                """,
                uid=self.env.uid,
                partner=data["partner_id"].tolist(),
                company=[model.company_id.id] * len(codes),
                model=[model.id] * len(codes),
                first=[str(d) for d in data["first"]],
                last=[str(d) for d in data["last"]],
                orders=data["orders"].astype(int).tolist(),
                x=data["x"].astype(int).tolist(),
                revenue=np.round(data["revenue"], 2).tolist(),
                margin=np.round(data["margin"], 2).tolist(),
                recency=data["recency_days"].tolist(),
                r=r.tolist(),
                f=f.tolist(),
                m=m.tolist(),
                code=codes,
                segment=segment.tolist(),
                expected=expected.tolist(),
                p_alive=p_alive.tolist(),
                risk=risk.tolist(),
                band=band.tolist(),
                spend=np.round(spend, 2).tolist(),
                clv=np.round(value, 2).tolist(),
                basis=basis.tolist(),
            )
        )

    @api.model
    def _set_next_offers(self, company, partner_from=0, partner_to=None):
        """Store the best next offer (highest lift, not yet bought) of the scored partners of
        (partner_from, partner_to] in ``company``."""

        def in_range(column):
            return partner_range(column, partner_from, partner_to)

        # The offers go through a temporary table with fresh statistics: joined directly, the
        # scores just written have none yet, and a nested loop over both takes minutes. The
        # statement runs without parallel workers or hash aggregation: its parallel plan took
        # from 1 s to over 6 minutes on the same data (PostgreSQL 15 clearing a spilled hash
        # aggregate's table again and again), this plan 2.5 to 3 s every time.
        with local_settings(
            self.env.cr, {"max_parallel_workers_per_gather": "0", "enable_hashagg": "off"}
        ):
            self.env.execute_query(
                SQL(
                    "CREATE TEMP TABLE crm_next_offer ON COMMIT DROP AS %s",
                    self.env["crm.product.affinity"]._next_offer_query(company, in_range),
                )
            )
        self.env.execute_query(SQL("ANALYZE crm_next_offer"))
        self.env.execute_query(
            SQL(
                """
                UPDATE crm_customer_score s
                   SET next_offer_product_id = best.product_id
                  FROM crm_customer_score cur
                  LEFT JOIN crm_next_offer best ON best.partner_id = cur.partner_id
                 WHERE s.id = cur.id AND cur.company_id = %(company)s
                   AND %(in_range)s
                   AND s.next_offer_product_id IS DISTINCT FROM best.product_id
                """,
                company=company.id,
                in_range=partner_range(SQL("cur.partner_id"), partner_from, partner_to),
            )
        )
        self.env.execute_query(SQL("DROP TABLE crm_next_offer"))
        self.invalidate_model()
