from collections import defaultdict

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools import format_date

from ..lib.ifrs15 import AT_EXPIRY
from ..lib.ifrs15 import ESTIMATE
from ..lib.ifrs15 import allocate
from ..lib.ifrs15 import cumulative_release
from ..lib.ifrs15 import observed_rate
from ..lib.ifrs15 import points_ssp

# revenue lines that allocate an invoice's (or credit note's) share of earned points
ALLOCATIONS = ("defer", "refund", "undo")


class CrmLoyaltyAccounting(models.AbstractModel):
    """The points' liability in the books (IFRS 15, B39-B43 and B46), posted by period.

    Invoice posting is left alone: a period posting (a daily cron, or the program's button)
    reads what happened since the last one, in set-based queries, writes the revenue lines
    (``crm.loyalty.revenue.line``) and one balanced journal entry per program and run:

    - an invoice that earned points: its price is split between goods and points by relative
      stand-alone selling price (``lib.ifrs15.allocate``), the points' share moves from revenue
      to the liability; a credit note takes back its share of what its order deferred; an
      invoice no longer posted has its allocation cancelled;
    - points redeemed and expired release the liability to revenue and breakage income with a
      cumulative catch-up on the current estimate (``lib.ifrs15.cumulative_release``);
    - points granted by an adjustment are a reward expense; gifts given as rewards book their
      cost as a reward expense;
    - the first run opens the liability with the points outstanding on the start day.

    The pool of a program is what its revenue lines allocated: their points and amounts, and
    the redemptions and expiries of its ledger since the start day. Running a posting twice,
    or in two workers at once, books nothing twice: the program's row is locked for the run
    (a second worker skips it) and each allocation exists once (unique indexes).
    """

    _name = "crm.loyalty.accounting"
    _description = "Loyalty Points Accounting"

    # --------------------------------------------------------------- reading

    @api.model
    def _pool(self, program, day, pending=()):
        """Cumulative figures of ``program``'s liability at the end of ``day``: what its
        revenue lines booked (postings only move forward, so all of them) and the points
        closed up to ``day``."""
        self.env.flush_all()
        (deferred, issued, revenue, breakage, released_points, broken_points) = (
            self.env.execute_query(
                SQL(
                    """
                    SELECT COALESCE(SUM(amount) FILTER (WHERE kind NOT IN
                                    ('release', 'breakage', 'reward_cost')), 0),
                           COALESCE(SUM(points) FILTER (WHERE kind NOT IN
                                    ('release', 'breakage', 'reward_cost')), 0),
                           COALESCE(-SUM(amount) FILTER (WHERE kind = 'release'), 0),
                           COALESCE(-SUM(amount) FILTER (WHERE kind = 'breakage'), 0),
                           COALESCE(SUM(points) FILTER (WHERE kind = 'release'), 0),
                           COALESCE(SUM(points) FILTER (WHERE kind = 'breakage'), 0)
                      FROM crm_loyalty_revenue_line
                     WHERE program_id = %(program)s
                    """,
                    program=program.id,
                )
            )[0]
        )
        redeemed, expired = self._closed_pool_points(program, day, pending)
        return {
            "deferred": float(deferred),
            "issued": float(issued),
            "revenue": float(revenue),
            "breakage": float(breakage),
            "redeemed": redeemed,
            "expired": expired,
            # points the release and breakage lines accounted for so far
            "released_points": float(released_points),
            "broken_points": float(broken_points),
        }

    @api.model
    def _closed_pool_points(self, program, day, pending=()):
        """Points of the liability's pool redeemed (net of redemptions given back) and
        expired from the start day to the end of ``day``.

        Only the points the liability is for count: a redemption or an expiry counts the
        points it took from lots in the pool (the lot consumptions of the ledger), each lot
        for the share of it the liability holds: lots held on the start day (the opening),
        earned lots for the share their invoices allocated (``pending`` allocations of this
        posting included), points granted by adjustments and redemptions given back. Points
        from elsewhere (an order not invoiced yet, another app) release nothing.
        """
        ledger_ids = [vals["ledger_id"] for vals in pending if vals["kind"] in ALLOCATIONS]
        points = [vals["points"] for vals in pending if vals["kind"] in ALLOCATIONS]
        self.env.flush_all()
        redeemed, expired, given_back = self.env.execute_query(
            SQL(
                """
                WITH pending AS (
                    SELECT * FROM unnest(%(ledger_ids)s::int4[], %(points)s::numeric[])
                        AS p(ledger_id, points)
                ), allocated AS (
                    SELECT ledger_id, SUM(points) AS points FROM (
                        SELECT ledger_id, points FROM crm_loyalty_revenue_line
                         WHERE program_id = %(program)s
                           AND kind IN ('defer', 'refund', 'undo')
                         UNION ALL
                        SELECT ledger_id, points FROM pending
                    ) AS a
                  GROUP BY ledger_id
                ), reversed AS (
                    -- points of earned lots taken back (credit notes): the lot's share is
                    -- of what is left of it
                    SELECT origin_id, SUM(points) AS points FROM crm_loyalty_ledger
                     WHERE kind = 'reverse' AND state != 'cancelled' AND origin_id IS NOT NULL
                  GROUP BY origin_id
                ), lots AS (
                    SELECT l.id,
                           CASE WHEN l.date < %(start)s THEN 1.0
                                WHEN l.kind = 'adjust' THEN 1.0
                                WHEN l.kind = 'reverse' AND o.kind = 'redeem' THEN 1.0
                                WHEN l.kind = 'earn' THEN
                                     LEAST(GREATEST(COALESCE(a.points, 0), 0)
                                           / NULLIF(l.points + COALESCE(rv.points, 0), 0),
                                           1.0)
                                ELSE 0 END AS share
                      FROM crm_loyalty_ledger l
                 LEFT JOIN crm_loyalty_ledger o ON o.id = l.origin_id
                 LEFT JOIN allocated a ON a.ledger_id = l.id
                 LEFT JOIN reversed rv ON rv.origin_id = l.id
                     WHERE l.program_id = %(program)s AND l.points > 0
                ), closing AS (
                    SELECT e.kind, c.points * lots.share AS points
                      FROM crm_loyalty_consumption c
                      JOIN crm_loyalty_ledger e ON e.id = c.entry_id
                      JOIN lots ON lots.id = c.lot_id
                     WHERE e.program_id = %(program)s AND e.kind IN ('redeem', 'expire')
                       AND e.state != 'cancelled'
                       AND e.date >= %(start)s AND e.date < %(end)s
                )
                SELECT COALESCE((SELECT SUM(points) FROM closing WHERE kind = 'redeem'), 0),
                       COALESCE((SELECT SUM(points) FROM closing WHERE kind = 'expire'), 0),
                       COALESCE((SELECT SUM(l.points) FROM crm_loyalty_ledger l
                                   JOIN crm_loyalty_ledger o ON o.id = l.origin_id
                                  WHERE l.program_id = %(program)s AND l.kind = 'reverse'
                                    AND o.kind = 'redeem' AND l.state != 'cancelled'
                                    AND l.date >= %(start)s AND l.date < %(end)s), 0)
                """,
                ledger_ids=ledger_ids,
                points=points,
                program=program.id,
                start=program.crm_ifrs_start,
                end=fields.Date.add(day, days=1),
            )
        )[0]
        return float(redeemed) - float(given_back), float(expired)

    @api.model
    def _closed_points(self, program, day):
        """Points of ``program`` redeemed (net of redemptions given back) and expired from its
        start day to the end of ``day``, wherever they came from: the behaviour the observed
        redemption rate reports."""
        redeemed, expired = self.env.execute_query(
            SQL(
                """
                SELECT COALESCE(-SUM(l.points) FILTER (WHERE l.kind = 'redeem'
                                OR (l.kind = 'reverse' AND o.kind = 'redeem')), 0),
                       COALESCE(-SUM(l.points) FILTER (WHERE l.kind = 'expire'), 0)
                  FROM crm_loyalty_ledger l
             LEFT JOIN crm_loyalty_ledger o ON o.id = l.origin_id
                 WHERE l.program_id = %(program)s
                   AND l.kind IN ('redeem', 'reverse', 'expire')
                   AND l.state != 'cancelled'
                   AND l.date >= %(start)s AND l.date < %(end)s
                """,
                program=program.id,
                start=program.crm_ifrs_start,
                end=fields.Date.add(day, days=1),
            )
        )[0]
        return float(redeemed), float(expired)

    @api.model
    def _observed_rates(self, programs, day):
        """{program: redeemed / (redeemed + expired)} since each one's start day."""
        rates = {}
        for program in programs.filtered("crm_ifrs_start"):
            rate = observed_rate(*self._closed_points(program, day))
            if rate is not None:
                rates[program] = rate
        return rates

    # --------------------------------------------------------------- posting

    @api.model
    def _post(self, programs, day):
        """Post the entries of ``programs`` (deferring revenue) up to the end of ``day``.

        Returns the journal entries created (none when everything was already posted).
        :raises UserError: when ``day`` is in a locked period of a program's company
        """
        moves = self.env["account.move"]
        programs = programs.filtered(
            lambda program: program.crm_ifrs and program.crm_ifrs_start <= day
        )
        for program in programs.sudo():
            # sudo: the caller's rights were checked by the public entry point (an
            # accountant's button or the cron); the posting reads the ledger, orders and
            # invoices of every customer of the program and writes its journal entry.
            # Its labels are written in the company's language, whoever posts (the cron).
            lang = program.company_id.partner_id.lang or self.env.lang
            self = self.with_context(lang=lang)
            program = program.with_context(lang=lang)
            if not self._lock_program(program):
                continue
            # postings only move forward: a day before the last one posted (the cron's
            # yesterday after the button's today) posts on that last day instead, so an
            # amount booked on a later day is never missed and booked again
            day = max(day, program.crm_ifrs_posted_until or day)
            self._check_lock_date(program, day)
            self._set_posted_until(program, day)
            vals_list = self._new_line_values(program, day)
            if vals_list:
                move = self._post_move(program, day, vals_list)
                self._insert_lines(vals_list, move)
                self._record_period_estimate(program, day)
                moves |= move
        return moves

    @api.model
    def _record_period_estimate(self, program, day):
        """Keep, for the period just posted, the estimate used beside the redemption rate the
        closed points show: the history an accountant reviews to re-estimate."""
        rate = self.env["crm.loyalty.estimate"]._rate_on(program, day)[program]
        observed = self._observed_rates(program, day).get(program)
        self.env["crm.loyalty.estimate"].sudo().create(
            {
                "program_id": program.id,
                "date": day,
                "rate": rate * 100,
                "observed_rate": observed is not None and observed * 100,
                "origin": "posting",
            }
        )

    @api.model
    def _check_lock_date(self, program, day):
        company = program.company_id
        locks = company._get_violated_lock_dates(day, False, program.crm_journal_id)
        if locks:
            raise UserError(
                self.env._(
                    "The loyalty entries of %(program)s cannot be posted on %(day)s: the "
                    "period is locked (%(locks)s). Post them in an open period, or ask an "
                    "adviser to move the lock date.",
                    program=program.display_name,
                    day=format_date(self.env, day),
                    locks=company._format_lock_dates(locks),
                )
            )

    @api.model
    def _lock_program(self, program):
        """Lock the program's row for this transaction; False when another worker holds it
        (that worker posts the program). A worker whose snapshot predates another's
        committed posting gets a serialization failure here (each posting updates the row,
        see _set_posted_until): Odoo retries it with a fresh snapshot, which sees the lines
        already booked."""
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                "SELECT id FROM loyalty_program WHERE id = %s FOR NO KEY UPDATE SKIP LOCKED",
                program.id,
            )
        )
        if rows:
            program.invalidate_recordset(["crm_ifrs_posted_until"])
        return bool(rows)

    @api.model
    def _set_posted_until(self, program, day):
        self.env.execute_query(
            SQL(
                "UPDATE loyalty_program SET crm_ifrs_posted_until = %s WHERE id = %s",
                day,
                program.id,
            )
        )
        program.invalidate_recordset(["crm_ifrs_posted_until"])

    @api.model
    def _new_line_values(self, program, day):
        """Values of the revenue lines of ``program`` not yet booked up to ``day``. Only the
        allocations they cancel are marked: the journal entry is made from these values
        first, then the lines are inserted with it in one statement."""
        vals_list = self._opening_values(program, day)
        undo_vals, undone_ids = self._undo_values(program, day)
        vals_list += undo_vals
        # cancelled now, so that an invoice posted again is allocated afresh below
        self._mark_undone(undone_ids)
        done = self._allocated(program, vals_list)
        vals_list += self._allocation_values(program, day, "out_invoice", done)
        vals_list += self._allocation_values(program, day, "out_refund", done)
        vals_list += self._adjustment_values(program, day)
        vals_list += self._reward_cost_values(program, day)
        vals_list += self._release_values(program, day, vals_list)
        return vals_list

    @api.model
    def _line_values(self, program, day, kind, **values):
        return {
            "program_id": program.id,
            "company_id": program.company_id.id,
            "date": day,
            "kind": kind,
            **values,
        }

    @api.model
    def _opening_values(self, program, day):
        """The first posting opens the liability with the points outstanding on the start
        day, at their stand-alone selling price, against retained earnings."""
        self.env.flush_all()
        if self.env.execute_query(
            SQL("SELECT 1 FROM crm_loyalty_revenue_line WHERE program_id = %s LIMIT 1", program.id)
        ):
            return []
        points = self.env.execute_query(
            SQL(
                """
                SELECT COALESCE(SUM(points), 0) FROM crm_loyalty_ledger
                 WHERE program_id = %s AND state != 'cancelled' AND date < %s
                """,
                program.id,
                program.crm_ifrs_start,
            )
        )[0][0]
        points = float(points)
        rate = self.env["crm.loyalty.estimate"]._rate_on(program, day)[program]
        amount = program.company_id.currency_id.round(
            points_ssp(points, program.crm_point_value, rate)
        )
        return [
            self._line_values(
                program,
                max(program.crm_ifrs_start, day),
                "opening",
                points=points,
                points_ssp=amount,
                amount=amount,
                rate=rate * 100,
            )
        ]

    @api.model
    def _undo_values(self, program, day):
        """Lines cancelling the allocations of invoices reset to draft, cancelled, deleted or
        posted again with another price, and the ids of the allocations they cancel (an
        invoice posted again is then allocated afresh by the same posting)."""
        rows = self.env.execute_query(
            SQL(
                """
                SELECT r.id, r.partner_id, r.invoice_id, r.ledger_id, r.points, r.price,
                       r.points_ssp, r.amount
                  FROM crm_loyalty_revenue_line r
             LEFT JOIN account_move m ON m.id = r.invoice_id
                 WHERE r.program_id = %s AND r.kind IN ('defer', 'refund')
                   AND r.undone IS NOT TRUE
                   AND (m.id IS NULL OR m.state != 'posted'
                        -- reset to draft, changed and posted again between two postings:
                        -- its price for the order is no longer the one allocated
                        OR (m.write_date >= r.create_date AND ABS(r.price - (
                            SELECT COALESCE(SUM(-aml.balance), 0)
                              FROM account_move_line aml
                              JOIN sale_order_line_invoice_rel rel
                                ON rel.invoice_line_id = aml.id
                              JOIN sale_order_line sol ON sol.id = rel.order_line_id
                              JOIN crm_loyalty_ledger l ON l.id = r.ledger_id
                             WHERE aml.move_id = m.id AND sol.order_id = l.source_id)) > 0.01))
                """,
                program.id,
            )
        )
        vals_list = [
            self._line_values(
                program,
                day,
                "undo",
                partner_id=partner_id,
                invoice_id=invoice_id,
                ledger_id=ledger_id,
                origin_id=line_id,
                points=-float(points or 0.0),
                price=-float(price or 0.0),
                points_ssp=-float(points_ssp or 0.0),
                amount=-float(amount or 0.0),
            )
            for line_id, partner_id, invoice_id, ledger_id, points, price, points_ssp, amount in rows
        ]
        return vals_list, [row[0] for row in rows]

    @api.model
    def _allocated(self, program, pending):
        """{ledger entry id: [points, amount]} allocated so far by invoices, credit notes and
        their cancellations, the ``pending`` values of this posting included."""
        done = defaultdict(lambda: [0.0, 0.0])
        for ledger_id, points, amount in self.env.execute_query(
            SQL(
                """
                SELECT ledger_id, SUM(points), SUM(amount) FROM crm_loyalty_revenue_line
                 WHERE program_id = %s AND kind IN ('defer', 'refund', 'undo')
              GROUP BY ledger_id
                """,
                program.id,
            )
        ):
            done[ledger_id] = [float(points), float(amount)]
        for vals in pending:
            if vals["kind"] in ("defer", "refund", "undo"):
                done[vals["ledger_id"]][0] += vals["points"]
                done[vals["ledger_id"]][1] += vals["amount"]
        return done

    @api.model
    def _allocation_values(self, program, day, move_type, done):
        """Allocations of the posted invoices (or credit notes) up to ``day`` of the orders
        whose earned points this program deferred from its start day.

        For an invoice, the points it pays for are the order's earned points times the
        invoice's share of what the order earned on (rewards excluded, never more than the
        points not yet allocated), and the deferral is that points' share of the invoice's
        price for the order. A credit note takes back the same share of points, and of the
        deferral in proportion to the points allocated. Earned entries are taken whatever
        their state: a pending lot cancelled by a credit note was deferred by its invoice,
        and the credit note takes it back. An order that earns in two deferring programs
        shares its price between the goods and both programs' points (each program at its
        current estimate for the other's share). ``done`` ({ledger entry id: [points,
        amount]}) is updated with what this call allocates.
        """
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                """
                WITH orders AS (
                    SELECT l.id AS ledger_id, l.source_id AS order_id, l.points, l.partner_id,
                           (SELECT COALESCE(SUM(sol.price_total), 0) FROM sale_order_line sol
                             WHERE sol.order_id = l.source_id AND sol.reward_id IS NULL)
                               AS order_earning,
                           -- the points the order earned in other deferring programs, at
                           -- their stand-alone selling price: they share the price
                           (SELECT COALESCE(SUM(o.points * p.crm_point_value
                                                * p.crm_redemption_rate / 100), 0)
                              FROM crm_loyalty_ledger o
                              JOIN loyalty_program p ON p.id = o.program_id
                             WHERE o.source_model = 'sale.order' AND o.source_id = l.source_id
                               AND o.kind = 'earn' AND o.program_id != l.program_id
                               AND p.crm_ifrs) AS other_ssp
                      FROM crm_loyalty_ledger l
                     WHERE l.program_id = %(program)s AND l.kind = 'earn'
                       AND l.source_model = 'sale.order' AND l.date >= %(start)s
                )
                SELECT o.ledger_id, m.id, m.date, o.points, o.partner_id, o.order_earning,
                       o.other_ssp,
                       SUM(aml.price_total) FILTER (WHERE sol.reward_id IS NULL),
                       SUM(-aml.balance)
                  FROM orders o
                  JOIN sale_order_line sol ON sol.order_id = o.order_id
                  JOIN sale_order_line_invoice_rel rel ON rel.order_line_id = sol.id
                  JOIN account_move_line aml ON aml.id = rel.invoice_line_id
                  JOIN account_move m ON m.id = aml.move_id
                 WHERE m.state = 'posted' AND m.move_type = %(move_type)s
                   AND m.company_id = %(company)s AND m.date <= %(day)s
                   AND NOT EXISTS (
                        SELECT 1 FROM crm_loyalty_revenue_line r
                         WHERE r.ledger_id = o.ledger_id AND r.invoice_id = m.id
                           AND r.kind IN ('defer', 'refund') AND r.undone IS NOT TRUE)
              GROUP BY o.ledger_id, m.id, m.date, o.points, o.partner_id, o.order_earning,
                       o.other_ssp
              ORDER BY m.id, o.ledger_id
                """,
                program=program.id,
                start=program.crm_ifrs_start,
                move_type=move_type,
                company=program.company_id.id,
                day=day,
            )
        )
        digits = program._crm_points_digits()
        currency = program.company_id.currency_id
        rate = self.env["crm.loyalty.estimate"]._rate_on(program, day)[program]
        vals_list = []
        for row in rows:
            (ledger_id, move_id, date, points, partner_id, order_earning, other_ssp) = row[:7]
            earning, price = row[7:]
            if not order_earning or not earning:
                continue
            share = min(abs(float(earning)) / float(order_earning), 1.0)
            allocated_points, allocated_amount = done[ledger_id]
            price = float(price or 0.0)
            if move_type == "out_invoice":
                take = round(min(points * share, points - allocated_points), digits)
                if take <= 0:
                    continue
                ssp = currency.round(points_ssp(take, program.crm_point_value, rate))
                others = float(other_ssp or 0.0) * share
                amount = currency.round(allocate(price, ssp, other_ssp=others)[1])
            else:
                take = -round(min(points * share, allocated_points), digits)
                if take >= 0:
                    continue
                ssp = 0.0
                amount = currency.round(allocated_amount * take / allocated_points)
            done[ledger_id] = [allocated_points + take, allocated_amount + amount]
            vals_list.append(
                self._line_values(
                    program,
                    max(date, program.crm_ifrs_start),
                    "defer" if move_type == "out_invoice" else "refund",
                    partner_id=partner_id,
                    invoice_id=move_id,
                    ledger_id=ledger_id,
                    points=take,
                    price=price,
                    points_ssp=ssp,
                    amount=amount,
                    rate=rate * 100,
                )
            )
        return vals_list

    @api.model
    def _adjustment_values(self, program, day):
        """Points granted or taken by adjustments since the start day: granted ones at their
        stand-alone selling price (a reward expense), taken ones at the pool's carrying amount;
        and points taken back by the cancellation of an order whose invoice was deferred (no
        credit note): they leave the liability at its carrying amount, to revenue."""
        rows = self.env.execute_query(
            SQL(
                """
                SELECT l.id, l.partner_id, l.points, l.kind FROM crm_loyalty_ledger l
             LEFT JOIN crm_loyalty_ledger o ON o.id = l.origin_id
                 WHERE l.program_id = %(program)s
                   AND (l.kind = 'adjust'
                        -- points of an order cancelled after its invoice was posted: taken
                        -- back without a credit note, they leave the liability too
                        OR (l.kind = 'reverse' AND l.source_model = 'sale.order'
                            AND o.kind = 'earn' AND o.date >= %(start)s
                            AND EXISTS (SELECT 1 FROM crm_loyalty_revenue_line a
                                         WHERE a.ledger_id = o.id AND a.kind = 'defer')))
                   AND l.state != 'cancelled'
                   AND l.date >= %(start)s AND l.date < %(end)s
                   AND NOT EXISTS (SELECT 1 FROM crm_loyalty_revenue_line r
                                    WHERE r.ledger_id = l.id AND r.kind IN ('adjust', 'cancel'))
                """,
                program=program.id,
                start=program.crm_ifrs_start,
                end=fields.Date.add(day, days=1),
            )
        )
        currency = program.company_id.currency_id
        rate = self.env["crm.loyalty.estimate"]._rate_on(program, day)[program]
        pool = self._pool(program, day)
        # points taken away leave the liability at what the pool carries per point, not at
        # their selling price (which could drive the liability below zero)
        carrying = pool["deferred"] / pool["issued"] if pool["issued"] > 0 else 0.0
        vals_list = []
        for ledger_id, partner_id, points, kind in rows:
            if points >= 0:
                amount = currency.round(points_ssp(points, program.crm_point_value, rate))
            else:
                amount = currency.round(points * carrying)
            vals_list.append(
                self._line_values(
                    program,
                    day,
                    "adjust" if kind == "adjust" else "cancel",
                    partner_id=partner_id,
                    ledger_id=ledger_id,
                    points=points,
                    points_ssp=amount,
                    amount=amount,
                    rate=rate * 100,
                )
            )
        return vals_list

    @api.model
    def _reward_cost_values(self, program, day):
        """Cost of the gifts (free-product rewards of this program) on the orders whose
        redemptions were made since the start day, in the company currency."""
        rows = self.env.execute_query(
            SQL(
                """
                SELECT l.id, l.partner_id,
                       SUM(sol.purchase_price * sol.product_uom_qty
                           / COALESCE(NULLIF(so.currency_rate, 0), 1))
                  FROM crm_loyalty_ledger l
                  JOIN sale_order so ON so.id = l.source_id
                  JOIN sale_order_line sol ON sol.order_id = so.id
                  JOIN loyalty_reward rw ON rw.id = sol.reward_id
                 WHERE l.program_id = %(program)s AND l.kind = 'redeem'
                   AND l.source_model = 'sale.order' AND l.state != 'cancelled'
                   AND l.date >= %(start)s AND l.date < %(end)s
                   AND rw.program_id = %(program)s AND rw.reward_type = 'product'
                   AND so.state = 'sale'
                   -- a redemption given back (the order cancelled) gave no gift
                   AND NOT EXISTS (SELECT 1 FROM crm_loyalty_ledger back
                                    WHERE back.origin_id = l.id AND back.kind = 'reverse')
                   AND NOT EXISTS (SELECT 1 FROM crm_loyalty_revenue_line r
                                    WHERE r.ledger_id = l.id AND r.kind = 'reward_cost')
              GROUP BY l.id, l.partner_id
                """,
                program=program.id,
                start=program.crm_ifrs_start,
                end=fields.Date.add(day, days=1),
            )
        )
        currency = program.company_id.currency_id
        return [
            self._line_values(
                program,
                day,
                "reward_cost",
                partner_id=partner_id,
                ledger_id=ledger_id,
                cost=currency.round(float(cost)),
            )
            for ledger_id, partner_id, cost in rows
            if cost and not currency.is_zero(float(cost))
        ]

    @api.model
    def _release_values(self, program, day, pending):
        """Release (or take back, when the estimate rose) the liability to revenue and
        breakage: the cumulative amounts due at ``day`` less those already booked, the
        ``pending`` values of this posting counted as booked."""
        pool = self._pool(program, day, pending)
        for vals in pending:
            if vals["kind"] not in ("release", "breakage", "reward_cost"):
                pool["deferred"] += vals.get("amount", 0.0)
                pool["issued"] += vals.get("points", 0.0)
        rate = self.env["crm.loyalty.estimate"]._rate_on(program, day)[program]
        mode = AT_EXPIRY if program.crm_breakage_mode == "expiry" else ESTIMATE
        revenue, breakage = cumulative_release(
            pool["deferred"],
            pool["issued"],
            rate,
            pool["redeemed"],
            pool["expired"],
            mode=mode,
        )
        currency = program.company_id.currency_id
        vals_list = []
        for kind, target, booked, closed, counted in (
            ("release", revenue, pool["revenue"], pool["redeemed"], pool["released_points"]),
            ("breakage", breakage, pool["breakage"], pool["expired"], pool["broken_points"]),
        ):
            amount = currency.round(target - booked)
            if not currency.is_zero(amount):
                # the line's points: those redeemed (or expired) since the last such line
                vals_list.append(
                    self._line_values(
                        program,
                        day,
                        kind,
                        points=closed - counted,
                        amount=-amount,
                        rate=rate * 100,
                    )
                )
        return vals_list

    @api.model
    def _post_move(self, program, day, vals_list):
        """One balanced journal entry for the lines of ``vals_list``, posted on ``day``
        (none when they change nothing in the books: an opening of no points)."""
        counterpart = {
            "opening": self._retained_earnings(program.company_id),
            "defer": program.crm_revenue_account_id,
            "refund": program.crm_revenue_account_id,
            "undo": program.crm_revenue_account_id,
            "release": program.crm_revenue_account_id,
            "adjust": program.crm_reward_expense_account_id,
            # the sale stands (its invoice is posted): the promise it carried is gone
            "cancel": program.crm_revenue_account_id,
            "breakage": program.crm_breakage_account_id,
        }
        Line = self.env["crm.loyalty.revenue.line"]
        labels = dict(Line._fields["kind"]._description_selection(self.env))
        balances = defaultdict(float)
        liability = 0.0
        gifts = [vals for vals in vals_list if vals["kind"] == "reward_cost"]
        for vals in vals_list:
            if vals["kind"] != "reward_cost":
                liability += vals["amount"]
                balances[(counterpart[vals["kind"]], labels[vals["kind"]])] += vals["amount"]
        for account, cost in self._gift_costs(program, gifts).items():
            balances[(program.crm_reward_expense_account_id, labels["reward_cost"])] += cost
            balances[(account, labels["reward_cost"])] -= cost
        currency = program.company_id.currency_id
        if not counterpart["opening"] and any(vals["kind"] == "opening" for vals in vals_list):
            opening = sum(vals["amount"] for vals in vals_list if vals["kind"] == "opening")
            if not currency.is_zero(opening):
                raise UserError(
                    self.env._(
                        "%s has no account for undistributed profits (retained earnings): "
                        "add one to open the points' liability.",
                        program.company_id.display_name,
                    )
                )
        name = self.env._("Loyalty liability: %s", program.name)
        move_lines = [
            {"account_id": account.id, "name": f"{name} - {label}", "balance": amount}
            for (account, label), amount in balances.items()
            if not currency.is_zero(amount)
        ]
        if not currency.is_zero(liability):
            move_lines.append(
                {
                    "account_id": program.crm_liability_account_id.id,
                    "name": name,
                    "balance": -liability,
                }
            )
        move = self.env["account.move"]
        if move_lines:
            move = move.create(
                {
                    "move_type": "entry",
                    "journal_id": program.crm_journal_id.id,
                    "company_id": program.company_id.id,
                    "date": day,
                    "ref": self.env._("Loyalty points of %s", program.name),
                    "crm_loyalty_program_id": program.id,
                    "line_ids": [(0, 0, vals) for vals in move_lines],
                }
            )
            move._post(soft=False)
        return move

    @api.model
    def _insert_lines(self, vals_list, move):
        """Insert the revenue lines of ``vals_list``, booked in ``move``, in one statement
        (a posting writes a line per invoice: the ORM's per-record work would dominate)."""
        columns = {
            "program_id": "int4",
            "company_id": "int4",
            "date": "date",
            "kind": "varchar",
            "partner_id": "int4",
            "invoice_id": "int4",
            "ledger_id": "int4",
            "origin_id": "int4",
            "points": "numeric",
            "price": "numeric",
            "points_ssp": "numeric",
            "amount": "numeric",
            "cost": "numeric",
            "rate": "numeric",
        }
        arrays = [[vals.get(column) or None for vals in vals_list] for column in columns]
        for index, column in enumerate(columns):
            if columns[column] == "numeric":
                arrays[index] = [value or 0.0 for value in arrays[index]]
        now = self.env.cr.now()
        self.env.flush_all()
        self.env.execute_query(
            SQL(
                """
                INSERT INTO crm_loyalty_revenue_line (%(columns)s, undone, move_id,
                            create_uid, write_uid, create_date, write_date)
                SELECT *, FALSE, %(move)s, %(uid)s, %(uid)s, %(now)s, %(now)s
                  FROM unnest(%(arrays)s)
                """,
                columns=SQL(", ").join(SQL.identifier(column) for column in columns),
                arrays=SQL(", ").join(
                    SQL("%s::%s[]", values, SQL(kind))
                    for values, kind in zip(arrays, columns.values(), strict=True)
                ),
                move=move.id or None,
                uid=self.env.uid,
                now=now,
            )
        )
        self.env["crm.loyalty.revenue.line"].invalidate_model()

    @api.model
    def _mark_undone(self, line_ids):
        if line_ids:
            self.env["crm.loyalty.revenue.line"].browse(line_ids)._engine_write({"undone": True})

    @api.model
    def _gift_costs(self, program, gifts):
        """{expense account of the goods given: cost} of the reward-cost values ``gifts``,
        each gift product at its own account in the program's company: the cost moves from
        it to the program's reward expense."""
        if not gifts:
            return {}
        entries = self.env["crm.loyalty.ledger"].browse([vals["ledger_id"] for vals in gifts])
        orders = self.env["sale.order"].browse(entries.mapped("source_id"))
        costs = defaultdict(float)
        for line in orders.order_line.filtered(
            lambda sol: (
                sol.reward_id.reward_type == "product" and sol.reward_id.program_id == program
            )
        ):
            template = line.product_id.product_tmpl_id.with_company(program.company_id)
            account = (
                template._get_product_accounts()["expense"] or program.crm_reward_expense_account_id
            )
            rate = line.order_id.currency_rate or 1.0
            costs[account] += line.purchase_price * line.product_uom_qty / rate
        currency = program.company_id.currency_id
        return {account: currency.round(cost) for account, cost in costs.items()}

    @api.model
    def _retained_earnings(self, company):
        Account = self.env["account.account"].with_company(company)
        return Account.search(
            [*Account._check_company_domain(company), ("account_type", "=", "equity_unaffected")],
            limit=1,
        )
