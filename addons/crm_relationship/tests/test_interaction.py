from odoo.exceptions import AccessError
from odoo.exceptions import ValidationError
from odoo.tests import Form
from odoo.tests import HttpCase
from odoo.tests import TransactionCase
from odoo.tests import new_test_user
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import form_read_spec
from .common import partner_form_fields

INBOUND_EMAIL = """Return-Path: <camila.rojas@example.com>
From: Camila Rojas <camila.rojas@example.com>
To: ventas@example.com
Subject: {subject}
Message-ID: <{message_id}@example.com>
Date: Tue, 01 Dec 2026 10:00:00 +0000
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hola, quisiera saber el cupo de mi tarjeta.
"""


@tagged("post_install", "-at_install")
class TestInteraction(TransactionCase):
    """Interactions logged by a salesperson, from a done activity and from the chatter's
    e-mails; their refusals and who may change them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.customer = cls.env["res.partner"].create(
            {"name": "Comercial Andes Test", "is_company": True, "email": "andes@example.com"}
        )
        cls.contact = cls.env["res.partner"].create(
            {
                "name": "Camila Rojas",
                "parent_id": cls.customer.id,
                "email": "camila.rojas@example.com",
            }
        )
        cls.salesman = new_test_user(
            cls.env,
            login="interaction_salesman",
            groups="sales_team.group_sale_salesman",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.other_salesman = new_test_user(
            cls.env,
            login="interaction_salesman_2",
            groups="sales_team.group_sale_salesman",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.manager = new_test_user(
            cls.env,
            login="interaction_manager",
            groups="sales_team.group_sale_manager",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.Interaction = cls.env["crm.interaction"]

    def _chatter_bodies(self, partner):
        return partner.message_ids.mapped("body")

    # ------------------------------------------------------------------ by hand
    def test_a_salesperson_logs_a_call_from_the_customer_form(self):
        action = self.contact.with_user(self.salesman).action_crm_log_interaction()
        self.assertEqual(action["res_model"], "crm.interaction")
        Interaction = self.Interaction.with_user(self.salesman).with_context(**action["context"])
        with Form(Interaction, view="crm_relationship.crm_interaction_view_form_quick") as form:
            form.subject = "Pregunta por el cupo"
            form.duration = 7
            form.outcome = "resolved"
        call = form.record
        self.assertEqual(call.partner_id, self.customer)
        self.assertEqual(call.contact_id, self.contact)
        self.assertEqual((call.channel, call.direction), ("phone", "outbound"))
        self.assertEqual(call.user_id, self.salesman)
        self.assertEqual(call.company_id, self.company)
        self.assertEqual(call.origin, "manual")
        # one line in the customer's chatter
        self.assertTrue(
            any("Pregunta por el cupo" in body for body in self._chatter_bodies(self.customer))
        )
        self.assertEqual(self.contact.with_user(self.salesman).crm_interaction_count, 1)
        self.assertEqual(self.customer.with_user(self.salesman).crm_interaction_count, 1)

    def test_no_context_key_drops_the_chatter_note(self):
        # the key the suite once read: a client sending it still leaves the note
        Interaction = self.Interaction.with_user(self.salesman).with_context(
            crm_interaction_no_chatter=True
        )
        Interaction.create({"partner_id": self.customer.id, "subject": "Llamada con clave"})
        self.assertTrue(
            any("Llamada con clave" in body for body in self._chatter_bodies(self.customer))
        )
        self.Interaction._create_without_chatter_note(
            [{"partner_id": self.customer.id, "subject": "Carga masiva"}]
        )
        self.assertFalse(
            any("Carga masiva" in body for body in self._chatter_bodies(self.customer))
        )

    def test_a_contact_given_as_customer_becomes_the_contact_person(self):
        interaction = self.Interaction.create({"partner_id": self.contact.id, "channel": "visit"})
        self.assertEqual(interaction.partner_id, self.customer)
        self.assertEqual(interaction.contact_id, self.contact)

    def test_an_interaction_without_customer_is_refused(self):
        before = self.Interaction.search_count([])
        with self.assertRaisesRegex(ValidationError, "needs a customer"):
            self.Interaction.with_user(self.salesman).create({"channel": "phone"})
        with self.assertRaisesRegex(ValidationError, "needs a customer"):
            self.Interaction.with_user(self.salesman).create(
                {"channel": "phone", "partner_id": False}
            )
        interaction = self.Interaction.create({"partner_id": self.customer.id})
        with self.assertRaisesRegex(ValidationError, "needs a customer"):
            interaction.write({"partner_id": False})
        self.assertEqual(self.Interaction.search_count([]), before + 1)

    def test_a_negative_duration_is_refused(self):
        before = self.Interaction.search_count([])
        with self.assertRaisesRegex(ValidationError, "cannot be negative"):
            self.Interaction.with_user(self.salesman).create(
                {"partner_id": self.customer.id, "duration": -5}
            )
        self.assertEqual(self.Interaction.search_count([]), before)
        call = self.Interaction.with_user(self.salesman).create(
            {"partner_id": self.customer.id, "duration": 3}
        )
        with self.assertRaisesRegex(ValidationError, "cannot be negative"):
            call.with_user(self.salesman).write({"duration": -1})
        self.assertEqual(call.duration, 3)

    def test_a_contact_of_another_customer_is_refused(self):
        other = self.env["res.partner"].create({"name": "Otra SpA", "is_company": True})
        with self.assertRaisesRegex(ValidationError, "is not a contact of"):
            self.Interaction.create({"partner_id": other.id, "contact_id": self.contact.id})

    def test_salespeople_change_their_own_interactions_managers_all(self):
        mine = self.Interaction.with_user(self.salesman).create({"partner_id": self.customer.id})
        theirs = self.Interaction.with_user(self.other_salesman).create(
            {"partner_id": self.customer.id}
        )
        # everyone reads both
        self.assertEqual(
            self.Interaction.with_user(self.salesman).search(
                [("partner_id", "=", self.customer.id)]
            ),
            mine | theirs,
        )
        mine.with_user(self.salesman).outcome = "follow_up"
        with self.assertRaises(AccessError):
            theirs.with_user(self.salesman).outcome = "complaint"
        with self.assertRaises(AccessError):
            mine.with_user(self.salesman).unlink()
        theirs.with_user(self.manager).outcome = "complaint"
        self.assertEqual(theirs.outcome, "complaint")
        theirs.with_user(self.manager).unlink()

    def test_another_company_s_interactions_are_not_read(self):
        other_company = self.env["res.company"].create({"name": "Tienda Sur Test"})
        self.Interaction.create({"partner_id": self.customer.id, "company_id": other_company.id})
        self.assertFalse(
            self.Interaction.with_user(self.salesman).search(
                [("partner_id", "=", self.customer.id)]
            )
        )
        self.assertEqual(self.customer.with_user(self.salesman).crm_interaction_count, 0)

    def test_a_portal_user_cannot_log_interactions(self):
        portal = new_test_user(self.env, login="interaction_portal", groups="base.group_portal")
        with self.assertRaises(AccessError):
            self.Interaction.with_user(portal).create({"partner_id": portal.partner_id.id})
        with self.assertRaises(AccessError):
            self.customer.with_user(portal).action_crm_log_interaction()

    # ------------------------------------------------------------------ activities
    def _activity(self, record, xmlid, summary):
        return self.env["mail.activity"].create(
            {
                "res_model_id": self.env["ir.model"]._get_id(record._name),
                "res_id": record.id,
                "activity_type_id": self.env.ref(xmlid).id,
                "summary": summary,
                "user_id": self.salesman.id,
            }
        )

    def test_a_done_call_activity_becomes_a_phone_interaction(self):
        lead = self.env["crm.lead"].create(
            {"name": "Cocinas", "partner_id": self.contact.id, "user_id": self.salesman.id}
        )
        activity = self._activity(lead, "mail.mail_activity_data_call", "Llamar por cocinas")
        activity.with_user(self.salesman).action_feedback(feedback="Quiere la roja")
        call = self.Interaction.search([("lead_id", "=", lead.id)])
        self.assertEqual(len(call), 1)
        self.assertEqual(
            (call.channel, call.direction, call.origin), ("phone", "outbound", "activity")
        )
        self.assertEqual((call.partner_id, call.contact_id), (self.customer, self.contact))
        self.assertEqual(call.subject, "Llamar por cocinas")
        self.assertIn("Quiere la roja", call.note)
        self.assertEqual(call.user_id, self.salesman)

    def test_a_done_to_do_is_no_interaction(self):
        activity = self._activity(self.customer, "mail.mail_activity_data_todo", "Revisar ficha")
        activity.with_user(self.salesman).action_feedback(feedback="ok")
        self.assertFalse(self.Interaction.search([("partner_id", "=", self.customer.id)]))

    # ------------------------------------------------------------------ e-mails
    def test_an_email_received_on_a_lead_is_logged_once_as_inbound(self):
        lead = self.env["crm.lead"].create(
            {"name": "Tarjeta", "partner_id": self.contact.id, "user_id": self.salesman.id}
        )
        raw = INBOUND_EMAIL.format(subject="Cupo de la tarjeta", message_id="cupo-1")
        with mute_logger("odoo.addons.mail.models.mail_thread"):
            self.env["mail.thread"].message_process("crm.lead", raw, thread_id=lead.id)
            # the same e-mail fetched twice is dropped by the gateway, and logged once
            self.env["mail.thread"].message_process("crm.lead", raw, thread_id=lead.id)
        logged = self.Interaction.search([("partner_id", "=", self.customer.id)])
        self.assertEqual(len(logged), 1)
        self.assertEqual((logged.channel, logged.direction), ("email", "inbound"))
        self.assertEqual(logged.contact_id, self.contact)
        self.assertEqual(logged.lead_id, lead)
        self.assertEqual(logged.subject, "Cupo de la tarjeta")
        self.assertEqual(logged.mail_message_id.message_type, "email")
        # the log of a message is unique even when asked again
        self.assertFalse(self.Interaction._log_message(lead, logged.mail_message_id))
        self.assertEqual(self.Interaction.search_count([("partner_id", "=", self.customer.id)]), 1)

    def test_an_email_sent_from_the_chatter_is_logged_once_as_outbound(self):
        order = (
            self.env["sale.order"].with_user(self.salesman).create({"partner_id": self.contact.id})
        )
        order.with_user(self.salesman).message_post(
            body="Adjunto la cotización",
            subject="Su cotización",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            partner_ids=self.contact.ids,
        )
        logged = self.Interaction.search([("partner_id", "=", self.customer.id)])
        self.assertEqual(len(logged), 1)
        self.assertEqual((logged.channel, logged.direction), ("email", "outbound"))
        self.assertEqual(logged.order_id, order)
        self.assertEqual(logged.user_id, self.salesman)
        self.assertEqual(logged.contact_id, self.contact)

    def test_a_forged_context_key_does_not_keep_an_email_out_of_the_log(self):
        order = (
            self.env["sale.order"].with_user(self.salesman).create({"partner_id": self.contact.id})
        )
        order.with_user(self.salesman).with_context(crm_interaction_no_log=True).message_post(
            body="Sin registro, pidió el cliente RPC",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            partner_ids=self.contact.ids,
        )
        logged = self.Interaction.search([("order_id", "=", order.id)])
        self.assertEqual(len(logged), 1)

    def test_a_quotation_sent_by_email_through_the_composer_is_logged_once(self):
        order = (
            self.env["sale.order"].with_user(self.salesman).create({"partner_id": self.customer.id})
        )
        composer = (
            self.env["mail.compose.message"]
            .with_user(self.salesman)
            .with_context(
                default_model="sale.order",
                default_res_ids=order.ids,
                default_composition_mode="comment",
            )
            .create(
                {
                    "subject": "Cotización S0001",
                    "body": "<p>Adjuntamos su cotización.</p>",
                    "partner_ids": [(6, 0, self.customer.ids)],
                }
            )
        )
        composer._action_send_mail()
        logged = self.Interaction.search([("order_id", "=", order.id)])
        self.assertEqual(len(logged), 1)
        self.assertEqual((logged.channel, logged.direction), ("email", "outbound"))
        self.assertEqual(logged.subject, "Cotización S0001")
        self.assertFalse(logged.contact_id)

    def test_an_email_received_on_the_customer_itself_is_logged(self):
        raw = INBOUND_EMAIL.format(subject="Reclamo despacho", message_id="reclamo-1")
        with mute_logger("odoo.addons.mail.models.mail_thread"):
            self.env["mail.thread"].message_process("res.partner", raw, thread_id=self.customer.id)
        logged = self.Interaction.search([("partner_id", "=", self.customer.id)])
        self.assertEqual(len(logged), 1)
        self.assertEqual((logged.direction, logged.contact_id), ("inbound", self.contact))

    def test_notes_and_messages_reaching_nobody_of_the_customer_are_not_logged(self):
        self.customer.message_post(body="Nota interna", subtype_xmlid="mail.mt_note")
        lead = self.env["crm.lead"].create({"name": "Sin cliente", "user_id": self.salesman.id})
        lead.message_post(body="Hola", message_type="comment", subtype_xmlid="mail.mt_comment")
        self.assertFalse(self.Interaction.search([("partner_id", "=", self.customer.id)]))
        self.assertFalse(self.Interaction.search([("lead_id", "=", lead.id)]))

    # ------------------------------------------------------------------ 360 page
    def test_the_360_page_lists_the_last_interactions_and_the_preferred_channel(self):
        for day in range(1, 13):
            self.Interaction._create_without_chatter_note(
                {
                    "partner_id": self.customer.id,
                    "channel": "email" if day % 3 else "phone",
                    "date": f"2026-11-{day:02d} 10:00:00",
                    "subject": f"Contacto {day}",
                }
            )
        crm_user = new_test_user(
            self.env,
            login="interaction_crm_user",
            groups="base.group_user,crm_relationship.group_user",
        )
        customer = self.customer.with_user(crm_user)
        last = customer.crm_last_interaction_ids
        self.assertEqual(len(last), 10)
        self.assertEqual(last[0].subject, "Contacto 12")
        self.assertEqual(customer.crm_preferred_channel, "email")  # 8 e-mails, 4 calls
        self.assertEqual(self.contact.with_user(crm_user).crm_preferred_channel, "email")


@tagged("post_install", "-at_install")
class TestInteractionTour(HttpCase):
    """The salesperson's two clicks in the browser."""

    def test_a_salesperson_logs_a_call_from_the_customer_form(self):
        salesman = new_test_user(
            self.env, login="interaction_tour_salesman", groups="sales_team.group_sale_salesman"
        )
        customer = self.env["res.partner"].create(
            {"name": "Ferretería Tour SpA", "is_company": True}
        )
        self.start_tour(
            f"/odoo/res.partner/{customer.id}", "crm_interaction_log_tour", login=salesman.login
        )
        call = self.env["crm.interaction"].search([("partner_id", "=", customer.id)])
        self.assertEqual(len(call), 1)
        self.assertEqual(
            (call.subject, call.duration, call.channel), ("Consulta por despacho", 6, "phone")
        )
        self.assertEqual(call.user_id, salesman)

    def test_calling_the_phone_number_opens_the_call_log(self):
        salesman = new_test_user(
            self.env, login="interaction_phone_salesman", groups="sales_team.group_sale_salesman"
        )
        customer = self.env["res.partner"].create(
            {"name": "Ferretería Llamada SpA", "is_company": True, "phone": "+56 2 2345 6789"}
        )
        self.start_tour(
            f"/odoo/res.partner/{customer.id}", "crm_interaction_phone_tour", login=salesman.login
        )
        call = self.env["crm.interaction"].search([("partner_id", "=", customer.id)])
        self.assertEqual(
            (call.subject, call.channel, call.direction, call.user_id),
            ("Cotización de pinturas", "phone", "outbound", salesman),
        )


@tagged("post_install", "-at_install")
class TestWebFormLeads(TransactionCase):
    """A lead from the website's contact form (medium Website) is an inbound web contact,
    logged once when it has a customer."""

    def test_a_website_lead_is_logged_once_when_it_has_a_customer(self):
        website = self.env.ref("utm.utm_medium_website")
        customer = self.env["res.partner"].create(
            {"name": "Constructora Web SpA", "is_company": True}
        )
        salesman = new_test_user(
            self.env, login="web_lead_salesman", groups="sales_team.group_sale_salesman"
        )
        Lead = self.env["crm.lead"].with_user(salesman)
        with_customer = Lead.create(
            {"name": "Cotización desde la web", "medium_id": website.id, "partner_id": customer.id}
        )
        anonymous = Lead.create(
            {"name": "Consulta sin cliente", "medium_id": website.id, "email_from": "x@example.com"}
        )
        by_phone = Lead.create({"name": "Llamada", "partner_id": customer.id})
        Interaction = self.env["crm.interaction"]
        logged = Interaction.search([("origin", "=", "web_form")])
        self.assertEqual(logged.lead_id, with_customer)
        self.assertEqual((logged.channel, logged.direction), ("web", "inbound"))
        self.assertEqual(logged.partner_id, customer)
        # the salesperson links the anonymous lead to the customer: logged then, once
        anonymous.partner_id = customer
        anonymous.partner_id = customer
        with_customer.medium_id = website
        logged = Interaction.search([("origin", "=", "web_form")])
        self.assertEqual(logged.lead_id, with_customer | anonymous)
        self.assertFalse(Interaction.search([("lead_id", "=", by_phone.id)]))


@tagged("post_install", "-at_install")
class TestInteraction360Queries(TransactionCase):
    """The customer form with its 360° page, as a CRM user: the same number of queries (under
    60) for a customer with 10,000 interactions as for one with a single interaction."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.big = Partner.create({"name": "Gran Tienda Test", "is_company": True})
        cls.small = Partner.create({"name": "Pequeña Tienda Test", "is_company": True})
        channels = ("phone", "email", "visit", "web")
        cls.env["crm.interaction"]._create_without_chatter_note(
            [
                {
                    "partner_id": cls.big.id,
                    "channel": channels[n % 4],
                    "date": f"2026-{1 + n % 11:02d}-{1 + n % 28:02d} 10:00:00",
                    "subject": f"Contacto {n}",
                }
                for n in range(10_000)
            ]
            + [{"partner_id": cls.small.id, "channel": "phone", "subject": "Único"}]
        )
        cls.crm_user = new_test_user(
            cls.env,
            login="interaction_360_user",
            groups="base.group_user,crm_relationship.group_user,sales_team.group_sale_salesman",
        )

    def _read_form(self, partner):
        Partner = self.env["res.partner"].with_user(self.crm_user)
        spec = form_read_spec(partner_form_fields(Partner))
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        data = partner.with_user(self.crm_user).web_read(spec)[0]
        return data, self.env.cr.sql_log_count - before

    def test_a_customer_with_10000_interactions_loads_in_under_60_queries(self):
        self._read_form(self.big)  # warm the registry-level caches
        self._read_form(self.small)
        small, small_queries = self._read_form(self.small)
        big, big_queries = self._read_form(self.big)
        self.assertEqual(big["crm_interaction_count"], 10_000)
        self.assertEqual(len(big["crm_last_interaction_ids"]), 10)
        self.assertEqual(small["crm_interaction_count"], 1)
        self.assertEqual(big_queries, small_queries)
        self.assertLess(big_queries, 60)
