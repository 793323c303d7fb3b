import logging

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import UserError
from odoo.exceptions import ValidationError
from odoo.tools import SQL
from odoo.tools.translate import LazyTranslate

from ..tools import ENGINE
from ..tools import ledger_scope

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

BATCH_SIZE = 50_000


class CrmLoyaltyScheduler(models.AbstractModel):
    """Daily jobs of the ledger: expire due lots, mature pending points, remind, review tiers.

    Each ``_cron_*`` method works in batches and commits through ``ir.cron._commit_progress``,
    so an interrupted run resumes where it stopped. The batch methods themselves never
    commit: tests and other code call them directly.
    """

    _name = "crm.loyalty.scheduler"
    _description = "Loyalty Points Scheduled Jobs"

    # ----------------------------------------------------------------- expiry

    @api.model
    def _count_due_lots(self, today):
        self.env["crm.loyalty.ledger"].flush_model()
        return self.env.execute_query(
            SQL(
                "SELECT count(*) FROM crm_loyalty_ledger WHERE remaining > 0 AND state = 'available'"
                " AND expiry_date < %s",
                today,
            )
        )[0][0]

    @api.model
    def _expire_due_lots(self, today=None, limit=None):
        """Expire up to ``limit`` lots whose expiry date is before ``today``, set-based.

        One statement locks the lots and their cards (skipping rows another transaction
        holds), writes one ``expire`` entry per card with the consumption of each lot,
        empties the lots, lowers the cards' points and adds a loyalty.history row, so the
        card balance keeps matching the ledger. Their text is in each customer's language,
        else in that of the program's company (``crm.loyalty.ledger._customer_lang``).
        Returns the number of lots expired.
        """
        today = today or fields.Date.context_today(self)
        limit = limit or BATCH_SIZE
        self.env.flush_all()
        now = fields.Datetime.now()
        uid = self.env.uid
        reason = self.env["crm.loyalty.ledger"]._customer_text_sql(_lt("Points expired"), "c")
        rows = self.env.execute_query(
            SQL(
                """
                WITH due AS (
                    SELECT l.id, l.card_id, l.remaining
                      FROM crm_loyalty_ledger l
                      JOIN loyalty_card c ON c.id = l.card_id
                     WHERE l.remaining > 0 AND l.state = 'available' AND l.expiry_date < %(today)s
                     ORDER BY l.expiry_date, l.id
                     LIMIT %(limit)s
                       FOR UPDATE OF l, c SKIP LOCKED
                ), per_card AS (
                    SELECT card_id, SUM(remaining) AS points FROM due GROUP BY card_id
                ), texts AS (
                    SELECT pc.card_id, %(reason)s AS reason
                      FROM per_card pc
                      JOIN loyalty_card c ON c.id = pc.card_id
                ), entries AS (
                    INSERT INTO crm_loyalty_ledger (
                        card_id, program_id, partner_id, company_id, kind, points, date, state,
                        remaining, debt, source_type, reason, user_id, reminder_sent,
                        create_uid, write_uid, create_date, write_date)
                    SELECT c.id, c.program_id, c.partner_id, p.company_id,
                           'expire', -pc.points, %(now)s, 'available', 0, 0, 'expiry',
                           t.reason, %(uid)s, FALSE, %(uid)s, %(uid)s, %(now)s, %(now)s
                      FROM per_card pc
                      JOIN texts t ON t.card_id = pc.card_id
                      JOIN loyalty_card c ON c.id = pc.card_id
                      JOIN loyalty_program p ON p.id = c.program_id
                    RETURNING id, card_id
                ), consumptions AS (
                    INSERT INTO crm_loyalty_consumption (
                        entry_id, lot_id, points, create_uid, write_uid, create_date, write_date)
                    SELECT e.id, d.id, d.remaining, %(uid)s, %(uid)s, %(now)s, %(now)s
                      FROM due d JOIN entries e ON e.card_id = d.card_id
                ), lots AS (
                    UPDATE crm_loyalty_ledger l SET remaining = 0, write_date = %(now)s
                     WHERE l.id = ANY(ARRAY(SELECT id FROM due))
                ), cards AS (
                    UPDATE loyalty_card c SET points = ROUND((c.points - pc.points)::numeric, 2),
                                              write_date = %(now)s
                      FROM per_card pc WHERE c.id = pc.card_id
                ), history AS (
                    INSERT INTO loyalty_history (
                        card_id, description, issued, used, create_uid, write_uid, create_date,
                        write_date)
                    SELECT pc.card_id, t.reason, 0, pc.points, %(uid)s, %(uid)s, %(now)s, %(now)s
                      FROM per_card pc
                      JOIN texts t ON t.card_id = pc.card_id
                )
                SELECT count(*) FROM due
                """,
                today=today,
                limit=limit,
                now=now,
                uid=uid,
                reason=reason,
            )
        )
        self.env["loyalty.card"].invalidate_model(["points"])
        self.env["crm.loyalty.ledger"].invalidate_model()
        self.env["loyalty.history"].invalidate_model()
        return rows[0][0]

    @api.model
    def _cron_expire_points(self):
        today = fields.Date.context_today(self)
        Cron = self.env["ir.cron"]
        Cron._commit_progress(remaining=self._count_due_lots(today))
        while True:
            done = self._expire_due_lots(today)
            if not done or not Cron._commit_progress(done):
                break

    # --------------------------------------------------------------- maturity

    @api.model
    def _mature_due_lots(self, today=None, limit=1000):
        """Make usable the pending lots whose return window ended; returns how many."""
        today = today or fields.Date.context_today(self)
        Ledger = self.env["crm.loyalty.ledger"]
        lots = Ledger.search(
            [
                ("state", "=", "pending"),
                ("kind", "in", ("earn", "reverse")),
                ("points", ">", 0),
                ("mature_date", "<=", today),
                ("program_id.crm_pending_mode", "=", "window"),
            ],
            limit=limit,
            order="id",
        )
        lots.card_id._crm_lock()
        Ledger._mature(lots)
        return len(lots)

    @api.model
    def _cron_mature_points(self):
        Cron = self.env["ir.cron"]
        while True:
            done = self._mature_due_lots()
            if not done or not Cron._commit_progress(done):
                break

    # -------------------------------------------------------------- reminders

    @api.model
    def _send_expiry_reminders(self, today=None, limit=500):
        """E-mail each customer whose points expire within the program's reminder days.

        One mail per card covering all its lots due in the period, to the customers who may
        be contacted by e-mail (``res.partner._crm_can_contact``); lots are flagged so a
        customer is reminded (or refused) once per lot. Returns the number of cards handled.
        """
        today = today or fields.Date.context_today(self)
        Ledger = self.env["crm.loyalty.ledger"]
        Ledger.flush_model()
        # The due lots of the first `limit` cards (by id) still to remind.
        lot_ids = [
            row[0]
            for row in self.env.execute_query(
                SQL(
                    """
                    WITH due AS (
                        SELECT l.id, l.card_id FROM crm_loyalty_ledger l
                          JOIN loyalty_program p ON p.id = l.program_id
                         WHERE l.remaining > 0 AND l.state = 'available'
                           AND l.reminder_sent IS NOT TRUE
                           AND p.crm_reminder_days > 0
                           AND l.expiry_date >= %(today)s
                           AND l.expiry_date <= %(today)s + p.crm_reminder_days
                    )
                    SELECT id FROM due
                     WHERE card_id IN (SELECT DISTINCT card_id FROM due ORDER BY 1 LIMIT %(limit)s)
                     ORDER BY card_id, id
                    """,
                    today=today,
                    limit=limit,
                )
            )
        ]
        lots = Ledger.browse(lot_ids)
        template = self.env.ref("crm_loyalty.mail_template_points_expiring")
        cards = lots.card_id
        # consent, Odoo's blacklist and an address decide; a refused reminder is counted in
        # the refused sends, and its lots are still flagged (one refusal per lot, not daily)
        reachable = cards.partner_id._crm_can_contact("email", purpose="reminder")
        for card, card_lots in lots.grouped("card_id").items():
            if card.partner_id in reachable:
                template.with_context(
                    crm_expiring_points=sum(card_lots.mapped("remaining")),
                    crm_expiry_date=min(card_lots.mapped("expiry_date")),
                ).send_mail(card.id, email_layout_xmlid="mail.mail_notification_light")
        lots._engine_write({"reminder_sent": True})
        return len(cards)

    @api.model
    def _cron_send_expiry_reminders(self):
        Cron = self.env["ir.cron"]
        while True:
            done = self._send_expiry_reminders()
            if not done or not Cron._commit_progress(done):
                break

    # ------------------------------------------------------------------ tiers

    @api.model
    def _review_tiers(self, today=None, limit=1000, after_id=0):
        """Re-qualify cards whose tier retention ended by ``today`` (downgrade or renew), as of
        ``today``; returns the cards reviewed."""
        today = today or fields.Date.context_today(self)
        cards = self.env["loyalty.card"].search(
            [("crm_tier_review_date", "<=", today), ("id", ">", after_id)], limit=limit, order="id"
        )
        cards._crm_update_tiers(allow_downgrade=True, as_of=today)
        return cards

    @api.model
    def _cron_review_tiers(self):
        Cron = self.env["ir.cron"]
        last_id = 0
        while True:
            cards = self._review_tiers(after_id=last_id)
            if not cards or not Cron._commit_progress(len(cards)):
                break
            last_id = cards[-1].id

    # ------------------------------------------------------------- accounting

    @api.model
    def _cron_post_revenue(self):
        """Post the points' liability of every program that defers revenue, up to yesterday
        (today's invoices are still being made), one program per commit. A program whose
        period is locked is skipped and logged: the others are still posted."""
        Cron = self.env["ir.cron"]
        day = fields.Date.subtract(fields.Date.context_today(self), days=1)
        programs = self.env["loyalty.program"].search(
            [("crm_ifrs", "=", True), ("crm_ifrs_start", "<=", day)]
        )
        Cron._commit_progress(remaining=len(programs))
        for program in programs:
            try:
                with self.env.cr.savepoint():
                    self.env["crm.loyalty.accounting"]._post(program, day)
            except UserError as error:
                _logger.warning("Loyalty entries of %s not posted: %s", program.name, error)
            if not Cron._commit_progress(1):
                break

    # ------------------------------------------------- promotions paid otherwise

    @api.model
    def _bill_promotion_differences(self, limit=100):
        """Bill on draft debit notes the differences of up to ``limit`` flagged orders whose
        promotion says so; orders another worker holds are skipped. Returns the orders."""
        self.env["sale.order"].flush_model(["crm_promo_compliance", "crm_promo_action"])
        rows = self.env.execute_query(
            SQL(
                """
                SELECT id FROM sale_order
                 WHERE crm_promo_compliance = 'flagged' AND crm_promo_action = 'debit_note'
                 ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED
                """,
                limit,
            )
        )
        orders = self.env["sale.order"].browse([row[0] for row in rows])
        with ledger_scope(self.env, ENGINE):
            for order in orders:
                try:
                    with self.env.cr.savepoint():
                        order.with_company(order.company_id)._crm_bill_promotion_difference(
                            automatic=True
                        )
                except (UserError, ValidationError) as error:
                    # the debit note cannot be made (a journal or tax of the invoice changed
                    # since): the difference waits for the accountant, who got the activity
                    _logger.warning("Debit note of %s not made: %s", order.name, error)
                    order.write({"crm_promo_action": "accept"})
                    order.message_post(
                        body=self.env._(
                            "The debit note of the promotion's difference could not be made: "
                            "%s An accountant decides.",
                            error,
                        )
                    )
        return orders

    @api.model
    def _cron_bill_promotion_differences(self):
        Cron = self.env["ir.cron"]
        while orders := self._bill_promotion_differences():
            if not Cron._commit_progress(len(orders)):
                break
