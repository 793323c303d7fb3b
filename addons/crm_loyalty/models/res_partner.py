from markupsafe import Markup
from markupsafe import escape

from odoo import api
from odoo import fields
from odoo import models
from odoo.tools import SQL
from odoo.tools.misc import format_date
from odoo.tools.misc import formatLang


class ResPartner(models.Model):
    """Loyalty summary of a customer in the current company (360° panel)."""

    _inherit = "res.partner"

    crm_loyalty_card_ids = fields.One2many(
        "loyalty.card", "partner_id", string="Loyalty Cards", domain=[("crm_ledger", "=", True)]
    )
    crm_loyalty_tier_id = fields.Many2one(
        "crm.loyalty.tier", string="Loyalty Tier", compute="_compute_crm_loyalty"
    )
    crm_loyalty_points = fields.Float(
        string="Points Available", compute="_compute_crm_loyalty", digits=(16, 2)
    )
    crm_loyalty_points_pending = fields.Float(
        string="Points Pending", compute="_compute_crm_loyalty", digits=(16, 2)
    )
    crm_loyalty_tier_history_ids = fields.One2many(
        "crm.loyalty.tier.history", "partner_id", string="Tier Changes"
    )
    crm_promotion_summary = fields.Html(
        "Promotions Used",
        compute="_compute_crm_promotion_summary",
        groups="sales_team.group_sale_salesman",
        sanitize=False,
        help="Promotions and gifts the customer got on confirmed orders of the companies you "
        "work in: how often, last time, and what they gave.",
    )

    @api.depends_context("company")
    @api.depends("crm_loyalty_card_ids.points", "crm_loyalty_card_ids.crm_tier_id")
    def _compute_crm_loyalty(self):
        company = self.env.company
        for partner in self:
            cards = partner.crm_loyalty_card_ids.filtered(
                lambda card: card.company_id in (company, company.browse())
            )
            tiers = cards.crm_tier_id.sorted("threshold", reverse=True)
            partner.crm_loyalty_tier_id = tiers[:1]
            partner.crm_loyalty_points = sum(cards.mapped("points"))
            partner.crm_loyalty_points_pending = sum(cards.mapped("crm_points_pending"))

    def _crm_promotion_usage(self):
        """{partner id: [row, ...]}: each promotion (any program but points, eWallets and gift
        cards) the partners' commercial entities got on confirmed orders of the user's
        companies, with how many orders, the last date and the value given in the order
        currency (discounts, and gifts at their price). One query for all partners."""
        if not self.ids:
            return {}
        # the orders the user may read (record rules: a salesperson limited to their own)
        orders = self.env["sale.order"]._search([("state", "=", "sale")])
        self.env["sale.order.line"].flush_model(
            ["order_id", "reward_id", "price_total", "price_unit", "product_uom_qty"]
        )
        self.env["sale.order"].flush_model(["partner_id", "state", "company_id", "date_order"])
        self.flush_model(["commercial_partner_id"])
        lang = self.env.lang or "en_US"
        rows = self.env.execute_query_dict(
            SQL(
                """
                SELECT me.id AS partner_id, p.id AS program_id,
                       COALESCE(p.name->>%(lang)s, p.name->>'en_US') AS program,
                       p.program_type, p.crm_payment_restricted AS restricted,
                       COUNT(DISTINCT so.id) AS orders, MAX(so.date_order)::date AS last_date,
                       SUM(CASE WHEN rw.reward_type = 'product'
                                THEN sol.price_unit * sol.product_uom_qty
                                ELSE -sol.price_total END) AS value,
                       so.currency_id, MIN(cur.symbol) AS symbol,
                       MIN(cur.position) AS position, MIN(cur.decimal_places) AS decimals
                  FROM res_partner me
                  JOIN res_partner cp ON cp.commercial_partner_id = me.commercial_partner_id
                  JOIN sale_order so ON so.partner_id = cp.id AND so.id IN (%(orders)s)
                  JOIN sale_order_line sol ON sol.order_id = so.id
                  JOIN loyalty_reward rw ON rw.id = sol.reward_id
                  JOIN loyalty_program p ON p.id = rw.program_id
                  JOIN res_currency cur ON cur.id = so.currency_id
                 WHERE me.id IN %(partners)s
                   AND so.company_id IN %(companies)s
                   AND p.program_type NOT IN ('loyalty', 'ewallet', 'gift_card')
                   -- a discount billed back on a debit note was not given
                   AND (so.crm_promo_compliance IS NULL OR so.crm_promo_compliance != 'billed'
                        OR NOT p.crm_payment_restricted)
              GROUP BY me.id, p.id, so.currency_id
              ORDER BY MAX(so.date_order) DESC
                """,
                lang=lang,
                orders=orders.select(),
                partners=tuple(self.ids),
                companies=tuple(self.env.companies.ids),
            )
        )
        usage = {}
        for row in rows:
            usage.setdefault(row["partner_id"], []).append(row)
        return usage

    @api.depends_context("company", "allowed_company_ids", "lang")
    def _compute_crm_promotion_summary(self):
        usage = self._crm_promotion_usage()
        headers = (
            self.env._("Promotion"),
            self.env._("Orders"),
            self.env._("Last Time"),
            self.env._("Value Given"),
        )
        for partner in self:
            rows = usage.get(partner.id)
            if not rows:
                partner.crm_promotion_summary = False
                continue
            body = Markup("").join(
                Markup(
                    "<tr><td>%s%s</td><td class='text-end'>%s</td><td>%s</td>"
                    "<td class='text-end'>%s</td></tr>"
                )
                % (
                    row["program"],
                    Markup(" <span class='badge text-bg-info'>%s</span>")
                    % self.env._("payment method")
                    if row["restricted"]
                    else "",
                    row["orders"],
                    format_date(self.env, row["last_date"]),
                    self._crm_format_amount(row),
                )
                for row in rows
            )
            head = Markup("").join(Markup("<th>%s</th>") % escape(h) for h in headers)
            partner.crm_promotion_summary = Markup(
                "<table class='table table-sm o_crm_promotion_summary'><thead><tr>%s"
                "</tr></thead><tbody>%s</tbody></table>"
            ) % (head, body)

    def _crm_format_amount(self, row):
        """The row's value with its currency, as res.currency.format writes it, from the
        currency columns of the row (no query per currency)."""
        amount = formatLang(self.env, row["value"] or 0.0, digits=row["decimals"] or 0)
        if row["position"] == "before":
            return f"{row['symbol']}\N{NO-BREAK SPACE}{amount}"
        return f"{amount}\N{NO-BREAK SPACE}{row['symbol']}"
