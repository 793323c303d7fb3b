"""DEMO DATA ONLY: house credit at Tienda Andina: the policy switched on, a quotation on credit
terms that the credit check refuses, a credit line request approved by the policy and one
waiting for a credit manager."""

from odoo import Command
from odoo import api
from odoo import models


class CrmRelationshipDemo(models.AbstractModel):
    _inherit = "crm.relationship.demo"

    @api.model
    def _create_credit_story(self, company_id):
        company = self.env["res.company"].browse(company_id)
        # the store's staff ask in Spanish: the policy's notes on the requests read so
        env = self._demo_env(company)
        if company.partner_id.lang:
            env = env(context=dict(env.context, lang=company.partner_id.lang))
        company.write(
            {
                "account_use_credit_limit": True,
                "crm_credit_limit_cap": 3000000,
                "crm_credit_apply_limit": False,
            }
        )
        Metric = env["crm.customer.metric"]
        metrics = Metric.search([("company_id", "=", company.id)], order="partner_id")
        denied = metrics.filtered(lambda metric: metric.credit_decision == "deny")
        granted = metrics.filtered(
            lambda metric: metric.credit_decision == "grant" and metric.credit_limit_suggested
        ).sorted("credit_limit_suggested", reverse=True)
        product = env.ref("crm_relationship.product_andina_parka_demo")
        if denied:
            # the credit check refuses it on 30-day terms: the salesperson sees why
            env["sale.order"].create(
                {
                    "partner_id": denied[0].partner_id.id,
                    "company_id": company.id,
                    "payment_term_id": env.ref("account.account_payment_term_30days").id,
                    "order_line": [Command.create({"product_id": product.id})],
                }
            )
        Request = env["crm.credit.request"]
        for metric, factor in zip(granted[:2], (0.5, 3.0), strict=False):
            # within the suggested limit: approved by the policy; three times it: to review
            Request._submit(
                metric.partner_id,
                company,
                round(metric.credit_limit_suggested * factor, -3),
                "Compras de temporada",
                "backoffice",
            )
