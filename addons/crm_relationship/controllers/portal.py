from odoo.exceptions import ValidationError
from odoo.http import request
from odoo.http import route

from odoo.addons.portal.controllers.portal import CustomerPortal


class CrmCreditPortal(CustomerPortal):
    """My Account → House credit: the customer's credit limit, their requests, and a form to
    ask for more."""

    def _crm_credit_values(self):
        partner = request.env.user.partner_id.commercial_partner_id
        company = request.env.user.company_id
        # sudo: portal users cannot read credit limits or requests; both are restricted here
        # to the logged-in user's own commercial partner in the user's company.
        requests = (
            request.env["crm.credit.request"]
            .sudo()
            .search([("partner_id", "=", partner.id), ("company_id", "=", company.id)])
        )
        return {
            "page_name": "crm_credit",
            "credit_partner": partner,
            "credit_company": company,
            "credit_limit": partner.sudo().with_company(company).credit_limit,
            "credit_requests": requests,
        }

    def _crm_parse_amount(self, text):
        """The amount typed by the customer, read with the separators of their language
        ("1.500.000" in Spanish); the request validates the number."""
        lang = request.env["res.lang"]._get_data(code=request.env.lang or "en_US")
        text = (text or "").strip().replace(" ", "")
        if lang:
            text = text.replace(lang.thousands_sep or "\x00", "").replace(lang.decimal_point, ".")
        return text[:32]

    @route("/my/credit", type="http", auth="user", website=True)
    def portal_my_credit(self, **kw):
        values = self._prepare_portal_layout_values()
        values.update(self._crm_credit_values())
        return request.render("crm_relationship.portal_my_credit", values)

    @route("/my/credit/request", type="http", auth="user", website=True, methods=["POST"])
    def portal_my_credit_request(self, amount=None, reason=None, **kw):
        """Ask for a credit line of ``amount`` for the logged-in customer (no other customer
        can be named: the partner comes from the session)."""
        values = self._prepare_portal_layout_values()
        values.update(self._crm_credit_values())
        try:
            request.env["crm.credit.request"]._submit(
                values["credit_partner"],
                values["credit_company"],
                self._crm_parse_amount(amount),
                (reason or "")[:2000],
                "portal",
            )
        except ValidationError as error:
            values.update(self._crm_credit_values(), credit_error=error.args[0])
            return request.render("crm_relationship.portal_my_credit", values)
        return request.redirect("/my/credit?submitted=1")
