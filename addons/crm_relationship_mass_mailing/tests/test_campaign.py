from odoo.exceptions import AccessError
from odoo.exceptions import ValidationError
from odoo.tests import new_test_user
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.mail.tests.common import MailCase

SENT_ON = "2026-03-02 09:00:00"


@tagged("post_install", "-at_install")
class TestCampaign(MailCase):
    """A mailing sent to a customer segment: its members at send time, consent applied and
    counted, sends and replies logged once as interactions, and the campaign's revenue."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        Partner = cls.env["res.partner"]
        cls.ana, cls.beto, cls.carla, cls.diego, cls.elena = Partner.create(
            [
                {"name": f"{name} Campaña Test", "email": f"{name.lower()}.campana@example.com"}
                for name in ("Ana", "Beto", "Carla", "Diego", "Elena")
            ]
        )
        cls.segment = cls.env["crm.customer.segment"].create(
            {"name": "En Riesgo Test", "domain": "[]", "company_id": cls.company.id}
        )
        cls.metrics = cls.env["crm.customer.metric"].create(
            [
                {"partner_id": partner.id, "company_id": cls.company.id}
                for partner in cls.ana | cls.beto | cls.carla | cls.diego | cls.elena
            ]
        )
        cls._set_members(cls.ana | cls.beto | cls.carla)
        # Beto opted out of e-mail, Carla is on Odoo's blacklist
        cls.env["crm.consent"]._set_consent(cls.beto, "email", False, "phone")
        cls.env["mail.blacklist"]._add(cls.carla.email)
        cls.marketer = new_test_user(
            cls.env,
            login="campaign_marketer",
            groups="base.group_user,mass_mailing.group_mass_mailing_user",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.salesman = new_test_user(
            cls.env,
            login="campaign_salesman",
            groups="base.group_user,sales_team.group_sale_salesman",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.partner_model = cls.env["ir.model"]._get("res.partner")

    @classmethod
    def _set_members(cls, partners):
        """Make `partners` the segment's members, and only them (as the classification does)."""
        changes = [
            (metric.id, cls.segment.id if metric.partner_id in partners else None)
            for metric in cls.metrics
        ]
        cls.env["crm.customer.segment"]._apply_segment_changes(changes, "rule")

    def _mailing(self, **values):
        return (
            self.env["mailing.mailing"]
            .with_user(self.marketer)
            .create(
                {
                    "subject": "Vuelve con un 20% de descuento",
                    "body_html": "<p>Te extrañamos</p>",
                    "mailing_model_id": self.partner_model.id,
                    "crm_segment_id": self.segment.id,
                    "reply_to_mode": "update",
                    **values,
                }
            )
        )

    def _send(self, mailing):
        """Send `mailing` as the marketing user, then let the mail queue deliver it."""
        with self.mock_mail_gateway():
            mailing.with_user(self.marketer).action_send_mail()
            self.env["mail.mail"].sudo().search([("mailing_id", "=", mailing.id)]).send()
        return mailing.mailing_trace_ids

    def _trace(self, mailing, partner):
        return mailing.mailing_trace_ids.filtered(lambda t: t.res_id == partner.id)

    def _interactions(self, partner):
        return self.env["crm.interaction"].search([("partner_id", "in", partner.ids)])

    def test_a_segment_mailing_reaches_exactly_its_consenting_members(self):
        mailing = self._mailing()
        self.assertEqual(mailing.crm_segment_recipient_count, 3)
        traces = self._send(mailing)
        self.assertEqual(set(traces.mapped("res_id")), {self.ana.id, self.beto.id, self.carla.id})
        self.assertEqual(self._trace(mailing, self.ana).trace_status, "sent")
        beto, carla = self._trace(mailing, self.beto), self._trace(mailing, self.carla)
        self.assertEqual((beto.trace_status, beto.failure_type), ("cancel", "mail_optout"))
        self.assertEqual((carla.trace_status, carla.failure_type), ("cancel", "mail_bl"))
        self.env.flush_all()
        mailing.invalidate_recordset()
        self.assertEqual((mailing.sent, mailing.canceled), (1, 2))
        refusals = self.env["crm.contact.refusal"].search(
            [("partner_id", "in", (self.beto | self.carla).ids)]
        )
        self.assertEqual(
            {(r.partner_id, r.reason, r.purpose, r.channel) for r in refusals},
            {
                (self.beto, "opted_out", "campaign", "email"),
                (self.carla, "blacklisted", "campaign", "email"),
            },
        )
        # nobody refused is logged as contacted
        self.assertFalse(self._interactions(self.beto | self.carla))

    def test_the_segment_is_read_when_the_mailing_is_sent(self):
        mailing = self._mailing()
        self.assertEqual(mailing.crm_segment_recipient_count, 3)
        # the classification moves Ana out and Diego in before the send
        self._set_members(self.diego | self.beto | self.carla)
        traces = self._send(mailing)
        self.assertEqual(set(traces.mapped("res_id")), {self.diego.id, self.beto.id, self.carla.id})
        self.assertEqual(self._trace(mailing, self.diego).trace_status, "sent")

    def test_the_mailing_filter_narrows_the_segment(self):
        mailing = self._mailing(mailing_domain=repr([("id", "!=", self.carla.id)]))
        traces = self._send(mailing)
        self.assertEqual(set(traces.mapped("res_id")), {self.ana.id, self.beto.id})

    def test_a_segment_mailing_is_sent_to_contacts_only(self):
        with self.assertRaises(ValidationError):
            self._mailing(mailing_model_id=self.env["ir.model"]._get("mailing.list").id)

    def test_a_marketing_user_cannot_target_another_companys_segment(self):
        other = self.env["res.company"].create({"name": "Tienda Sur Test"})
        foreign = self.env["crm.customer.segment"].create(
            {"name": "En Riesgo Sur Test", "domain": "[]", "company_id": other.id}
        )
        with self.assertRaises(AccessError):
            self._mailing(crm_segment_id=foreign.id)
        mailing = self._mailing()
        with self.assertRaises(AccessError):
            mailing.with_user(self.marketer).crm_segment_id = foreign

    def test_a_salesperson_cannot_send_a_campaign(self):
        with self.assertRaises(AccessError):
            self.env["mailing.mailing"].with_user(self.salesman).create(
                {"subject": "Oferta", "mailing_model_id": self.partner_model.id}
            )
        mailing = self._mailing()
        with self.assertRaises(AccessError):
            mailing.with_user(self.salesman).action_send_mail()
        self.assertFalse(mailing.mailing_trace_ids)

    def test_a_send_and_a_reply_are_logged_once(self):
        mailing = self._mailing()
        self._send(mailing)
        trace = self._trace(mailing, self.ana)
        sent = self._interactions(self.ana)
        self.assertEqual(len(sent), 1)
        self.assertRecordValues(
            sent,
            [
                {
                    "channel": "email",
                    "direction": "outbound",
                    "origin": "campaign",
                    "mailing_trace_id": trace.id,
                    "mailing_id": mailing.id,
                    "company_id": self.company.id,
                    "subject": mailing.subject,
                }
            ],
        )
        # logged again (a second delivery report), opened, clicked: the same one, updated
        self.env["crm.interaction"]._log_campaign_sends(trace)
        trace.set_opened()
        trace.set_clicked()
        self.assertEqual(self._interactions(self.ana), sent)
        self.assertTrue(sent.mailing_opened_on)
        self.assertTrue(sent.mailing_clicked_on)
        # Ana answers through the mail gateway: her message lands in her chatter
        self._reply(self.ana, trace, "<respuesta-ana-1@example.com>")
        self.assertEqual(trace.trace_status, "reply")
        replies = self._interactions(self.ana) - sent
        self.assertEqual(len(replies), 1)
        self.assertRecordValues(
            replies,
            # the interaction logged for the message posted in her chatter, given the trace
            [
                {
                    "channel": "email",
                    "direction": "inbound",
                    "origin": "message",
                    "mailing_trace_id": trace.id,
                }
            ],
        )
        self.assertEqual(replies.mail_message_id.message_id, "<respuesta-ana-1@example.com>")
        self.assertFalse(replies.mailing_opened_on)
        # the same reply processed again logs nothing more
        self.env["crm.interaction"]._log_campaign_replies(trace, "<respuesta-ana-1@example.com>")
        self.assertEqual(len(self._interactions(self.ana)), 2)

    def _reply(self, partner, trace, message_id):
        raw = (
            f"Return-Path: <{partner.email}>\n"
            f"From: {partner.name} <{partner.email}>\n"
            "To: catchall@example.com\n"
            "Subject: Re: Vuelve con un 20% de descuento\n"
            f"Message-ID: {message_id}\n"
            f"In-Reply-To: {trace.message_id}\n"
            f"References: {trace.message_id}\n"
            "Content-Type: text/plain; charset=utf-8\n"
            "\n"
            "Me interesa la oferta.\n"
        )
        with mute_logger("odoo.addons.mail.models.mail_thread"):
            self.env["mail.thread"].sudo().message_process(False, raw)

    def test_the_revenue_counts_the_recipients_orders_within_the_window(self):
        mailing = self._mailing()
        self._send(mailing)
        mailing.mailing_trace_ids.filtered(
            lambda t: t.trace_status == "sent"
        ).sent_datetime = SENT_ON
        product = self.env["product.product"].create(
            {"name": "Cocina a gas Test", "list_price": 100.0, "taxes_id": [(6, 0, [])]}
        )

        def order(partner, price, date, confirm=True):
            so = self.env["sale.order"].create(
                {
                    "partner_id": partner.id,
                    "company_id": self.company.id,
                    "order_line": [
                        (0, 0, {"product_id": product.id, "price_unit": price, "tax_ids": []})
                    ],
                }
            )
            if confirm:
                so.action_confirm()
            so.date_order = date
            return so

        order(self.ana, 1000.0, "2026-03-05 10:00:00")  # 3 days after: counts
        order(self.ana, 500.0, "2026-03-31 10:00:00")  # 29 days after: counts
        order(self.ana, 700.0, "2026-04-12 10:00:00")  # 41 days after: outside 30 days
        order(self.ana, 300.0, "2026-03-01 10:00:00")  # before the send
        order(self.ana, 900.0, "2026-03-06 10:00:00", confirm=False)  # a quotation
        order(self.beto, 400.0, "2026-03-05 10:00:00")  # excluded: never received it
        order(self.elena, 800.0, "2026-03-05 10:00:00")  # not a recipient
        mailing.invalidate_recordset()
        self.assertEqual(mailing.crm_revenue, 1500.0)
        self.assertEqual(mailing.crm_revenue_order_count, 2)
        self.assertEqual(mailing.crm_revenue_currency_id, self.company.currency_id)
        mailing.crm_revenue_days = 45
        self.assertEqual(mailing.crm_revenue, 2200.0)
        self.assertEqual(mailing.with_user(self.marketer).crm_revenue, 2200.0)
