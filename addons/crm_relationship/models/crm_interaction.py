import weakref

from markupsafe import Markup

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import ValidationError

CHANNELS = [
    ("phone", "Phone"),
    ("email", "E-mail"),
    ("web", "Web"),
    ("chat", "Chat"),
    ("visit", "Visit"),
    ("letter", "Letter"),
    ("sms", "SMS"),
    ("other", "Other"),
]
DIRECTIONS = [("inbound", "Inbound"), ("outbound", "Outbound")]
# Cursors on which server code creates interactions without a note in the customer's chatter
# (the demo, the campaign bridge, bulk test data): set by _create_without_chatter_note, never
# by a context key, which any browser or JSON-RPC caller could send.
_WITHOUT_CHATTER_NOTE = weakref.WeakKeyDictionary()
OUTCOMES = [
    ("resolved", "Resolved"),
    ("follow_up", "Follow-up"),
    ("complaint", "Complaint"),
    ("sale", "Sale"),
    ("no_answer", "No Answer"),
]
# Documents whose chatter messages become interactions, and the link field of each.
LOGGED_MODELS = {
    "res.partner": False,
    "crm.lead": "lead_id",
    "sale.order": "order_id",
    "account.move": "invoice_id",
}


class CrmInteraction(models.Model):
    """One contact with a customer, inbound ("the customer asked") or outbound ("we reached
    out"), on any channel.

    `partner_id` is always the commercial partner (the customer); the person spoken to is
    `contact_id`. An interaction made from a chatter message keeps the message in
    `mail_message_id`, unique: a message is logged once, whichever path sees it.
    """

    _name = "crm.interaction"
    _description = "Customer Interaction"
    _order = "date desc, id desc"
    _check_company_auto = True
    _rec_name = "subject"

    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        ondelete="restrict",
        help="The customer (commercial partner) contacted.",
    )
    contact_id = fields.Many2one(
        "res.partner",
        string="Contact Person",
        ondelete="set null",
        domain="[('commercial_partner_id', '=', partner_id)]",
    )
    channel = fields.Selection(CHANNELS, required=True, default="phone")
    direction = fields.Selection(
        DIRECTIONS,
        required=True,
        default="outbound",
        help="Inbound: the customer contacted us. Outbound: we contacted the customer.",
    )
    date = fields.Datetime(required=True, default=fields.Datetime.now, index=True)
    duration = fields.Integer(string="Duration (minutes)")
    subject = fields.Char()
    outcome = fields.Selection(OUTCOMES)
    user_id = fields.Many2one(
        "res.users", string="Responsible", default=lambda self: self.env.user, index=True
    )
    lead_id = fields.Many2one(
        "crm.lead", string="Opportunity", check_company=True, index="btree_not_null"
    )
    order_id = fields.Many2one(
        "sale.order", string="Sales Order", check_company=True, index="btree_not_null"
    )
    invoice_id = fields.Many2one(
        "account.move",
        string="Invoice",
        check_company=True,
        index="btree_not_null",
        domain="[('move_type', 'in', ('out_invoice', 'out_refund'))]",
    )
    note = fields.Html(string="Notes")
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    origin = fields.Selection(
        [
            ("manual", "Logged by Hand"),
            ("activity", "Activity Done"),
            ("message", "Chatter Message"),
            ("birthday", "Birthday Greeting"),
            ("web_form", "Website Form"),
        ],
        required=True,
        default="manual",
        readonly=True,
    )
    mail_message_id = fields.Many2one(
        "mail.message", string="Message", readonly=True, ondelete="set null", copy=False
    )

    _duration_positive = models.Constraint(
        "CHECK (duration >= 0)", "The duration of an interaction cannot be negative."
    )
    _mail_message_uniq = models.UniqueIndex(
        "(mail_message_id) WHERE mail_message_id IS NOT NULL",
        "This message is already logged as an interaction.",
    )
    _partner_date_idx = models.Index("(partner_id, date DESC, id DESC)")

    @api.depends("subject", "channel", "direction")
    def _compute_display_name(self):
        channels = dict(self._fields["channel"]._description_selection(self.env))
        directions = dict(self._fields["direction"]._description_selection(self.env))
        for interaction in self:
            interaction.display_name = interaction.subject or self.env._(
                "%(channel)s (%(direction)s)",
                channel=channels.get(interaction.channel, ""),
                direction=directions.get(interaction.direction, ""),
            )

    @api.constrains("partner_id", "contact_id")
    def _check_contact(self):
        for interaction in self:
            contact = interaction.contact_id
            if contact and contact.commercial_partner_id != interaction.partner_id:
                raise ValidationError(
                    self.env._(
                        "%(contact)s is not a contact of %(customer)s.",
                        contact=contact.display_name,
                        customer=interaction.partner_id.display_name,
                    )
                )

    # ------------------------------------------------------------------ CRUD
    @api.model
    def _check_vals(self, vals):
        """A clear error before the database's check refuses a negative duration."""
        if (vals.get("duration") or 0) < 0:
            raise ValidationError(self.env._("The duration of an interaction cannot be negative."))

    @api.model
    def _normalize_customer(self, vals):
        """Make `partner_id` the commercial partner: a contact given as the customer becomes
        the contact person, and (on creation) a contact person alone names its customer."""
        Partner = self.env["res.partner"]
        partner = Partner.browse(vals.get("partner_id") or [])
        contact = Partner.browse(vals.get("contact_id") or [])
        if not partner and contact and "partner_id" not in vals:
            partner = contact.commercial_partner_id
        elif partner and partner != partner.commercial_partner_id:
            if not contact:
                vals["contact_id"] = partner.id
            partner = partner.commercial_partner_id
        if partner:
            vals["partner_id"] = partner.id
        return vals

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if not vals.get("partner_id") and not vals.get("contact_id"):
                raise ValidationError(self.env._("An interaction needs a customer."))
            self._check_vals(vals)
            if not vals.get("partner_id"):
                vals.pop("partner_id", None)
            self._normalize_customer(vals)
        interactions = super().create(vals_list)
        if not self.env.su:
            # salespeople log interactions of customers they can read, and no other
            (interactions.partner_id | interactions.contact_id).check_access("read")
        interactions.filtered(lambda i: i.origin != "message")._post_in_customer_chatter()
        return interactions

    def write(self, vals):
        self._check_vals(vals)
        if "partner_id" in vals or "contact_id" in vals:
            if "partner_id" in vals and not vals["partner_id"]:
                raise ValidationError(self.env._("An interaction needs a customer."))
            self._normalize_customer(vals)
        result = super().write(vals)
        if not self.env.su and ("partner_id" in vals or "contact_id" in vals):
            (self.partner_id | self.contact_id).check_access("read")
        return result

    @api.model
    def _create_without_chatter_note(self, vals_list):
        """Create interactions, with the same checks as ``create``, but no note in the
        customers' chatter: for server code logging in bulk (the demo, campaign sends and
        replies, which the mailing itself already shows)."""
        cr = self.env.cr
        _WITHOUT_CHATTER_NOTE[cr] = _WITHOUT_CHATTER_NOTE.get(cr, 0) + 1
        try:
            return self.create(vals_list)
        finally:
            _WITHOUT_CHATTER_NOTE[cr] -= 1

    def _post_in_customer_chatter(self):
        """A line in each customer's chatter saying what was logged (not for the interactions
        created through _create_without_chatter_note)."""
        if _WITHOUT_CHATTER_NOTE.get(self.env.cr):
            return
        channels = dict(self._fields["channel"]._description_selection(self.env))
        directions = dict(self._fields["direction"]._description_selection(self.env))
        outcomes = dict(self._fields["outcome"]._description_selection(self.env))
        for interaction in self:
            body = Markup("%s") % self.env._(
                "%(direction)s %(channel)s logged: %(subject)s",
                direction=directions[interaction.direction],
                channel=channels[interaction.channel].lower(),
                subject=interaction.subject or "-",
            )
            if interaction.outcome:
                body += Markup(" (%s)") % outcomes[interaction.outcome]
            # sudo: the user can read this customer (checked in create), and logging a note
            # on a customer's chatter must not need the right to edit the customer.
            interaction.partner_id.sudo()._message_log(
                body=body, author_id=self.env.user.partner_id.id
            )

    # ------------------------------------------------------------------ logging engines
    @api.model
    def _document_values(self, record):
        """Customer and link of a document whose chatter is logged: {} when the document has
        no customer (a lead without a partner, a vendor bill)."""
        link = LOGGED_MODELS.get(record._name)
        if record._name == "res.partner":
            partner = record
        elif record._name == "account.move" and not record.is_sale_document(include_receipts=True):
            return {}
        else:
            partner = record.partner_id
        if not partner:
            return {}
        values = {"partner_id": partner.commercial_partner_id.id}
        if partner != partner.commercial_partner_id:
            values["contact_id"] = partner.id
        if link:
            values[link] = record.id
        if "company_id" in record._fields and record.company_id:
            values["company_id"] = record.company_id.id
        return values

    @api.model
    def _log_message(self, record, message):
        """An e-mail received or sent on `record` (a customer, lead, order or invoice), or a
        portal comment of the customer, becomes an interaction, once per message.

        Inbound when the author is not an internal user; outbound when an internal user sent
        a non-internal message that reaches someone of the customer (a recipient or a
        follower). Notes, notifications and internal messages are not contacts.
        """
        if message.message_type not in ("email", "comment", "email_outgoing"):
            return self.browse()
        # sudo: reading the message, its author's users and the document's followers only to
        # classify a message this user or the mail gateway has just posted.
        message, record = message.sudo(), record.sudo()
        if message.is_internal or message.subtype_id.internal:
            return self.browse()
        values = self._document_values(record)
        if not values:
            return self.browse()
        customer = self.env["res.partner"].browse(values["partner_id"])
        author = message.author_id
        internal_author = bool(author.user_ids.filtered(lambda u: not u.share))
        if internal_author:
            recipients = message.partner_ids | record.message_partner_ids
            reached = recipients.filtered(lambda p: p.commercial_partner_id == customer)
            if not reached and message.message_type != "email":
                return self.browse()
            direction = "outbound"
            contact = (reached - customer)[:1]
        else:
            direction = "inbound"
            contact = (
                author if author.commercial_partner_id == customer and author != customer else False
            )
        if contact:
            values["contact_id"] = contact.id
        channel = "web" if message.message_type == "comment" and not internal_author else "email"
        # sudo: the message was just posted on the document by this user or the mail gateway
        # (message_post checked their access); the interaction only mirrors it, and portal
        # users and the gateway have no right to create interactions themselves.
        Interaction = self.sudo()
        if Interaction.search_count([("mail_message_id", "=", message.id)], limit=1):
            return self.browse()
        return Interaction.create(
            {
                **values,
                "channel": channel,
                "direction": direction,
                "date": message.date or fields.Datetime.now(),
                "subject": message.subject or message.record_name or False,
                "origin": "message",
                "mail_message_id": message.id,
                "user_id": author.user_ids[:1].id if internal_author else False,
            }
        )

    @api.model
    def _activity_channel(self, activity_type):
        """The channel of a done activity of this type, or False when it is no contact with
        the customer (a to-do, an upload)."""
        data = activity_type.get_external_id().get(activity_type.id)
        if activity_type.category == "phonecall" or data == "mail.mail_activity_data_call":
            return "phone"
        return {
            "mail.mail_activity_data_email": "email",
            "mail.mail_activity_data_meeting": "visit",
        }.get(data, False)
