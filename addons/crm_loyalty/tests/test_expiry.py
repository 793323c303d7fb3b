from datetime import date
from unittest.mock import patch

from freezegun import freeze_time

from odoo.tests import tagged

from .common import LoyaltyLedgerCase


@tagged("post_install", "-at_install")
class TestExpiry(LoyaltyLedgerCase):
    def test_lots_expire_after_the_programs_validity(self):
        with freeze_time("2025-01-10"):
            lot = self._earn(self.card, 100)
        self.assertEqual(lot.expiry_date, date(2026, 1, 10))

    def test_lots_can_expire_at_the_end_of_the_calendar_year(self):
        self.program.crm_expiry_mode = "year_end"
        with freeze_time("2026-03-05"):
            lot = self._earn(self.card, 100)
        self.assertEqual(lot.expiry_date, date(2026, 12, 31))

    def test_expiry_consumes_only_due_lots_and_lowers_the_card(self):
        with freeze_time("2025-01-10"):
            old = self._earn(self.card, 100)
        with freeze_time("2025-06-10"):
            young = self._earn(self.card, 40)
            self.card.crm_redeem_points(30)
        done = self.env["crm.loyalty.scheduler"]._expire_due_lots(today=date(2026, 1, 11))
        self.assertEqual(done, 1)
        expire = self._entries(kind="expire")
        self.assertEqual(expire.points, -70)
        self.assertEqual(expire.consumption_ids.lot_id, old)
        self.assertEqual((old.remaining, young.remaining, self.card.points), (0, 40, 40))
        history = self.card.history_ids.filtered(lambda h: h.used == 70)
        self.assertTrue(history)
        self.assertLedgerInvariant()

    def test_expiry_job_commits_progress_in_batches(self):
        with freeze_time("2024-01-10"):
            for _index in range(3):
                self._earn(self.card, 10)
        scheduler = self.env["crm.loyalty.scheduler"]
        with (
            patch("odoo.addons.crm_loyalty.models.crm_loyalty_scheduler.BATCH_SIZE", 2),
            patch.object(
                type(self.env["ir.cron"]), "_commit_progress", return_value=60
            ) as progress,
        ):
            scheduler._cron_expire_points()
        self.assertEqual(progress.call_args_list[0].kwargs.get("remaining"), 3)
        self.assertEqual([c.args for c in progress.call_args_list[1:]], [(2,), (1,)])
        self.assertEqual(self.card.points, 0)

    def test_reminder_mail_tells_how_many_points_expire_and_when(self):
        self.program.crm_reminder_days = 15
        with freeze_time("2025-01-20"):
            self._earn(self.card, 120)
        scheduler = self.env["crm.loyalty.scheduler"]
        self.assertEqual(scheduler._send_expiry_reminders(today=date(2026, 1, 1)), 0)
        self.assertEqual(scheduler._send_expiry_reminders(today=date(2026, 1, 10)), 1)
        mail = self.env["mail.mail"].search(
            [("model", "=", "loyalty.card"), ("res_id", "=", self.card.id)]
        )
        self.assertIn("120", mail.body_html)
        self.assertIn(self.partner, mail.recipient_ids)
        self.assertEqual(scheduler._send_expiry_reminders(today=date(2026, 1, 11)), 0)

    def test_no_reminder_to_a_customer_who_opted_out_or_is_blacklisted(self):
        """Consent and Odoo's blacklist decide; each refused reminder is counted once."""
        self.program.crm_reminder_days = 15
        blacklisted = self.env["res.partner"].create(
            {"name": "Cliente Lista Negra Test", "email": "negra.test@example.com"}
        )
        other_card = self.env["loyalty.card"].create(
            {"program_id": self.program.id, "partner_id": blacklisted.id}
        )
        with freeze_time("2025-01-20"):
            self._earn(self.card, 120)
            self._earn(other_card, 80)
        self.env["crm.consent"]._set_consent(self.partner, "email", False, "portal")
        self.env["mail.blacklist"]._add("negra.test@example.com")
        scheduler = self.env["crm.loyalty.scheduler"]
        scheduler._send_expiry_reminders(today=date(2026, 1, 10))
        mails = self.env["mail.mail"].search(
            [("model", "=", "loyalty.card"), ("res_id", "in", (self.card | other_card).ids)]
        )
        self.assertFalse(mails)
        refusals = self.env["crm.contact.refusal"].search(
            [("partner_id", "in", (self.partner | blacklisted).ids), ("purpose", "=", "reminder")]
        )
        self.assertEqual(refusals.partner_id, self.partner | blacklisted)
        scheduler._send_expiry_reminders(today=date(2026, 1, 11))
        self.assertEqual(
            self.env["crm.contact.refusal"].search_count(
                [("partner_id", "in", (self.partner | blacklisted).ids)]
            ),
            2,
        )
