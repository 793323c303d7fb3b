import itertools
import logging
from datetime import timedelta

import numpy as np
from dateutil.relativedelta import relativedelta

from odoo import api
from odoo import fields
from odoo import models
from odoo.tools import SQL

from odoo.addons.crm_analytics.lib import propensity
from odoo.addons.crm_relationship.tools import SCAN_SETTINGS
from odoo.addons.crm_relationship.tools import local_settings
from odoo.addons.crm_relationship.tools import pg_array

from ..tools import packed_query
from ..tools import unpack_columns

_logger = logging.getLogger(__name__)

TOP_CATEGORIES = 3
# The columns of _history_query, as packed_query carries them.
HISTORY_COLUMNS = {"order_id": "int", "partner_id": "int", "day": "int", "categ_id": "int"}


class CrmCustomerPropensity(models.Model):
    """Probability that a customer buys in a product category within the next period.

    A logistic regression is trained on the company's history as of one period ago (label: did
    the customer buy in the category during the last period) and applied to today's features.
    Features per (customer, category), see ``lib/propensity.py``: orders and recency in the
    category, the customer's orders and recency, the best category lift from what they bought
    (affinity), the category's recent base rate. The sales are read once for both cut-offs.
    Only the TOP_CATEGORIES best categories per customer are kept, among the categories the
    company still sells (an active product for sale).

    Written only by :meth:`_refresh` (the analytics pipeline), read-only to users.
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

    def init(self):
        # A refresh updates in place the rows whose category or probability changed (a
        # quarter of them a day). With room left on each page, the new version of a row stays
        # on its page and no index is touched (a HOT update): 53,000 of the benchmark's rows
        # update in 0.8-0.9 s instead of 2.8-3.6 s packed full (2026-12-01, 2 busy cores).
        # Applies to the pages written from now on.
        self.env.cr.execute(
            SQL("ALTER TABLE %s SET (fillfactor = 70)", SQL.identifier(self._table))
        )

    @api.model
    def _history_query(self, company, date_from, date_to):
        """SQL: (order_id, partner_id, day, categ_id), one row per category of each confirmed
        order of ``company`` in [date_from, date_to); ``day`` counts days from date_from."""
        facts = self.env["crm.customer.facts"]
        lines = facts._order_line_rows(
            [company.id], facts._window(date_to - timedelta(days=1), date_from=date_from)
        )
        return SQL(
            """
            SELECT order_id, min(partner_id) AS partner_id, min(day) - %s AS day, categ_id
              FROM (%s) AS l
             WHERE categ_id IS NOT NULL
             GROUP BY order_id, categ_id
            """,
            date_from,
            lines,
        )

    @api.model
    def _history(self, company, date_from, date_to):
        """The company's sales in [date_from, date_to) as a propensity.History (None: no
        sale); its days count from date_from."""
        # SCAN_SETTINGS: in parallel and without JIT, 1.07 s instead of 1.9 to 2.0 s (idle
        # machine, 2026-12-02); work_mem 64MB (no grouping on disk) gained nothing. The settings
        # end with the statement.
        with local_settings(self.env.cr, SCAN_SETTINGS):
            packed = self.env.execute_query(
                packed_query(self._history_query(company, date_from, date_to), HISTORY_COLUMNS)
            )
        columns = unpack_columns(packed[0], HISTORY_COLUMNS)
        if not len(columns["order_id"]):
            return None
        order, partner, day, categ = columns.values()
        return propensity.History.from_rows(order, partner, day, categ)

    @api.model
    def _predict(self, company, as_of, until=None):
        """Train on the sales as of one period before ``as_of``, and list the candidates as of
        ``as_of``: (fit, training candidates, candidates as of ``as_of``).

        The sales are read once, up to ``until`` (default ``as_of``): later sales label the
        candidates as of ``as_of`` (``bought``), to validate the model. Raises
        PropensityError when the history cannot train it.
        """
        self.env.flush_all()  # the statements below read orders and products in SQL
        period = company.crm_propensity_days
        window = relativedelta(months=company.crm_analytics_window_months)
        train_at = as_of - timedelta(days=period)
        origin = train_at - window
        history = self._history(company, origin, until or as_of)

        def day(date):
            return (date - origin).days

        train = history and propensity.candidates(history, day(train_at), 0, period)
        if not train:
            raise propensity.PropensityError("No sales history before the training date.")
        fit = propensity.fit_logistic(train.features, train.bought)
        today = propensity.candidates(history, day(as_of), day(as_of - window), period)
        if not today:
            raise propensity.PropensityError("No sales history in the window.")
        return fit, train, today

    @api.model
    def _refresh(self, company, as_of):
        """Retrain and replace the company's propensities; keep the old rows on failure.

        The model's AUC on its training data is kept on the company."""
        try:
            fit, train, today = self._predict(company, as_of)
        except propensity.PropensityError as error:
            _logger.info("Propensities of %s not refreshed: %s", company.name, error)
            return False
        training_auc = propensity.auc(fit.predict(train.features), train.bought)
        probability = fit.predict(today.features)
        # sudo: the pipeline's own read-only figure on the company, written whoever started the
        # refresh (the cron, or an analytics manager checked by crm.clv.model.action_recompute)
        company.sudo().write(
            {"crm_propensity_auc": training_auc, "crm_propensity_trained_at": fields.Datetime.now()}
        )
        on_sale = np.flatnonzero(np.isin(today.categ, self._categories_on_sale(company)))
        top, rank = propensity.top_per_customer(
            today.partner[on_sale], probability[on_sale], TOP_CATEGORIES
        )
        kept = on_sale[top]
        self._write(company, today.partner[kept], today.categ[kept], probability[kept], rank)
        return True

    @api.model
    def _categories_on_sale(self, company):
        """Ids of the categories with an active product the company may sell."""
        rows = self.env.execute_query(
            SQL(
                """
                SELECT DISTINCT categ_id FROM product_template
                 WHERE active AND sale_ok AND categ_id IS NOT NULL
                   AND (company_id IS NULL OR company_id = %s)
                """,
                company.id,
            )
        )
        return np.array([row[0] for row in rows], dtype=np.int64)

    @api.model
    def _write(self, company, partner, categ, probability, rank):
        """Make the company's propensities these rows (arrays, one per customer and rank).

        Only what changed is written: the rows of customers and ranks no longer there are
        deleted, those whose category or probability (at the field's precision) changed are
        updated, the new ones inserted. A day's refresh changes about a quarter of the rows;
        rewriting all of them (200,000 at 100,000 customers) cost 2 to 6 times the plain
        aggregate of the benchmark, mostly in the foreign-key checks of the INSERT (an UPDATE
        that keeps partner and company has none). ``refreshed_at`` is therefore the last
        refresh that changed the row; the company's ``crm_propensity_trained_at`` is the last
        refresh.
        """
        digits = self._fields["probability"].get_digits(self.env)[1]
        period = company.crm_propensity_days
        now = fields.Datetime.now()
        units = np.round(np.asarray(probability) * 10**digits).astype(np.int64)
        probability_sql = SQL("round(u.units / power(10::numeric, %s), %s)", digits, digits)
        old = self.env.execute_query(
            SQL(
                """
                SELECT id, partner_id, COALESCE(rank, 0), categ_id,
                       COALESCE(round(probability * 10 ^ %s), -1)::int,
                       COALESCE(period_days = %s, FALSE)
                  FROM crm_customer_propensity
                 WHERE company_id = %s
                """,
                digits,
                period,
                company.id,
            )
        )
        old = _int_columns(old, 6).T
        categ, rank = np.asarray(categ), np.asarray(rank)
        ranks = max(old[:, 2].max(initial=0), rank.max(initial=0)) + 1
        old_key = old[:, 1] * ranks + old[:, 2]
        new_key = np.asarray(partner, dtype=np.int64) * ranks + rank
        # the first old row of each key stays (there is one unless two refreshes raced)
        unique_old, first = np.unique(old_key, return_index=True)
        found, at = propensity.lookup(unique_old, new_key)
        kept = first[at]
        gone = np.ones(len(old), dtype=bool)
        gone[kept] = False
        same = (old[kept, 3] == categ[found]) & (old[kept, 4] == units[found]) & (old[kept, 5] == 1)
        changed = np.flatnonzero(found)[~same]
        added = np.flatnonzero(~found)
        if gone.any():
            self.env.execute_query(
                SQL(
                    "DELETE FROM crm_customer_propensity WHERE id = ANY(%s::int[])",
                    pg_array(old[gone, 0]),
                )
            )
        if len(changed):
            self.env.execute_query(
                SQL(
                    """
                    UPDATE crm_customer_propensity c
                       SET categ_id = u.categ_id, probability = %(probability)s,
                           period_days = %(period)s, refreshed_at = %(now)s,
                           write_uid = %(uid)s, write_date = %(now)s
                      FROM unnest(%(id)s::int[], %(categ)s::int[], %(units)s::int[])
                           AS u(id, categ_id, units)
                     WHERE c.id = u.id
                    """,
                    probability=probability_sql,
                    period=period,
                    now=now,
                    uid=self.env.uid,
                    id=pg_array(old[kept[~same], 0]),
                    categ=pg_array(categ[changed]),
                    units=pg_array(units[changed]),
                )
            )
        if len(added):
            self.env.execute_query(
                SQL(
                    """
                    INSERT INTO crm_customer_propensity (partner_id, company_id, categ_id,
                        probability, period_days, rank, refreshed_at, create_uid, create_date,
                        write_uid, write_date)
                    SELECT u.partner_id, %(company)s, u.categ_id, %(probability)s,
                           %(period)s, u.rank, %(now)s, %(uid)s, %(now)s, %(uid)s, %(now)s
                      FROM unnest(%(partner)s::int[], %(rank)s::int[], %(categ)s::int[],
                                  %(units)s::int[]) AS u(partner_id, rank, categ_id, units)
                    """,
                    company=company.id,
                    probability=probability_sql,
                    period=period,
                    now=now,
                    uid=self.env.uid,
                    partner=pg_array(np.asarray(partner, dtype=np.int64)[added]),
                    rank=pg_array(rank[added]),
                    categ=pg_array(categ[added]),
                    units=pg_array(units[added]),
                )
            )
        self.invalidate_model()


def _int_columns(rows, width):
    """The columns of integer ``rows`` (tuples of ``width``) as arrays, without a Python
    object per cell (4 times faster than numpy.array on the rows)."""
    flat = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int64, count=width * len(rows))
    return flat.reshape(-1, width).T
