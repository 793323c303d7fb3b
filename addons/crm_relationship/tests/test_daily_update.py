from datetime import date
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged
from odoo.tools import SQL

from .common import CrmRelationshipCommon

# The day the metrics are first computed for; the tests then move days forward from it.
DAY = date(2026, 6, 30)


def day(offset):
    return DAY + timedelta(days=offset)


@tagged("post_install", "-at_install")
class TestDailyUpdate(CrmRelationshipCommon):
    """The daily update recomputes from their documents only the customers whose documents
    changed or crossed a date, and brings the others forward; either way each row then holds
    what a recompute of everyone from the documents gives."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        # an invoice that leaves the last 12 months the day after DAY
        cls.leaving = cls.customer
        cls._order(cls.leaving, 300, "2026-06-20")
        cls._invoice(cls.leaving, 700, "2025-07-01", "2025-07-31")
        cls._invoice(cls.leaving, 300, "2026-06-20", "2026-07-20")
        # overdue since DAY - 10, a second installment falling due on DAY + 2
        cls.overdue = cls.other_customer
        cls._order(cls.overdue, 500, "2026-01-15")
        cls._invoice(cls.overdue, 500, day(-40), day(-10))
        cls._invoice(cls.overdue, 200, day(-28), day(2))
        # overdue, paid by a payment dated DAY + 3 (registered beforehand)
        cls.paid_later = Partner.create({"name": "Ferretería Pago Diferido", "is_company": True})
        invoice = cls._invoice(cls.paid_later, 400, day(-20), day(-5))
        cls._pay(invoice, 400, day(3))
        # bought long ago, paid on time: only the day counts move
        cls.quiet = Partner.create({"name": "Librería Tranquila", "is_company": True})
        cls._order(cls.quiet, 900, "2025-05-10")
        cls._order(cls.quiet, 100, "2025-08-10")
        invoice = cls._invoice(cls.quiet, 1000, "2025-08-10", "2025-08-20")
        cls._pay(invoice, 1000, "2025-08-15")
        # a payment dated DAY + 2 that the bank rejected
        cls.rejected = Partner.create({"name": "Bazar Cheque Protestado", "is_company": True})
        cls._invoice(cls.rejected, 250, "2025-10-01", "2025-10-31")
        payment = cls.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": cls.rejected.id,
                "amount": 250,
                "date": day(2),
            }
        )
        payment.action_post()
        payment.action_reject()
        cls.partners = cls.leaving | cls.overdue | cls.paid_later | cls.quiet | cls.rejected

    def _refresh_on(self, as_of):
        """Refresh the customers on `as_of`, as if their documents were written two hours
        before (in a test everything is written at the same instant, and a document written
        less than an hour before a refresh counts as changed)."""
        self.Metric._refresh_metrics(self.partners.ids, self.company.ids, as_of=as_of)
        self._settle()

    def _settle(self):
        """Move the documents two hours and the refreshes a minute back in time."""
        self.env.flush_all()
        for table in ("sale_order", "account_move", "account_payment"):
            self.env.execute_query(
                SQL(
                    "UPDATE %s SET write_date = write_date - interval '2 hours'",
                    SQL.identifier(table),
                )
            )
        self.env.execute_query(
            SQL(
                """UPDATE crm_customer_metric SET refreshed_at = refreshed_at - interval '1 minute'
                    WHERE partner_id = ANY(%s)""",
                self.partners.ids,
            )
        )
        self.env.invalidate_all()

    def _rows(self):
        """{partner: the stored metrics (every column the refresh writes)}."""
        columns = ["partner_id", *self.Metric._metric_columns()[2:]]
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                "SELECT %s FROM crm_customer_metric WHERE company_id = %s AND partner_id = ANY(%s)",
                SQL(", ").join(SQL.identifier(c) for c in columns),
                self.company.id,
                self.partners.ids,
            )
        )
        return {self.env["res.partner"].browse(row[0]): row[1:] for row in rows}

    def _recompute_flags(self, as_of):
        keys = self.env.execute_query(
            SQL(
                "SELECT partner_id, recompute FROM (%s) AS s",
                self.Metric._stale_keys_query(self.company.ids, self.partners.ids, as_of),
            )
        )
        return {self.env["res.partner"].browse(partner): again for partner, again in keys}

    def _metric(self, partner):
        return self.Metric.search(
            [("partner_id", "=", partner.id), ("company_id", "=", self.company.id)]
        )

    def test_brought_forward_rows_equal_a_recompute_from_the_documents(self):
        # which customers each day needs from their documents, and that every row then
        # equals what recomputing everyone gives
        expected = {
            1: {self.leaving},  # its invoice of 2025-07-01 left the 12 months
            2: {self.leaving, self.rejected},  # the rejected payment is dated DAY + 2
            # an installment fell due on DAY + 2; a payment is dated DAY + 3
            3: {self.leaving, self.rejected, self.overdue, self.paid_later},
            8: set(self.partners),  # last recomputed more than a week ago
        }
        for offset, recomputed in expected.items():
            with self.subTest(days=offset):
                self._refresh_on(DAY)
                flags = self._recompute_flags(day(offset))
                self.assertEqual(set(flags), set(self.partners))  # all of them are a day behind
                self.assertEqual({p for p, again in flags.items() if again}, recomputed)
                self.Metric._update_metrics(self.company.ids, self.partners.ids, day(offset))
                updated = self._rows()
                self.assertEqual({self._metric(p).facts_date for p in self.partners}, {day(offset)})
                self.Metric._refresh_metrics(self.partners.ids, self.company.ids, as_of=day(offset))
                self.assertEqual(updated, self._rows())

    def test_the_day_counts_move_with_the_day(self):
        self._refresh_on(DAY)
        self.Metric._update_metrics(self.company.ids, self.partners.ids, day(1))
        quiet, overdue = self._metric(self.quiet), self._metric(self.overdue)
        # brought forward, not recomputed: last recomputed on DAY
        self.assertEqual((quiet.recomputed_date, quiet.facts_date), (DAY, day(1)))
        self.assertEqual(quiet.days_since_last_order, (day(1) - date(2025, 8, 10)).days)
        # 2 orders since 2025-05-10: 2 / (days / 30.4375) per month
        self.assertAlmostEqual(
            quiet.orders_per_month, 2 / ((day(1) - date(2025, 5, 10)).days / 30.4375), places=2
        )
        self.assertEqual(overdue.oldest_overdue_days, 11)  # due on DAY - 10
        self.assertEqual(overdue.overdue_amount, 500)
        self.assertEqual((overdue.recomputed_date, overdue.facts_date), (DAY, day(1)))
        # recomputed: the invoice of 2025-07-01 left the 12 months
        leaving = self._metric(self.leaving)
        self.assertEqual((leaving.recomputed_date, leaving.facts_date), (day(1), day(1)))
        self.assertEqual((leaving.revenue_total, leaving.revenue_12m), (1000, 300))

    def test_a_customer_whose_documents_changed_is_recomputed_the_same_day(self):
        self._refresh_on(DAY)
        self.assertEqual(self._recompute_flags(DAY), {})
        self._invoice(self.quiet, 50, day(-1), day(20))
        self.assertEqual(self._recompute_flags(DAY), {self.quiet: True})
        self.Metric._update_metrics(self.company.ids, self.partners.ids, DAY)
        self.assertEqual(self._metric(self.quiet).revenue_total, 1050)
        # written less than an hour before the refresh: recomputed once more, then not
        self.assertEqual(self._recompute_flags(DAY), {self.quiet: True})
        self._settle()
        self.assertEqual(self._recompute_flags(DAY), {})

    def test_bringing_forward_marks_the_others_to_recompute(self):
        # the cron's first worker brings rows forward, then plans the others: until then they
        # hold no day, so that nothing takes them for up to date
        self._refresh_on(DAY)
        aged, todo = self.Metric._age_metrics(self.company.ids, self.partners.ids, day(1))
        self.assertEqual(aged.partner_id, self.partners - self.leaving)
        self.assertEqual(todo, {self.company.id: ([self.leaving.id], False)})
        self.assertFalse(self._metric(self.leaving).facts_date)
        self.assertEqual(self._metric(self.quiet).facts_date, day(1))
        self.assertEqual(
            self.Metric._get_stale_keys(self.company.ids, self.partners.ids, day(1)),
            [(self.leaving.id, self.company.id)],
        )
        # most of them to recompute (three days on): nothing brought forward, nothing marked
        self._refresh_on(DAY)
        aged, todo = self.Metric._age_metrics(self.company.ids, self.partners.ids, day(3))
        self.assertFalse(aged)
        self.assertEqual(todo, {self.company.id: (sorted(self.partners.ids), True)})
        self.assertEqual({self._metric(p).facts_date for p in self.partners}, {DAY})

    def test_the_cron_brings_rows_forward_and_recomputes_the_changed_ones(self):
        # yesterday's run, then today's cron: one customer got an invoice meanwhile
        today = fields.Date.context_today(self.Metric)
        self._refresh_on(today - timedelta(days=1))
        self._invoice(self.quiet, 80, today - timedelta(days=2), today + timedelta(days=20))
        Cron = type(self.env["ir.cron"])
        with patch.object(Cron, "_commit_progress", return_value=60.0):
            self.Metric._cron_refresh_metrics()
        rows = self._rows()
        metrics = {p: self._metric(p) for p in self.partners}
        self.assertEqual({m.facts_date for m in metrics.values()}, {today})
        self.assertEqual(metrics[self.quiet].recomputed_date, today)
        self.assertEqual(metrics[self.quiet].revenue_total, 1080)
        # nothing else changed or crossed a date in a day: brought forward
        self.assertEqual(metrics[self.paid_later].recomputed_date, today - timedelta(days=1))
        self.Metric._refresh_metrics(self.partners.ids, self.company.ids)
        self.assertEqual(rows, self._rows())
        self._settle()
        self.assertEqual(self.Metric._get_stale_keys(self.company.ids, self.partners.ids), [])

    def test_an_order_reset_to_quotation_is_a_change(self):
        order = self._order(self.quiet, 40, day(-3))
        self._refresh_on(DAY)
        self.assertEqual(self._metric(self.quiet).order_count, 3)
        order._action_cancel()
        order.action_draft()
        self.assertEqual(self._recompute_flags(day(1))[self.quiet], True)
        self.Metric._update_metrics(self.company.ids, self.partners.ids, day(1))
        self.assertEqual(self._metric(self.quiet).order_count, 2)

    def test_a_customer_without_metrics_is_found_by_the_weekly_scan(self):
        # its order was written before the refreshes of the others, and it has no row (as a
        # customer whose contact moved under it): only a scan of every document finds it
        newcomer = self.env["res.partner"].create({"name": "Almacén Recién Llegado"})
        self._order(newcomer, 60, day(-5))
        self.partners |= newcomer
        self.Metric._refresh_metrics((self.partners - newcomer).ids, self.company.ids, as_of=DAY)
        self._settle()
        key = f"crm_relationship.metrics_scanned_{self.company.id}"
        self.env["ir.config_parameter"].set_param(key, str(DAY))  # scanned on DAY
        self.assertNotIn(
            (newcomer.id, self.company.id), self.Metric._get_stale_keys(self.company.ids)
        )
        self.Metric._update_metrics(self.company.ids, as_of=day(1))
        self.assertFalse(self._metric(newcomer))
        # the last scan a week ago: every document read, the others brought forward
        self.env["ir.config_parameter"].set_param(key, str(day(-6)))
        self.Metric._update_metrics(self.company.ids, as_of=day(1))
        self.assertEqual(self._metric(newcomer).order_count, 1)
        self.assertEqual(self._metric(self.quiet).recomputed_date, DAY)
        self.assertEqual(self.env["ir.config_parameter"].get_param(key), str(day(1)))
