from datetime import date

from freezegun import freeze_time

from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase
from odoo.tests import new_test_user
from odoo.tests import tagged


@tagged("post_install", "-at_install")
class TestBirthday(TransactionCase):
    """The daily birthday greetings: once a year per contact whatever the number of runs,
    caught up after a missed day, 29 February greeted on 28 February in a non-leap year, never
    to a contact who opted out or has no e-mail, each greeting logged."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Partner = cls.env["res.partner"]
        cls.Scheduler = cls.env["crm.relationship.scheduler"]
        # the job greets everyone whose birthday is due: other contacts' birthdays (the demo
        # store's) are cleared so that only this test's contacts are
        cls.Partner.with_context(active_test=False).search([("crm_birthday", "!=", False)]).write(
            {"crm_birthday": False}
        )
        cls.customer = cls.Partner.create({"name": "Tienda Andes Test", "is_company": True})
        cls.ana = cls.Partner.create(
            {
                "name": "Ana Soto",
                "email": "ana.soto@example.com",
                "parent_id": cls.customer.id,
                "crm_birthday": "1980-12-01",
            }
        )
        cls.leap = cls.Partner.create(
            {
                "name": "Bisiesto Pérez",
                "email": "bisiesto@example.com",
                "crm_birthday": "1996-02-29",
            }
        )

    def _greetings(self, partner):
        return self.env["mail.mail"].search(
            [("model", "=", "res.partner"), ("res_id", "=", partner.id)]
        )

    def _interactions(self, partner):
        return self.env["crm.interaction"].search(
            [("partner_id", "=", partner.commercial_partner_id.id), ("origin", "=", "birthday")]
        )

    def test_a_birthday_in_the_future_is_refused(self):
        with freeze_time("2026-12-01"):
            # the transaction of the request is rolled back: here a savepoint
            with self.assertRaisesRegex(ValidationError, "cannot be in the future"):
                with self.env.cr.savepoint():
                    self.Partner.create({"name": "Futuro", "crm_birthday": "2026-12-02"})
            with self.assertRaisesRegex(ValidationError, "cannot be in the future"):
                with self.env.cr.savepoint():
                    self.ana.crm_birthday = "2030-01-01"
        self.ana.invalidate_recordset()
        self.assertEqual(self.ana.crm_birthday, date(1980, 12, 1))
        self.assertFalse(self.Partner.search([("name", "=", "Futuro")]))

    def test_the_cron_run_twice_greets_once_and_logs_the_greeting(self):
        with freeze_time("2026-12-01 08:00:00"):
            greeted = self.Scheduler._send_birthday_greetings(date(2026, 12, 1))
            self.assertEqual(greeted, self.ana)
            self.assertFalse(self.Scheduler._send_birthday_greetings(date(2026, 12, 1)))
            self.Scheduler._cron_send_birthday_greetings()
        mail = self._greetings(self.ana)
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.recipient_ids, self.ana)
        self.assertIn("Happy birthday", mail.subject)
        self.assertIn("Ana Soto", mail.body_html)
        self.assertEqual(self.ana.crm_birthday_greeted_year, 2026)
        logged = self._interactions(self.ana)
        self.assertEqual(len(logged), 1)
        self.assertEqual((logged.channel, logged.direction), ("email", "outbound"))
        self.assertEqual(logged.contact_id, self.ana)
        self.assertEqual(logged.mail_message_id, mail.mail_message_id)
        # next year, again once
        self.Scheduler._send_birthday_greetings(date(2027, 12, 1))
        self.assertEqual(len(self._greetings(self.ana)), 2)
        self.assertEqual(self.ana.crm_birthday_greeted_year, 2027)

    def test_a_missed_day_is_caught_up_within_the_window(self):
        # the cron did not run on the 1st nor the 2nd: greeted on the 3rd
        self.Scheduler._send_birthday_greetings(date(2026, 12, 3))
        self.assertEqual(len(self._greetings(self.ana)), 1)
        # a birthday a week ago is not greeted late
        late = self.Partner.create(
            {"name": "Tardío", "email": "tardio@example.com", "crm_birthday": "1970-11-24"}
        )
        self.Scheduler._send_birthday_greetings(date(2026, 12, 3))
        self.assertFalse(self._greetings(late))

    def test_a_birthday_at_the_end_of_the_year_caught_up_in_january(self):
        eve = self.Partner.create(
            {"name": "Silvestre", "email": "silvestre@example.com", "crm_birthday": "1975-12-31"}
        )
        self.Scheduler._send_birthday_greetings(date(2027, 1, 2))
        self.assertEqual(len(self._greetings(eve)), 1)
        self.assertEqual(eve.crm_birthday_greeted_year, 2026)
        self.Scheduler._send_birthday_greetings(date(2027, 1, 3))
        self.assertEqual(len(self._greetings(eve)), 1)

    def test_29_february_is_greeted_on_28_february_in_a_non_leap_year(self):
        self.Scheduler._send_birthday_greetings(date(2027, 2, 27))
        self.assertFalse(self._greetings(self.leap))
        self.Scheduler._send_birthday_greetings(date(2027, 2, 28))
        self.assertEqual(len(self._greetings(self.leap)), 1)
        self.Scheduler._send_birthday_greetings(date(2027, 3, 1))
        self.assertEqual(len(self._greetings(self.leap)), 1)
        # in a leap year on the 29th itself, not on the 28th
        self.Scheduler._send_birthday_greetings(date(2028, 2, 28))
        self.assertEqual(len(self._greetings(self.leap)), 1)
        self.Scheduler._send_birthday_greetings(date(2028, 2, 29))
        self.assertEqual(len(self._greetings(self.leap)), 2)

    def test_opted_out_or_unreachable_contacts_are_not_greeted_and_are_counted(self):
        self.env["crm.consent"]._set_consent(self.customer, "email", False, "phone")
        no_email = self.Partner.create({"name": "Sin Correo", "crm_birthday": "1990-12-01"})
        blacklisted = self.Partner.create(
            {"name": "Bloqueado", "email": "bloqueado@example.com", "crm_birthday": "1990-12-01"}
        )
        self.env["mail.blacklist"]._add("bloqueado@example.com")
        greeted = self.Scheduler._send_birthday_greetings(date(2026, 12, 1))
        self.assertFalse(greeted)
        for partner in (self.ana, no_email, blacklisted):
            self.assertFalse(self._greetings(partner))
            self.assertFalse(self._interactions(partner))
        refusals = self.env["crm.contact.refusal"].search(
            [("partner_id", "in", (self.ana | no_email | blacklisted).ids)]
        )
        self.assertEqual(
            {(r.partner_id, r.reason, r.purpose) for r in refusals},
            {
                (self.ana, "opted_out", "birthday"),
                (no_email, "no_address", "birthday"),
                (blacklisted, "blacklisted", "birthday"),
            },
        )
        # counted once: a second run the same day neither sends nor counts again
        self.Scheduler._send_birthday_greetings(date(2026, 12, 1))
        self.assertEqual(
            self.env["crm.contact.refusal"].search_count(
                [("partner_id", "in", (self.ana | no_email | blacklisted).ids)]
            ),
            3,
        )

    def test_a_contact_s_own_opt_in_wins_over_the_company_s_opt_out(self):
        self.env["crm.consent"]._set_consent(self.customer, "email", False, "form")
        self.env["crm.consent"]._set_consent(self.ana, "email", True, "portal")
        self.assertEqual(self.Scheduler._send_birthday_greetings(date(2026, 12, 1)), self.ana)

    def test_the_greeting_is_in_the_contact_s_language(self):
        self.env["res.lang"]._activate_lang("es_ES")
        self.env["ir.module.module"]._load_module_terms(["crm_relationship"], ["es_ES"])
        self.ana.lang = "es_ES"
        self.Scheduler._send_birthday_greetings(date(2026, 12, 1))
        mail = self._greetings(self.ana)
        self.assertIn("Feliz cumpleaños", mail.subject)
        self.assertIn("Ana Soto", mail.body_html)

    def test_the_selection_is_one_query(self):
        for n in range(30):
            self.Partner.create(
                {"name": f"Cliente {n}", "email": f"c{n}@example.com", "crm_birthday": "1985-12-01"}
            )
        self.env.flush_all()
        with self.assertQueryCount(1):
            rows = self.Scheduler._select_birthdays(date(2026, 12, 1))
        self.assertEqual(len(rows), 31)

    def test_a_salesperson_sets_a_birthday(self):
        salesman = new_test_user(
            self.env, login="birthday_salesman", groups="sales_team.group_sale_salesman"
        )
        self.ana.with_user(salesman).crm_birthday = "1981-01-15"
        self.assertEqual(self.ana.crm_birthday, date(1981, 1, 15))
