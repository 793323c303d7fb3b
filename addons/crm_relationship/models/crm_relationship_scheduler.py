import calendar
from datetime import timedelta

from odoo import api
from odoo import fields
from odoo import models
from odoo.tools import SQL

# A missed day (the server down, the cron late) is caught up for this many days back.
BIRTHDAY_CATCH_UP_DAYS = 3


class CrmRelationshipScheduler(models.AbstractModel):
    """Daily jobs of the relationship: birthday greetings.

    The job methods take the day as an argument and never commit: tests and other code call
    them directly; the cron passes today."""

    _name = "crm.relationship.scheduler"
    _description = "Customer Relationship Scheduled Jobs"

    @api.model
    def _cron_send_birthday_greetings(self):
        self._send_birthday_greetings(fields.Date.context_today(self))

    @api.model
    def _birthday_window(self, today, days=BIRTHDAY_CATCH_UP_DAYS):
        """[(month, day, celebrated on)] for the days from `today - days` to `today`.
        Someone born on 29 February is celebrated on 28 February in a non-leap year."""
        window = []
        for offset in range(days + 1):
            day = today - timedelta(days=offset)
            window.append((day.month, day.day, day))
            if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
                window.append((2, 29, day))
        return window

    @api.model
    def _select_birthdays(self, today):
        """[(partner id, year)] of the active contacts whose birthday fell within the catch-up
        window and was not handled that year: one set-based query over all contacts."""
        window = self._birthday_window(today)
        self.env["res.partner"].flush_model(["crm_birthday", "crm_birthday_greeted_year", "active"])
        days = SQL(", ").join(SQL("(%s, %s, %s::date)", m, d, on) for m, d, on in window)
        return self.env.execute_query(
            SQL(
                """
                SELECT p.id, MAX(EXTRACT(YEAR FROM w.celebrated_on))::int
                  FROM res_partner p
                  JOIN (VALUES %s) AS w(month, day, celebrated_on)
                    ON EXTRACT(MONTH FROM p.crm_birthday) = w.month
                   AND EXTRACT(DAY FROM p.crm_birthday) = w.day
                 WHERE p.active
                   AND p.crm_birthday IS NOT NULL
                   AND p.crm_birthday < w.celebrated_on
                   AND COALESCE(p.crm_birthday_greeted_year, 0) < EXTRACT(YEAR FROM w.celebrated_on)
              GROUP BY p.id
              ORDER BY p.id
                """,
                days,
            )
        )

    @api.model
    def _send_birthday_greetings(self, today):
        """Greet by e-mail every contact whose birthday is due (see _select_birthdays), in
        their language, once per year: contacts who opted out of e-mail, are blacklisted or
        have no address are counted as refused sends instead. Each greeting is logged as an
        outbound e-mail interaction. Returns the greeted partners."""
        Partner = self.env["res.partner"]
        rows = self._select_birthdays(today)
        if not rows:
            return Partner
        years = dict(rows)
        # sudo: the cron greets every contact; the template renders only the partner's name
        partners = Partner.sudo().browse(list(years))
        template = self.env.ref("crm_relationship.mail_template_birthday_greeting").sudo()
        greeted = partners._crm_can_contact("email", purpose="birthday")
        if greeted:
            mails = template.send_mail_batch(
                greeted.ids, email_layout_xmlid="mail.mail_notification_light"
            )
            self.env["crm.interaction"].sudo().create(
                [
                    {
                        "partner_id": partner.commercial_partner_id.id,
                        "contact_id": partner.id
                        if partner != partner.commercial_partner_id
                        else False,
                        "channel": "email",
                        "direction": "outbound",
                        "subject": mail.subject,
                        "origin": "birthday",
                        "mail_message_id": mail.mail_message_id.id,
                        "user_id": False,
                        "company_id": (partner.company_id or self.env.company).id,
                    }
                    for partner, mail in zip(greeted, mails, strict=True)
                ]
            )
        # handled for the year, greeted or refused: the next run neither greets nor counts
        # them again
        by_year = {}
        for partner in partners:
            by_year.setdefault(years[partner.id], []).append(partner.id)
        for year, partner_ids in by_year.items():
            Partner.sudo().browse(partner_ids).write({"crm_birthday_greeted_year": year})
        return greeted
