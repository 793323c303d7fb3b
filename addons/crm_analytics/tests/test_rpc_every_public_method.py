"""Every public method of the three addons, called through JSON-RPC by a salesperson and by a
portal customer with every context key the suite ever read: refused, and nothing changed.

The inventory below is checked against the registry: a public method added to any of the
three addons without a line here fails `test_the_inventory_lists_every_public_method`.
"""

import inspect

from odoo import fields
from odoo.service.model import get_public_method
from odoo.tests import HttpCase
from odoo.tests import JsonRpcException
from odoo.tests import new_test_user
from odoo.tests import tagged

from odoo.addons.crm_loyalty.tests.common import FORGED_CONTEXT as LOYALTY_FORGED_CONTEXT

OUR_ADDONS = ("crm_relationship", "crm_loyalty", "crm_analytics")

# the loyalty ledger's former keys and a crm_order_id of another salesperson's order
FORGED_CONTEXT = dict(LOYALTY_FORGED_CONTEXT, crm_order_id=None)

# (model, method) -> args builder name; every entry is refused to both users. Methods that a
# salesperson may legitimately call on their own records are in ALLOWED_TO_SALESPERSON and are
# called on records of another salesperson instead (refused as well).
INVENTORY = {
    ("crm.clv.model", "action_recompute"): "no_args",
    ("crm.credit.override.wizard", "action_confirm_order"): "override_wizard",
    ("crm.credit.override.wizard", "create"): "override_wizard_values",
    ("crm.credit.request", "action_approve"): "credit_request",
    ("crm.credit.request", "action_refuse"): "credit_request",
    ("crm.credit.request", "write"): "credit_request_write",
    ("crm.credit.request.wizard", "action_submit"): "request_wizard",
    ("crm.consent", "write"): "consent_write",
    ("crm.customer.segment", "action_reclassify"): "segment",
    ("crm.customer.segment", "action_view_matching"): "segment",
    ("crm.customer.segment", "action_view_members"): "segment",
    ("crm.customer.segment", "create"): "segment_values",
    ("crm.customer.segment", "write"): "segment_write",
    ("account.move", "button_cancel"): "loyalty_move",
    ("account.move", "button_draft"): "loyalty_move",
    ("account.move", "create"): "decided_invoice_values",
    ("account.move", "unlink"): "loyalty_move",
    ("account.move", "write"): "loyalty_move_write",
    ("crm.loyalty.consumption", "create"): "consumption_values",
    ("crm.loyalty.consumption", "write"): "consumption_write",
    ("crm.loyalty.ledger", "create"): "ledger_values",
    ("crm.loyalty.ledger", "write"): "ledger_write",
    ("crm.loyalty.contribution", "action_open_document"): "program",
    ("crm.loyalty.reconciliation", "action_open_journal_items"): "program",
    ("crm.loyalty.reconciliation", "action_open_revenue_lines"): "program",
    ("crm.loyalty.redeem.wizard", "action_redeem"): "redeem_wizard",
    ("crm.loyalty.revenue.line", "action_open_move"): "revenue_line",
    ("crm.loyalty.revenue.line", "create"): "revenue_line_values",
    ("crm.loyalty.revenue.line", "write"): "revenue_line_write",
    ("crm.loyalty.statement.wizard", "action_print"): "statement_wizard",
    ("crm.segment.pin.wizard", "action_apply"): "pin_wizard",
    ("crm.interaction", "create"): "interaction_values",
    ("crm.interaction", "write"): "interaction_write",
    ("crm.lead", "create"): "lead_values",
    ("crm.lead", "write"): "foreign_lead_write",
    ("loyalty.card", "action_crm_open_ledger"): "card",
    ("loyalty.card", "action_crm_print_statement"): "card",
    ("loyalty.card", "create"): "card_values",
    ("loyalty.card", "crm_adjust_points"): "card_adjust",
    ("loyalty.card", "crm_redeem_points"): "card_redeem",
    ("loyalty.card", "write"): "card_write",
    ("loyalty.card.update.balance", "action_update_card_point"): "update_balance",
    ("loyalty.history", "create"): "history_values",
    ("loyalty.program", "action_crm_ifrs_post"): "program",
    ("loyalty.program", "action_crm_open_revenue_lines"): "program",
    ("loyalty.program", "create"): "program_values",
    ("loyalty.program", "write"): "program_write",
    ("product.product", "action_crm_add_to_order"): "product",
    ("res.partner", "action_crm_log_interaction"): "partner",
    ("res.partner", "action_crm_pin_segment"): "partner",
    ("res.partner", "action_crm_refresh_metrics"): "partner",
    ("res.partner", "action_crm_view_payments"): "partner",
    ("res.partner", "action_crm_view_interactions"): "partner",
    ("res.partner", "action_open_crm_score"): "partner",
    ("sale.order", "action_crm_override_credit"): "foreign_order",
    ("sale.order", "action_confirm"): "foreign_order",
    ("sale.order", "action_crm_accept_promotion_difference"): "foreign_order",
    ("sale.order", "action_crm_bill_promotion_difference"): "foreign_order",
    ("sale.order", "create"): "decided_order_values",
    ("sale.order", "write"): "foreign_order_write",
    ("sale.order.line", "create"): "foreign_line_values",
    ("sale.order.line", "unlink"): "foreign_line",
    ("sale.order.line", "write"): "foreign_line_write",
}


# What a salesperson may do with a forged context too: create a lead or a loyalty history line
# (Odoo's own rights), ask for more credit for a customer. The call succeeds, and only what it creates changes: no point moves.
ALLOWED_TO_SALESPERSON = {
    ("crm.lead", "create"): {"leads"},
    # a salesperson may ask for more credit for a customer: a new request, decided by the
    # policy (no history here: left for a credit manager; no limit, decision or override)
    ("crm.credit.request.wizard", "action_submit"): {"credit_requests"},
    ("loyalty.history", "create"): {"history"},
    # salespeople log their contacts with customers and record a customer's consent
    ("crm.interaction", "create"): {"interactions"},
    ("crm.consent", "write"): {"consents"},
    # open the interaction form or list of a customer they can read: nothing changes
    ("res.partner", "action_crm_log_interaction"): set(),
    ("res.partner", "action_crm_view_interactions"): set(),
}


def public_methods_of_our_addons(env):
    """{(model, method)} of every method one of our addons defines that RPC can call."""
    found = set()
    for name in env.registry:
        model = env[name]
        for klass in type(model).__mro__:
            parts = getattr(klass, "__module__", "").split(".")
            if parts[:2] != ["odoo", "addons"] or parts[2] not in OUR_ADDONS:
                continue
            for attr, value in vars(klass).items():
                if attr.startswith("_") or not inspect.isfunction(value):
                    continue
                try:
                    get_public_method(model, attr)
                except Exception:  # private somewhere in the class hierarchy
                    continue
                found.add((name, attr))
    return found


@tagged("post_install", "-at_install")
class TestEveryPublicMethodThroughRpc(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.salesperson = new_test_user(
            env,
            login="rpc_all_sales",
            password="rpc_all_sales_pw1",
            groups="sales_team.group_sale_salesman",
        )
        cls.other_salesperson = new_test_user(
            env, login="rpc_all_sales2", groups="sales_team.group_sale_salesman"
        )
        cls.portal = new_test_user(
            env, login="rpc_all_portal", password="rpc_all_portal_pw1", groups="base.group_portal"
        )  # fmt: skip
        cls.customer = env["res.partner"].create({"name": "Cliente Inventario RPC"})
        cls.customer.user_ids = cls.portal
        cls.program = env["loyalty.program"].create(
            {"name": "Puntos Inventario", "program_type": "loyalty", "company_id": env.company.id}
        )
        cls.card = env["loyalty.card"].create(
            {"program_id": cls.program.id, "partner_id": cls.customer.id}
        )
        cls.lot = env["crm.loyalty.ledger"]._post_entry(cls.card, "earn", 100, reason="compra")
        cls.card._crm_sync_points()
        cls.card.crm_redeem_points(10, "canje")  # a consumption of the lot
        # the program's points in the books: an opening line and its journal entry
        tomorrow = fields.Date.add(fields.Date.context_today(cls.program), days=1)
        cls.program.write({"crm_ifrs": True, "crm_point_value": 1, "crm_ifrs_start": tomorrow})
        cls.loyalty_move = env["crm.loyalty.accounting"]._post(cls.program, tomorrow)
        # a lead of another salesperson (salespeople may write only their own)
        cls.foreign_lead = env["crm.lead"].create(
            {"name": "Lead de otro vendedor", "user_id": cls.other_salesperson.id}
        )
        cls.consent = env["crm.consent"].create(
            {"partner_id": cls.customer.id, "channel": "email", "opt_in": True}
        )
        cls.interaction = env["crm.interaction"].create(
            {"partner_id": cls.customer.id, "channel": "visit", "subject": "Visita del gerente"}
        )
        cls.revenue_line = env["crm.loyalty.revenue.line"].search(
            [("program_id", "=", cls.program.id)]
        )
        cls.segment = env["crm.customer.segment"].create({"name": "Segmento RPC", "domain": "[]"})
        cls.product = env["product.product"].create(
            {"name": "Cocina RPC", "list_price": 300, "sale_ok": True}
        )
        cls.foreign_order = env["sale.order"].create(
            {
                "partner_id": cls.customer.id,
                "user_id": cls.other_salesperson.id,
                "order_line": [(0, 0, {"product_id": cls.product.id, "price_unit": 300})],
            }
        )
        cls.env["crm.customer.metric"]._refresh_metrics(cls.customer.ids, cls.env.company.ids)
        cls.wizards = {
            "redeem_wizard": env["crm.loyalty.redeem.wizard"].create(
                {"card_id": cls.card.id, "points": 50}
            ),
            "statement_wizard": env["crm.loyalty.statement.wizard"].create(
                {"card_ids": [(6, 0, cls.card.ids)]}
            ),
            "pin_wizard": env["crm.segment.pin.wizard"].create(
                {"partner_id": cls.customer.id, "segment_id": cls.segment.id, "reason": "x"}
            ),
            "update_balance": env["loyalty.card.update.balance"].create(
                {"card_id": cls.card.id, "new_balance": 5000, "description": "x"}
            ),
            "override_wizard": env["crm.credit.override.wizard"].create(
                {"order_id": cls.foreign_order.id, "reason": "x"}
            ),
            "request_wizard": env["crm.credit.request.wizard"].create(
                {"partner_id": cls.customer.id, "requested_limit": 1000}
            ),
        }
        # a credit line request waiting for a credit manager (no payment history)
        cls.credit_request = env["crm.credit.request"]._submit(
            cls.customer, env.company, 99999999, "", "backoffice"
        )

    def _args(self, kind):
        card, lot, line = self.card, self.lot, self.foreign_order.order_line[:1]
        builders = {
            "no_args": lambda: [[]],
            "segment": lambda: [self.segment.ids],
            "segment_values": lambda: [[{"name": "Forjado", "domain": "[]"}]],
            "segment_write": lambda: [self.segment.ids, {"domain": "[('id', '>', 0)]"}],
            "consumption_values": lambda: [[{"entry_id": lot.id, "lot_id": lot.id, "points": 1}]],
            "consumption_write": lambda: [lot.lot_consumption_ids.ids, {"points": 9}],
            "ledger_values": lambda: [
                [
                    {
                        "card_id": card.id,
                        "program_id": self.program.id,
                        "kind": "earn",
                        "points": 9999,
                        "remaining": 9999,
                    }
                ]
            ],
            "ledger_write": lambda: [lot.ids, {"remaining": 9999}],
            "redeem_wizard": lambda: [self.wizards["redeem_wizard"].ids],
            "statement_wizard": lambda: [self.wizards["statement_wizard"].ids],
            "pin_wizard": lambda: [self.wizards["pin_wizard"].ids],
            "update_balance": lambda: [self.wizards["update_balance"].ids],
            "override_wizard": lambda: [self.wizards["override_wizard"].ids],
            "override_wizard_values": lambda: [
                [{"order_id": self.foreign_order.id, "reason": "forjado"}]
            ],
            "request_wizard": lambda: [self.wizards["request_wizard"].ids],
            "credit_request": lambda: [self.credit_request.ids],
            "credit_request_write": lambda: [
                self.credit_request.ids,
                {"state": "approved", "granted_limit": 99999999},
            ],
            "lead_values": lambda: [[{"name": "Lead RPC", "partner_id": self.customer.id}]],
            "foreign_lead_write": lambda: [
                self.foreign_lead.ids,
                {"name": "Forjado", "partner_id": self.customer.id},
            ],
            "card": lambda: [card.ids],
            "card_values": lambda: [
                [{"program_id": self.program.id, "partner_id": self.customer.id, "points": 9999}]
            ],
            "card_adjust": lambda: [card.ids, 9999, "forjado"],
            "card_redeem": lambda: [card.ids, 50, "forjado"],
            "card_write": lambda: [card.ids, {"points": 9999}],
            "history_values": lambda: [
                [
                    {
                        "card_id": card.id,
                        "description": "forjado",
                        "issued": 9999,
                        "order_model": "sale.order",
                        "order_id": self.foreign_order.id,
                    }
                ]
            ],
            "program_values": lambda: [[{"name": "Forjado", "program_type": "loyalty"}]],
            "program": lambda: [self.program.ids],
            "consent_write": lambda: [self.consent.ids, {"opt_in": False}],
            "interaction_values": lambda: [
                [{"partner_id": self.customer.id, "channel": "phone", "subject": "Llamada RPC"}]
            ],
            "interaction_write": lambda: [self.interaction.ids, {"outcome": "sale"}],
            "loyalty_move": lambda: [self.loyalty_move.ids],
            "loyalty_move_write": lambda: [
                self.loyalty_move.ids,
                {"crm_loyalty_program_id": False},
            ],
            "revenue_line": lambda: [self.revenue_line.ids],
            "revenue_line_values": lambda: [
                [
                    {
                        "program_id": self.program.id,
                        "company_id": self.env.company.id,
                        "date": "2026-01-01",
                        "kind": "release",
                        "amount": -9999,
                    }
                ]
            ],
            "revenue_line_write": lambda: [self.revenue_line.ids, {"amount": 9999}],
            "program_write": lambda: [self.program.ids, {"crm_ledger": False}],
            "product": lambda: [self.product.ids],
            "partner": lambda: [self.customer.ids],
            "foreign_order": lambda: [self.foreign_order.ids],
            # an order or invoice born with the accountant's decision already taken
            "decided_order_values": lambda: [
                {"partner_id": self.customer.id, "crm_promo_compliance": "accepted"}
            ],
            "decided_invoice_values": lambda: [
                {
                    "move_type": "out_invoice",
                    "partner_id": self.customer.id,
                    "crm_promo_compliance": "accepted",
                }
            ],
            "foreign_order_write": lambda: [
                self.foreign_order.ids,
                {"crm_promo_compliance": "accepted", "preferred_payment_method_line_id": False},
            ],
            "foreign_line_values": lambda: [
                [{"order_id": self.foreign_order.id, "product_id": self.product.id}]
            ],
            "foreign_line": lambda: [line.ids],
            "foreign_line_write": lambda: [line.ids, {"product_uom_qty": 50}],
        }
        return builders[kind]()

    def _snapshot(self):
        self.env.invalidate_all()
        env = self.env
        return {
            "card": (self.card.points, self.card.active),
            "ledger": env["crm.loyalty.ledger"].search_count([]),
            "consumptions": env["crm.loyalty.consumption"].search_count([]),
            "lot": (self.lot.remaining, self.lot.state),
            "history": env["loyalty.history"].search_count([("card_id", "=", self.card.id)]),
            "cards": env["loyalty.card"].search_count([("program_id", "=", self.program.id)]),
            "programs": env["loyalty.program"].with_context(active_test=False).search_count([]),
            "program": (self.program.crm_ledger, self.program.crm_ifrs),
            "loyalty_move": (
                self.loyalty_move.state,
                self.loyalty_move.amount_total,
                self.loyalty_move.crm_loyalty_program_id,
            ),
            "revenue_lines": env["crm.loyalty.revenue.line"].search_read([], ["amount"]),
            "consents": env["crm.consent"].search_read([], ["opt_in"]),
            "interactions": env["crm.interaction"].search_read([], ["outcome", "subject"]),
            "segments": env["crm.customer.segment"].search_count([]),
            "segment": (self.segment.domain, self.segment.rule_error),
            "metrics": env["crm.customer.metric"].search_read(
                [("partner_id", "=", self.customer.id)], ["segment_id", "pinned_segment_id"]
            ),
            "segment_history": env["crm.customer.segment.history"].search_count([]),
            "scores": env["crm.customer.score"].search_count([]),
            "fits": env["crm.clv.model"].search_count([]),
            "leads": env["crm.lead"].search_count([("partner_id", "=", self.customer.id)]),
            "foreign_lead": (self.foreign_lead.name, self.foreign_lead.partner_id),
            "credit": (
                self.customer.credit_limit,
                env["crm.credit.decision"].search_count([]),
                env["crm.credit.override"].search_count([]),
            ),
            "credit_requests": env["crm.credit.request"].search_read(
                [], ["state", "granted_limit"]
            ),
            "order": (
                self.foreign_order.state,
                self.foreign_order.order_line.ids,
                self.foreign_order.order_line.mapped("product_uom_qty"),
                self.foreign_order.crm_promo_compliance,
            ),
            "orders": env["sale.order"].sudo().search_count([]),
            "moves": env["account.move"].sudo().search_count([]),
        }

    def test_the_inventory_lists_every_public_method(self):
        self.assertEqual(public_methods_of_our_addons(self.env), set(INVENTORY))

    def test_every_public_method_is_refused_with_a_forged_context(self):
        # (a forged allowed_company_ids would make Odoo refuse every call before ours: the
        # company checks of each method are tested in each addon's own tests)
        context = dict(FORGED_CONTEXT, crm_order_id=self.foreign_order.id)
        for login in ("rpc_all_sales", "rpc_all_portal"):
            self.authenticate(login, f"{login}_pw1")
            for (model, method), kind in INVENTORY.items():
                with self.subTest(user=login, method=f"{model}.{method}"):
                    before = self._snapshot()
                    call = (
                        f"/web/dataset/call_kw/{model}/{method}",
                        {
                            "model": model,
                            "method": method,
                            "args": self._args(kind),
                            "kwargs": {"context": context},
                        },
                    )
                    allowed = ALLOWED_TO_SALESPERSON.get((model, method))
                    if allowed is not None and login == "rpc_all_sales":
                        self.make_jsonrpc_request(*call)
                        after = self._snapshot()
                        for key in allowed:
                            self.assertNotEqual(after.pop(key), before.pop(key))
                        self.assertEqual(after, before)
                        continue
                    with self.assertRaises(JsonRpcException) as caught:
                        self.make_jsonrpc_request(*call)
                    self.assertIn(
                        str(caught.exception),
                        {
                            "odoo.exceptions.AccessError",
                            "odoo.exceptions.UserError",
                            "odoo.exceptions.ValidationError",
                        },
                    )
                    self.assertEqual(self._snapshot(), before)
