from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.fields import Domain


class ResPartner(models.Model):
    """The customer's value scores in the current company, for the 360° page."""

    _inherit = "res.partner"

    crm_score_id = fields.Many2one(
        "crm.customer.score",
        "Value Score",
        compute="_compute_crm_score_id",
        search="_search_crm_score_id",
        groups="crm_analytics.group_user",
    )
    crm_clv = fields.Monetary(
        related="crm_score_id.clv",
        currency_field="crm_score_currency_id",
        groups="crm_analytics.group_user",
        string="Lifetime Value",
    )
    crm_score_currency_id = fields.Many2one(
        related="crm_score_id.currency_id",
        string="Score Currency",
        groups="crm_analytics.group_user",
    )
    crm_rfm_segment = fields.Selection(
        related="crm_score_id.rfm_segment", groups="crm_analytics.group_user"
    )
    crm_rfm_code = fields.Char(related="crm_score_id.rfm_code", groups="crm_analytics.group_user")
    crm_p_alive = fields.Float(related="crm_score_id.p_alive", groups="crm_analytics.group_user")
    crm_churn_risk = fields.Float(
        related="crm_score_id.churn_risk", groups="crm_analytics.group_user"
    )
    crm_churn_band = fields.Selection(
        related="crm_score_id.churn_band", groups="crm_analytics.group_user"
    )
    crm_churn_source = fields.Selection(
        related="crm_score_id.churn_source", groups="crm_analytics.group_user"
    )
    crm_expected_purchases = fields.Float(
        related="crm_score_id.expected_purchases", groups="crm_analytics.group_user"
    )
    crm_service_level_id = fields.Many2one(
        related="crm_score_id.service_level_id", groups="crm_analytics.group_user"
    )
    crm_next_offer_product_ids = fields.Many2many(
        "product.product",
        string="Next Best Offers",
        compute="_compute_crm_next_offer_product_ids",
        groups="crm_analytics.group_user",
    )
    crm_propensity_ids = fields.One2many(
        "crm.customer.propensity",
        compute="_compute_crm_propensity_ids",
        string="Propensities",
        groups="crm_analytics.group_user",
    )

    @api.depends("commercial_partner_id")
    @api.depends_context("company")
    def _compute_crm_score_id(self):
        commercial = self.commercial_partner_id
        Score = self.env["crm.customer.score"]
        # one query for the row and every column the 360° page shows (search + read is two)
        scores = Score.search_fetch(
            [("partner_id", "in", commercial.ids), ("company_id", "=", self.env.company.id)]
        )
        by_partner = {score.partner_id.id: score for score in scores}
        for partner in self:
            partner.crm_score_id = by_partner.get(partner.commercial_partner_id.id, False)

    def _search_crm_score_id(self, operator, value):
        """Customers by their score in the current company: by id, or by what the score says
        (``any``: a filter on the RFM segment or the churn band, e.g. a mailing's target)."""
        if operator not in ("in", "any"):
            return NotImplemented
        Score = self.env["crm.customer.score"]
        if operator == "in":
            scores = Score.search([("id", "in", [v for v in value if v])])
        else:
            scores = Score.search(Domain(value) & Domain("company_id", "=", self.env.company.id))
        return [("commercial_partner_id", "in", scores.partner_id.ids)]

    @api.depends("commercial_partner_id")
    @api.depends_context("company")
    def _compute_crm_next_offer_product_ids(self):
        commercial = self.commercial_partner_id.filtered("id")
        offers = self.env["crm.product.affinity"]._next_offers(self.env.company, commercial.ids)
        for partner in self:
            partner.crm_next_offer_product_ids = [
                (6, 0, offers.get(partner.commercial_partner_id.id, []))
            ]

    @api.depends("commercial_partner_id")
    @api.depends_context("company")
    def _compute_crm_propensity_ids(self):
        # one query for the rows and every stored column (what search_fetch reads by default)
        rows = self.env["crm.customer.propensity"].search_fetch(
            [
                ("partner_id", "in", self.commercial_partner_id.ids),
                ("company_id", "=", self.env.company.id),
            ]
        )
        by_partner = rows.grouped("partner_id")
        for partner in self:
            partner.crm_propensity_ids = by_partner.get(
                partner.commercial_partner_id, rows.browse()
            )

    def action_open_crm_score(self):
        """Smart button: the value score of this customer in the current company.

        For analytics users who may read the customer; the score is searched with their
        rights, so another company's score is never opened.
        """
        self.ensure_one()
        _ = self.env._
        if not self.env.user.has_group("crm_analytics.group_user"):
            raise AccessError(_("Only analytics users can open a customer's value score."))
        self.check_access("read")
        score = self.crm_score_id
        if not score:
            raise UserError(
                _(
                    "%(partner)s has no value score in %(company)s yet.",
                    partner=self.display_name,
                    company=self.env.company.name,
                )
            )
        return {
            "type": "ir.actions.act_window",
            "name": _("Customer Value"),
            "res_model": "crm.customer.score",
            "view_mode": "form",
            "res_id": score.id,
        }
