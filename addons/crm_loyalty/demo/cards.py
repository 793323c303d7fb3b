"""DEMO DATA ONLY: two years of the store card of "Tienda Andina SpA" (crm_relationship demo).

The card holders of the store's plan (crm_relationship/demo/store.py) buy month after month
through the real flows: every order earns points (pending until its invoice is paid), credit
notes take them back, points are redeemed at the till and expire, tiers are reviewed at each
month end. The flows stamp their entries "now": after each month they are dated with their
documents (see `_date_entries`).
"""

import random
from datetime import datetime
from datetime import time
from datetime import timedelta

from odoo import api
from odoo import fields
from odoo import models
from odoo.tools import SQL

from odoo.addons.crm_relationship.demo.story import SEED
from odoo.addons.crm_relationship.demo.story import month_ends
from odoo.addons.crm_relationship.demo.story import pay_date
from odoo.addons.crm_relationship.demo.story import story

from ..lib.points import add_months
from ..lib.points import lot_expiry_date

MONTHS = 24
# Points credited to a new card holder on their first purchase, by customer key (default 500).
WELCOME_BONUS = {"ignacio": 1000, "benjamin": 1000, "martina": 0, "catalina": 0}
# Chance that a holder with at least REDEEM_MIN points redeems some at the till in a month.
REDEEM_CHANCE = 0.3
REDEEM_MIN = 1000
REDEEM_STEP = 500  # the reward costs 500 points


class CrmLoyaltyDemo(models.AbstractModel):
    """DEMO DATA ONLY: builds the store card's history (demo/crm_loyalty_andina_demo.xml)."""

    _name = "crm.loyalty.demo"
    _description = "Demo Store Card Generator"

    @api.model
    def _create_store_cards(self, company_id):
        """Build the purchases of the store's card holders month by month, oldest first, then
        replay their segments. Called once by demo/crm_loyalty_andina_demo.xml."""
        company = self.env["res.company"].browse(company_id)
        # Odoo loads a module's translations after its demo data: load crm_loyalty's now, so
        # that the labels the history takes from its selections (the kind of each journal item
        # of the points' liability) read in the store's language, as on a database in use.
        self.env["ir.module.module"]._get("crm_loyalty")._update_translations()
        Store = self.env["crm.relationship.demo"]._demo_env(company)["crm.relationship.demo"]
        demo = self.with_env(Store.env)
        today = fields.Date.context_today(self)
        customers = [customer for customer in story(today) if customer.holder]
        partners = Store._customer_partners(company, customers)
        rng = random.Random(SEED + 1)
        rows = sorted(
            (day, index, customer, basket)
            for customer in customers
            for index, (day, basket) in enumerate(customer.orders)
        )
        products = Store._products()
        payments = []  # (day, invoice, half) not yet made
        start = month_ends(today, MONTHS + 1)[0] + timedelta(days=1)
        demo._start_accounting(start)
        for number, end in enumerate([*month_ends(today, MONTHS), today]):
            watermark = demo._last_ids()
            manual = {}  # ledger entry id -> datetime of a till redemption or a bonus
            month = [row for row in rows if start <= row[0] <= end]
            if month:
                orders = Store.env["sale.order"].create(
                    [
                        Store._order_values(company, partners[c.key], basket, products)
                        for _day, _index, c, basket in month
                    ]
                )
                invoice_of = Store._confirm_dated(orders, [row[0] for row in month])
                for order, (day, index, customer, _basket) in zip(orders, month, strict=True):
                    invoice = invoice_of[order]
                    if index in customer.returns:
                        product = products[next(iter(customer.orders[index][1]))]
                        Store._credit_note(invoice, product, min(day + timedelta(days=3), today))
                    payments.append(
                        (pay_date(rng, customer.habit, day), invoice, customer.habit == "partial")
                    )
                    if index == 0:
                        manual.update(demo._welcome(order, customer, day))
            Store._pay(company, [p for p in payments if p[0] <= end])
            payments = [p for p in payments if p[0] > end]
            manual.update(demo._redeem_at_till(rng, start, end))
            demo._date_entries(watermark, manual, end)
            demo._expire(min(end + timedelta(days=1), today))
            demo._review_tiers(end)
            if number == MONTHS // 2:
                demo._reestimate(end)
            demo._post_month(end)
            start = end + timedelta(days=1)
        Store._replay_segments(company, customers, partners, MONTHS)

    @api.model
    def _start_accounting(self, start):
        """The store defers the points' revenue (IFRS 15) from the first month: a point is
        worth $10 (500 points buy $5.000 off), 85 % of the points are expected to be
        redeemed."""
        program = self._program()
        program.write(
            {
                "crm_ifrs": True,
                "crm_ifrs_start": start,
                "crm_point_value": 10.0,
                "crm_redemption_rate": 85.0,
            }
        )
        program.crm_estimate_ids.write({"date": start})

    @api.model
    def _reestimate(self, day):
        """After a year the accountant raises the estimate towards what the closed points
        show (almost all redeemed): a cumulative catch-up takes revenue back."""
        program = self._program()
        program.crm_redemption_rate = 95.0
        program.crm_estimate_ids.sorted("id")[-1:].write({"date": day})

    @api.model
    def _post_month(self, day):
        """The month's loyalty entries, posted on its last day (what the daily job does)."""
        self.env["crm.loyalty.accounting"]._post(self._program(), day)

    @api.model
    def _program(self):
        return self.env.ref("crm_loyalty.loyalty_program_andina_demo")

    @api.model
    def _last_ids(self):
        """The highest ids of the ledger and the tier history: what a month adds is above."""
        self.env.flush_all()
        return self.env.execute_query(
            SQL(
                """SELECT (SELECT COALESCE(max(id), 0) FROM crm_loyalty_ledger),
                          (SELECT COALESCE(max(id), 0) FROM crm_loyalty_tier_history)"""
            )
        )[0]

    @api.model
    def _welcome(self, order, customer, day):
        """Credit the welcome bonus of a new card holder's first purchase: {entry id: when}."""
        bonus = WELCOME_BONUS.get(customer.key, 500)
        card = order._crm_ledger_cards()[:1]
        if not bonus or not card:
            return {}
        entry = card.crm_adjust_points(bonus, "Bono de bienvenida")
        return {entry.id: datetime.combine(day, time(15, 5))}

    @api.model
    def _redeem_at_till(self, rng, start, end):
        """Some holders with enough points spend them at the till during the month:
        {entry id: when}."""
        cards = self.env["loyalty.card"].search(
            [("program_id", "=", self._program().id), ("points", ">=", REDEEM_MIN)], order="id"
        )
        done = {}
        for card in cards:
            if rng.random() >= REDEEM_CHANCE:
                continue
            points = REDEEM_STEP * rng.randint(1, int(card.points // REDEEM_STEP))
            day = start + timedelta(days=rng.randint(0, (end - start).days))
            entry = card.crm_redeem_points(points, "Canje en caja")
            done[entry.id] = datetime.combine(day, time(18))
        return done

    @api.model
    def _date_entries(self, watermark, manual, end):
        """Date the ledger entries and tier changes made since `watermark` with their documents.

        DEMO ONLY. With `_expire` and `_date_tier_changes`, the only SQL writes of the demo, all
        into crm_loyalty's own append-only tables: the flows stamp entries with the time they
        run (today), and the ledger refuses any write of `date` or `expiry_date`. An entry takes
        the date of its order, of its credit note (invoice date), or the moment given in
        `manual` (till, bonus); a lot expires `crm_expiry_months` after that date. Points and
        balances are not touched, so every card still equals its ledger. A tier change the flows
        made takes the date of the card's last entry of the month.
        """
        ledger_since, tiers_since = watermark
        program = self._program()
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT l.id, l.card_id, l.expiry_date IS NOT NULL,
                       COALESCE(so.date_order, am.invoice_date + time '15:00')
                  FROM crm_loyalty_ledger l
             LEFT JOIN sale_order so ON l.source_model = 'sale.order' AND so.id = l.source_id
             LEFT JOIN account_move am ON l.source_model = 'account.move' AND am.id = l.source_id
                 WHERE l.id > %s
                """,
                ledger_since,
            )
        )
        if not rows:
            return
        fallback = datetime.combine(end, time(20))
        values = []
        last = {}
        for entry_id, card_id, lot, document_date in rows:
            when = manual.get(entry_id) or document_date or fallback
            expiry = lot and lot_expiry_date(
                when.date(), program.crm_expiry_mode, program.crm_expiry_months
            )
            values.append(SQL("(%s, %s::timestamp, %s::date)", entry_id, when, expiry or None))
            last[card_id] = max(last.get(card_id, when), when)
        self.env.execute_query(
            SQL(
                """UPDATE crm_loyalty_ledger l
                      SET date = v.date, expiry_date = v.expiry
                     FROM (VALUES %s) AS v(id, date, expiry)
                    WHERE l.id = v.id""",
                SQL(", ").join(values),
            )
        )
        self.env["crm.loyalty.ledger"].invalidate_model(["date", "expiry_date"])
        changes = self.env["crm.loyalty.tier.history"].search([("id", ">", tiers_since)])
        days = {card: when.date() for card, when in last.items()}
        self._date_tier_changes(changes, days, end)

    @api.model
    def _date_tier_changes(self, changes, days, default):
        """Date tier `changes` on `days` ({card id: date}, else `default`) and restart their cards' retention
        from then (tier history is append-only: SQL, demo only)."""
        if not changes:
            return
        self.env.execute_query(
            SQL(
                """UPDATE crm_loyalty_tier_history h SET date = v.day
                     FROM (VALUES %s) AS v(id, day) WHERE h.id = v.id""",
                SQL(", ").join(
                    SQL("(%s, %s::date)", change.id, days.get(change.card_id.id, default))
                    for change in changes
                ),
            )
        )
        changes.invalidate_recordset(["date"])
        for change in changes:
            card = change.card_id
            day = days.get(card.id, default)
            card.sudo().write(
                {
                    "crm_tier_since": day,
                    "crm_tier_review_date": add_months(
                        day, card.program_id.crm_tier_retention_months
                    ),
                }
            )

    @api.model
    def _expire(self, day):
        """Expire the lots due before `day` with the ledger's own job, then date each expiry on
        the day after its last lot's expiry date."""
        before = self._last_ids()[0]
        if not self.env["crm.loyalty.scheduler"]._expire_due_lots(today=day):
            return
        rows = self.env.execute_query(
            SQL(
                """SELECT c.entry_id, max(lot.expiry_date) + 1
                     FROM crm_loyalty_consumption c
                     JOIN crm_loyalty_ledger lot ON lot.id = c.lot_id
                    WHERE c.entry_id > %s
                    GROUP BY c.entry_id""",
                before,
            )
        )
        self.env.execute_query(
            SQL(
                """UPDATE crm_loyalty_ledger l SET date = v.day
                     FROM (VALUES %s) AS v(id, day) WHERE l.id = v.id AND l.kind = 'expire'""",
                SQL(", ").join(
                    SQL("(%s, %s::timestamp)", entry, expired) for entry, expired in rows
                ),
            )
        )
        self.env["crm.loyalty.ledger"].invalidate_model(["date"])

    @api.model
    def _review_tiers(self, day):
        """The monthly tier review as of `day` (the scheduler's review, dated then), for the
        cards that had bought something by then or already hold a tier."""
        program = self._program()
        cards = self.env["loyalty.card"].search([("program_id", "=", program.id)])
        if not program.crm_tier_ids or not cards:
            return
        self.env.flush_all()
        bought = cards._crm_qualifying_values(day)
        cards = cards.filtered(lambda card: card.id in bought or card.crm_tier_id)
        cards._crm_update_tiers(allow_downgrade=True, as_of=day)
