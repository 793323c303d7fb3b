import logging
from datetime import timedelta

import numpy as np
from dateutil.relativedelta import relativedelta

from odoo import api
from odoo import fields
from odoo import models
from odoo.tools import SQL

from odoo.addons.crm_analytics.lib import propensity

_logger = logging.getLogger(__name__)

TOP_CATEGORIES = 3
MAX_ROWS = 400_000
CANDIDATES_PER_CUSTOMER = 40
RELATED_CATEGORIES = 5


class CrmCustomerPropensity(models.Model):
    """Probability that a customer buys in a product category within the next period.

    A logistic regression is trained on the company's history as of one period ago (label: did
    the customer buy in the category during the last period) and applied to today's features.
    Features per (customer, category): orders and recency in the category, the customer's
    orders and recency, the best category lift from what they bought (affinity), the
    category's recent base rate. Only the TOP_CATEGORIES best categories per customer are kept.
    """

    _name = "crm.customer.propensity"
    _description = "Customer Purchase Propensity"
    _order = "probability desc, id"
    _rec_name = "categ_id"

    partner_id = fields.Many2one("res.partner", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one("res.company", required=True, index=True, ondelete="cascade")
    categ_id = fields.Many2one("product.category", "Category", required=True, ondelete="cascade")
    probability = fields.Float(digits=(16, 3), aggregator="avg")
    period_days = fields.Integer("Within (days)")
    rank = fields.Integer()
    refreshed_at = fields.Datetime()

    @api.model
    def _feature_query(self, company, as_of, period_days, modulo=1, remainder=0):
        """Rows (partner, categ, 7 features..., label) for candidates as of ``as_of``.

        Candidates: categories the customer bought, or one of the RELATED_CATEGORIES strongest
        (lift above 1) of a category they bought. Label: a purchase in the category in [as_of, as_of + period).
        """
        window_start = as_of - relativedelta(months=company.crm_analytics_window_months)
        return SQL(
            """
            WITH lines AS (
                SELECT partner_id, order_id, day, categ_id
                  FROM (%(lines)s) AS l
                 WHERE categ_id IS NOT NULL
            ), hist AS (
                SELECT * FROM lines WHERE day < %(as_of)s
            ), cust AS (
                SELECT partner_id, count(DISTINCT order_id) AS orders,
                       %(as_of)s::date - max(day) AS recency
                  FROM hist GROUP BY 1
            ), pc AS (
                SELECT partner_id, categ_id, count(DISTINCT order_id) AS n,
                       %(as_of)s::date - max(day) AS recency
                  FROM hist GROUP BY 1, 2
            ), oc AS (
                SELECT DISTINCT order_id, categ_id FROM hist
            ), ntot AS (
                SELECT count(DISTINCT order_id) AS n FROM oc
            ), csingle AS (
                SELECT categ_id, count(*) AS c FROM oc GROUP BY 1
            ), cpair AS (
                SELECT a.categ_id AS x, b.categ_id AS y, count(*) AS c
                  FROM oc a JOIN oc b ON a.order_id = b.order_id AND a.categ_id <> b.categ_id
                 GROUP BY 1, 2 HAVING count(*) >= 3
            ), clift_all AS (
                SELECT p.x, p.y, p.c::float * t.n / (sx.c * sy.c) AS lift,
                       row_number() OVER (PARTITION BY p.x ORDER BY p.c::float / sy.c DESC)
                           AS rank
                  FROM cpair p
                  JOIN csingle sx ON sx.categ_id = p.x
                  JOIN csingle sy ON sy.categ_id = p.y
                 CROSS JOIN ntot t
            ), clift AS (
                -- The strongest related categories only: candidates stay a few per customer.
                SELECT x, y, lift FROM clift_all WHERE lift > 1 AND rank <= %(related)s
            ), aff AS (
                SELECT pc.partner_id, l.y AS categ_id, max(l.lift) AS lift
                  FROM pc JOIN clift l ON l.x = pc.categ_id GROUP BY 1, 2
            ), base AS (
                SELECT categ_id,
                       count(DISTINCT partner_id)::float
                           / greatest((SELECT count(*) FROM cust), 1) AS rate
                  FROM hist WHERE day >= %(as_of)s::date - %(period)s GROUP BY 1
            ), cand AS (
                SELECT partner_id, categ_id FROM pc
                 UNION
                SELECT partner_id, categ_id FROM aff
            ), label AS (
                SELECT DISTINCT partner_id, categ_id FROM lines WHERE day >= %(as_of)s
            )
            SELECT c.partner_id, c.categ_id,
                   ln(1 + COALESCE(pc.n, 0)),
                   (pc.n IS NOT NULL)::int,
                   COALESCE(exp(-pc.recency / 180.0), 0),
                   ln(1 + cu.orders),
                   cu.recency / 365.0,
                   ln(greatest(COALESCE(aff.lift, 1), 0.01)),
                   COALESCE(base.rate, 0),
                   (label.partner_id IS NOT NULL)
              FROM cand c
              JOIN cust cu ON cu.partner_id = c.partner_id
              LEFT JOIN pc ON pc.partner_id = c.partner_id AND pc.categ_id = c.categ_id
              LEFT JOIN aff ON aff.partner_id = c.partner_id AND aff.categ_id = c.categ_id
              LEFT JOIN base ON base.categ_id = c.categ_id
              LEFT JOIN label ON label.partner_id = c.partner_id AND label.categ_id = c.categ_id
            """,
            lines=self.env["crm.customer.facts"]._order_line_rows(
                [company.id],
                self.env["crm.customer.facts"]._window(
                    as_of + timedelta(days=period_days - 1), date_from=window_start
                ),
                partners=lambda column: SQL("%s %% %s = %s", column, modulo, remainder),
            ),
            as_of=as_of,
            period=period_days,
            related=RELATED_CATEGORIES,
        )

    @api.model
    def _features(self, company, as_of, period_days, modulo=1, remainder=0):
        rows = self.env.execute_query(
            self._feature_query(company, as_of, period_days, modulo, remainder)
        )
        if not rows:
            return None, None, None
        keys = np.array([(r[0], r[1]) for r in rows], dtype=np.int64)
        X = np.array([r[2:9] for r in rows], dtype=float)
        y = np.array([r[9] for r in rows], dtype=bool)
        return keys, X, y

    @api.model
    def _chunks(self, company):
        """How many customer chunks keep one feature query under MAX_ROWS rows."""
        customers = self.env["crm.customer.score"].search_count([("company_id", "=", company.id)])
        return max(1, -(-customers * CANDIDATES_PER_CUSTOMER // MAX_ROWS))

    @api.model
    def _train(self, company, as_of, period_days, chunks):
        """Train on the history as of ``as_of - period`` labelled by the last period."""
        train_at = as_of - timedelta(days=period_days)
        _keys, X, y = self._features(company, train_at, period_days, chunks)
        if X is None:
            raise propensity.PropensityError("No sales history before the training date.")
        fit = propensity.fit_logistic(X, y)
        return fit, propensity.auc(fit.predict(X), y)

    @api.model
    def _refresh(self, company, as_of):
        """Retrain and replace the company's propensities; keep the old rows on failure.

        The model's AUC on its training data is kept on the company."""
        period = company.crm_propensity_days
        chunks = self._chunks(company)
        try:
            fit, training_auc = self._train(company, as_of, period, chunks)
        except propensity.PropensityError as error:
            _logger.info("Propensities of %s not refreshed: %s", company.name, error)
            return False
        # sudo: the pipeline's own read-only figure on the company, written whoever started the
        # refresh (the cron, or an analytics manager checked by crm.clv.model.action_recompute)
        company.sudo().write(
            {"crm_propensity_auc": training_auc, "crm_propensity_trained_at": fields.Datetime.now()}
        )
        self.env.execute_query(
            SQL("DELETE FROM crm_customer_propensity WHERE company_id = %s", company.id)
        )
        for remainder in range(chunks):
            keys, X, _y = self._features(company, as_of, period, chunks, remainder)
            if keys is not None:
                self._write_top(company, period, keys, fit.predict(X))
        self.invalidate_model()
        return True

    @api.model
    def _write_top(self, company, period, keys, prob):
        """Insert the TOP_CATEGORIES most likely categories of each partner of ``keys``."""
        # Sort by partner then probability descending, rank inside each partner.
        order = np.lexsort((-prob, keys[:, 0]))
        keys, prob = keys[order], prob[order]
        start = np.r_[0, np.flatnonzero(np.diff(keys[:, 0])) + 1]
        rank = np.arange(len(keys)) - np.repeat(start, np.diff(np.r_[start, len(keys)]))
        keep = rank < TOP_CATEGORIES
        self.env.execute_query(
            SQL(
                """
                INSERT INTO crm_customer_propensity (partner_id, company_id, categ_id,
                    probability, period_days, rank, refreshed_at, create_uid, create_date,
                    write_uid, write_date)
                SELECT u.partner, %(company)s, u.categ, u.prob, %(period)s, u.rank,
                       now() AT TIME ZONE 'UTC', %(uid)s, now() AT TIME ZONE 'UTC', %(uid)s,
                       now() AT TIME ZONE 'UTC'
                  FROM unnest(%(partner)s::int[], %(categ)s::int[], %(prob)s::float8[],
                              %(rank)s::int[]) AS u(partner, categ, prob, rank)
                """,
                company=company.id,
                period=period,
                uid=self.env.uid,
                partner=keys[keep, 0].tolist(),
                categ=keys[keep, 1].tolist(),
                prob=np.round(prob[keep], 4).tolist(),
                rank=(rank[keep] + 1).tolist(),
            )
        )
