import re

from odoo.tests import HttpCase
from odoo.tests import TransactionCase
from odoo.tests import new_test_user
from odoo.tests import tagged
from odoo.tools import mute_logger


@tagged("post_install", "-at_install")
class TestConsent(TransactionCase):
    """_crm_can_contact: consent (own, else the company's), Odoo's blacklist and the address;
    a refused send is counted when the caller names its purpose."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.Consent = cls.env["crm.consent"]
        cls.Refusal = cls.env["crm.contact.refusal"]
        cls.company = Partner.create(
            {"name": "Maule Test", "is_company": True, "email": "maule@example.com"}
        )
        cls.pia = Partner.create(
            {"name": "Pía", "parent_id": cls.company.id, "email": "pia@example.com"}
        )
        cls.tomas = Partner.create(
            {"name": "Tomás", "email": "tomas@example.com", "phone": "+56 9 1234 5678"}
        )
        cls.nobody = Partner.create({"name": "Sin Datos"})

    def test_no_consent_row_means_no_objection(self):
        everyone = self.company | self.pia | self.tomas
        self.assertEqual(everyone._crm_can_contact("email"), everyone)

    def test_an_opt_out_refuses_and_a_company_opt_out_covers_its_contacts(self):
        self.Consent._set_consent(self.tomas, "email", False, "phone")
        self.Consent._set_consent(self.company, "email", False, "form")
        everyone = self.company | self.pia | self.tomas
        self.assertFalse(everyone._crm_can_contact("email"))
        # other channels are not touched
        self.assertEqual(self.tomas._crm_can_contact("phone"), self.tomas)
        # the contact's own choice wins
        self.Consent._set_consent(self.pia, "email", True, "portal")
        self.assertEqual(everyone._crm_can_contact("email"), self.pia)

    def test_blacklist_and_missing_addresses_refuse(self):
        self.env["mail.blacklist"]._add("tomas@example.com")
        people = self.tomas | self.nobody | self.pia
        self.assertEqual(
            people._crm_contact_refusals("email"),
            {self.tomas: "blacklisted", self.nobody: "no_address"},
        )
        self.assertEqual(people._crm_can_contact("sms"), self.tomas)
        self.assertFalse(people._crm_can_contact("letter"))

    def test_the_phone_blacklist_refuses_calls_and_sms(self):
        if "phone.blacklist" not in self.env:
            self.skipTest("phone_validation is not installed")
        ines = self.env["res.partner"].create(
            {
                "name": "Inés",
                "email": "ines@example.com",
                "phone": "+56 9 8765 4321",
                "country_id": self.env.ref("base.cl").id,
            }
        )
        self.assertEqual(ines._crm_can_contact("phone"), ines)
        self.env["phone.blacklist"].sudo()._add([ines.phone_sanitized])
        ines.invalidate_recordset()
        self.assertEqual(ines._crm_contact_refusals("phone"), {ines: "blacklisted"})
        self.assertFalse(ines._crm_can_contact("sms"))
        self.assertEqual(ines._crm_can_contact("email"), ines)

    def test_a_refused_send_is_counted_only_for_a_send(self):
        self.Consent._set_consent(self.tomas, "email", False, "form")
        (self.tomas | self.pia)._crm_can_contact("email")
        self.assertFalse(self.Refusal.search([("partner_id", "=", self.tomas.id)]))
        allowed = (self.tomas | self.pia)._crm_can_contact("email", purpose="reminder")
        self.assertEqual(allowed, self.pia)
        refusal = self.Refusal.search([("partner_id", "=", self.tomas.id)])
        self.assertEqual(
            (refusal.channel, refusal.reason, refusal.purpose), ("email", "opted_out", "reminder")
        )

    def test_changing_a_choice_stamps_its_date_and_source(self):
        consent = self.Consent._set_consent(self.tomas, "sms", True, "form")
        consent.date = "2026-01-01 00:00:00"
        same = self.Consent._set_consent(self.tomas, "sms", False, "phone")
        self.assertEqual(same, consent)
        self.assertEqual((consent.opt_in, consent.source), (False, "phone"))
        self.assertGreater(str(consent.date), "2026-01-01 00:00:00")

    def test_a_salesperson_records_consent_from_the_form(self):
        salesman = new_test_user(
            self.env, login="consent_salesman", groups="sales_team.group_sale_salesman"
        )
        self.tomas.with_user(salesman).write(
            {"crm_consent_ids": [(0, 0, {"channel": "phone", "opt_in": False})]}
        )
        self.assertEqual(self.tomas.crm_consent_ids.source, "form")
        self.assertFalse(self.tomas._crm_can_contact("phone"))


@tagged("post_install", "-at_install")
class TestConsentPortal(HttpCase):
    """A portal customer changes their own consent from /my/consent, and nobody else's."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.env["res.partner"].create(
            {"name": "Cliente Portal Consentimiento", "email": "portal.consent@example.com"}
        )
        cls.portal_user = new_test_user(
            cls.env, login="consent_portal", groups="base.group_portal", partner_id=cls.customer.id
        )
        cls.other = cls.env["res.partner"].create(
            {"name": "Otro Cliente Consentimiento", "email": "otro@example.com"}
        )
        cls.env["crm.consent"]._set_consent(cls.other, "email", True, "form")

    def _csrf(self, page):
        return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)

    def test_a_portal_customer_opts_out_of_email_for_themselves_only(self):
        self.authenticate(self.portal_user.login, self.portal_user.login)
        self.assertIn('href="/my/consent"', self.url_open("/my/home").text)
        page = self.url_open("/my/consent")
        self.assertEqual(page.status_code, 200)
        self.assertIn("o_crm_consent_form", page.text)
        self.assertRegex(
            page.text, r'<li class="breadcrumb-item active">\s*Contact preferences\s*</li>'
        )
        self.assertNotIn("Otro Cliente", page.text)
        # e-mail unticked, phone ticked; a forged partner_id is ignored
        response = self.url_open(
            "/my/consent/update",
            data={
                "consent_phone": "1",
                "partner_id": self.other.id,
                "csrf_token": self._csrf(page),
            },
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("o_crm_consent_updated", response.text)
        Consent = self.env["crm.consent"]
        mine = Consent.search([("partner_id", "=", self.customer.id)])
        self.assertEqual(
            {(c.channel, c.opt_in, c.source) for c in mine},
            {
                ("email", False, "portal"),
                ("phone", True, "portal"),
                ("sms", False, "portal"),
                ("letter", False, "portal"),
            },
        )
        other = Consent.search([("partner_id", "=", self.other.id)])
        self.assertEqual((other.channel, other.opt_in, other.source), ("email", True, "form"))
        self.assertFalse(self.customer._crm_can_contact("email"))

    def test_a_post_without_csrf_token_changes_nothing(self):
        self.authenticate(self.portal_user.login, self.portal_user.login)
        with mute_logger("odoo.http"):
            response = self.url_open("/my/consent/update", data={"consent_email": "1"})
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self.env["crm.consent"].search([("partner_id", "=", self.customer.id)]))

    def test_an_anonymous_visitor_is_sent_to_the_login(self):
        response = self.url_open("/my/consent", allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))
        self.assertIn("/web/login", response.headers["Location"])
