"""DEMO DATA ONLY: two years of contacts with the customers of Tienda Andina: calls, e-mails,
visits, chats and web enquiries, inbound and outbound, with their outcomes; a few customers
who opted out of e-mail or calls; birthdays (one on 29 February, one today)."""

import random
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta

from odoo import api
from odoo import fields
from odoo import models

from .story import SEED

# (channel, direction, subject, outcome, minutes) of a typical contact of the store
CONTACTS = [
    ("phone", "inbound", "Consulta por despacho a domicilio", "resolved", 4),
    ("phone", "inbound", "Reclamo por garantía de la cocina", "complaint", 12),
    ("phone", "outbound", "Aviso de producto disponible", "sale", 6),
    ("phone", "outbound", "Seguimiento de cotización", "follow_up", 5),
    ("phone", "outbound", "Llamada de fidelización", "no_answer", 0),
    ("email", "inbound", "Solicitud de factura duplicada", "resolved", 0),
    ("email", "outbound", "Cotización de línea blanca", "follow_up", 0),
    ("visit", "inbound", "Visita a la tienda: asesoría en refrigeradores", "sale", 25),
    ("visit", "inbound", "Cambio de producto en tienda", "resolved", 15),
    ("chat", "inbound", "Consulta por la tarjeta de la tienda", "resolved", 8),
    ("web", "inbound", "Formulario web: consulta de stock", "follow_up", 0),
]
# customers keyed as in the story who asked not to be contacted on a channel
OPT_OUTS = {"catalina": ("email", "portal"), "ignacio": ("phone", "phone")}


class CrmRelationshipDemo(models.AbstractModel):
    _inherit = "crm.relationship.demo"

    @api.model
    def _create_contact_history(self, company_id):
        """Interactions over the 24 months of the story, consent choices and birthdays."""
        company = self.env["res.company"].browse(company_id)
        env = self._demo_env(company)
        today = fields.Date.context_today(self)
        rng = random.Random(SEED + 7)
        metrics = env["crm.customer.metric"].search(
            [("company_id", "=", company.id)], order="partner_id"
        )
        partners = metrics.partner_id
        users = env["res.users"].browse(
            [
                user.id
                for user in (env.ref("base.user_admin"), env.ref("base.user_demo", False))
                if user
            ]
        )
        vals_list = []
        for partner in partners:
            for _index in range(rng.randint(1, 6)):
                channel, direction, subject, outcome, minutes = rng.choice(CONTACTS)
                day = today - timedelta(days=rng.randint(1, 720))
                vals_list.append(
                    {
                        "partner_id": partner.id,
                        "company_id": company.id,
                        "channel": channel,
                        "direction": direction,
                        "subject": subject,
                        "outcome": outcome,
                        "duration": minutes,
                        "date": datetime.combine(day, time(rng.randint(9, 19), 30)),
                        "user_id": rng.choice(users).id,
                    }
                )
        env["crm.interaction"]._create_without_chatter_note(vals_list)
        for key, (channel, source) in OPT_OUTS.items():
            partner = env.ref(f"crm_relationship.res_partner_andina_{key}_demo", False)
            if partner:
                env["crm.consent"]._set_consent(partner, channel, False, source)
        # birthdays: a third of the customers, one born on 29 February, one today
        with_birthday = partners.filtered(lambda partner: partner.id % 3 == 0)
        for partner in with_birthday:
            partner.crm_birthday = date(1960 + partner.id % 40, 1, 1) + timedelta(
                days=rng.randint(0, 364)
            )
        if len(with_birthday) > 2:
            with_birthday[0].crm_birthday = date(1988, 2, 29)
            leap = today.month == 2 and today.day == 29
            with_birthday[1].crm_birthday = date(1976 if leap else 1975, today.month, today.day)
