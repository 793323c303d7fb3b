from odoo.http import request
from odoo.http import route

from odoo.addons.portal.controllers.portal import CustomerPortal

from ..models.crm_consent import CONSENT_CHANNELS


class CrmConsentPortal(CustomerPortal):
    """My Account → Contact preferences: the logged-in person says on which channels we may
    contact them. Only their own consent is shown or changed: the partner comes from the
    session, never from the request."""

    def _crm_consent_values(self):
        partner = request.env.user.partner_id
        # sudo: portal users have no access to consent rows; only the session's own partner's
        # (and its company's, which it inherits) are read.
        return {
            "page_name": "crm_consent",
            "consent_partner": partner,
            "consent_channels": [
                (channel, label, partner.sudo()._crm_consent_opt_in(channel)[partner.id])
                for channel, label in self._crm_consent_channels()
            ],
        }

    def _crm_consent_channels(self):
        labels = dict(
            request.env["crm.consent"]._fields["channel"]._description_selection(request.env)
        )
        return [(channel, labels[channel]) for channel, _label in CONSENT_CHANNELS]

    @route("/my/consent", type="http", auth="user", website=True, methods=["GET"])
    def portal_my_consent(self, **kw):
        values = self._prepare_portal_layout_values()
        values.update(self._crm_consent_values())
        return request.render("crm_relationship.portal_my_consent", values)

    @route("/my/consent/update", type="http", auth="user", website=True, methods=["POST"])
    def portal_my_consent_update(self, **post):
        """Record the choice of every channel (a box left unticked is an opt-out), with the
        portal as source. CSRF-checked by Odoo (a POST on an http route)."""
        partner = request.env.user.partner_id
        Consent = request.env["crm.consent"].sudo()  # sudo: see _crm_consent_values
        for channel, _label in CONSENT_CHANNELS:
            Consent._set_consent(partner, channel, bool(post.get(f"consent_{channel}")), "portal")
        return request.redirect("/my/consent?updated=1")
