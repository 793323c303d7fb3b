from odoo.tests import HttpCase
from odoo.tests import JsonRpcException
from odoo.tests import new_test_user
from odoo.tests import tagged

from .common import FORGED_CONTEXT


@tagged("post_install", "-at_install")
class TestForgedContextRpc(HttpCase):
    """JSON-RPC callers (a salesperson, a portal customer, a loyalty manager) send our former
    context keys with every call that moves points: each call is refused and nothing moves."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program = cls.env["loyalty.program"].create(
            {"name": "Puntos RPC", "program_type": "loyalty"}
        )
        cls.partner = cls.env["res.partner"].create({"name": "Cliente RPC"})
        cls.card = cls.env["loyalty.card"].create(
            {"program_id": cls.program.id, "partner_id": cls.partner.id}
        )
        cls.env["crm.loyalty.ledger"]._post_entry(cls.card, "earn", 100, reason="compra")
        cls.card._crm_sync_points()
        cls.users = {
            "salesperson": new_test_user(
                cls.env, login="rpc_sales", password="rpc_sales_pw_1",
                groups="sales_team.group_sale_salesman",
            ),
            "portal": new_test_user(
                cls.env, login="rpc_portal", password="rpc_portal_pw_1",
                groups="base.group_portal",
            ),
            "manager": new_test_user(
                cls.env, login="rpc_manager", password="rpc_manager_pw_1",
                groups="base.group_user,crm_loyalty.group_manager",
            ),
        }  # fmt: skip
        cls.partner.user_ids = cls.users["portal"]

    def _call(self, login, model, method, args, kwargs=None):
        self.authenticate(login, f"{login}_pw_1")
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/{model}/{method}",
            {
                "model": model,
                "method": method,
                "args": args,
                "kwargs": {**(kwargs or {}), "context": FORGED_CONTEXT},
            },
        )

    def _snapshot(self):
        self.env.invalidate_all()
        Ledger = self.env["crm.loyalty.ledger"]
        return (
            self.card.points,
            Ledger.search_count([("card_id", "=", self.card.id)]),
            Ledger.search([("card_id", "=", self.card.id)]).mapped(
                lambda e: (e.kind, e.points, e.remaining, e.state)
            ),
        )

    def assertRefused(self, login, model, method, args, kwargs=None, errors=None):
        before = self._snapshot()
        with self.assertRaises(JsonRpcException) as caught:
            self._call(login, model, method, args, kwargs)
        self.assertIn(
            str(caught.exception),
            errors or {"odoo.exceptions.UserError", "odoo.exceptions.AccessError"},
            f"{login} {model}.{method}",
        )
        self.assertEqual(self._snapshot(), before, f"{login} {model}.{method} changed data")

    def test_nobody_writes_points_directly_whatever_the_context(self):
        for login in ("rpc_sales", "rpc_portal"):
            self.assertRefused(login, "loyalty.card", "write", [[self.card.id], {"points": 9999}])
            self.assertRefused(
                login,
                "loyalty.card",
                "create",
                [[{"program_id": self.program.id, "partner_id": self.partner.id, "points": 500}]],
            )

    def test_nobody_writes_the_ledger_whatever_the_context(self):
        entry = self.env["crm.loyalty.ledger"].search([("card_id", "=", self.card.id)])
        values = {
            "card_id": self.card.id,
            "program_id": self.program.id,
            "kind": "expire",
            "points": 500,
            "remaining": 500,
        }
        for login in ("rpc_sales", "rpc_portal", "rpc_manager"):
            self.assertRefused(login, "crm.loyalty.ledger", "create", [[values]])
            self.assertRefused(
                login, "crm.loyalty.ledger", "write", [entry.ids, {"remaining": 5000}]
            )
            self.assertRefused(login, "crm.loyalty.ledger", "unlink", [entry.ids])
            self.assertRefused(
                login,
                "crm.loyalty.consumption",
                "create",
                [[{"entry_id": entry.id, "lot_id": entry.id, "points": 1}]],
            )

    def test_points_move_only_through_public_flows_with_rights(self):
        card = [self.card.id]
        for login in ("rpc_sales", "rpc_portal"):
            self.assertRefused(login, "loyalty.card", "crm_adjust_points", [card, 500, "regalo"])
        self.assertRefused("rpc_portal", "loyalty.card", "crm_redeem_points", [card, 10])
        # the engine is private: not callable remotely by anyone
        for login in ("rpc_sales", "rpc_manager"):
            for method, args in (
                ("_crm_sync_points", [card]),
                ("_crm_update_tiers", [card]),
                ("_crm_outside_change_kinds", [card, "x"]),
            ):
                self.assertRefused(login, "loyalty.card", method, args)
            self.assertRefused(
                login, "crm.loyalty.ledger", "_post_entry", [[], self.card.id, "earn", 500]
            )
            self.assertRefused(login, "loyalty.program", "_crm_open_ledger", [[self.program.id]])

    def test_bad_numbers_through_rpc_are_clear_errors(self):
        for amount in ("NaN", "Infinity", "1e300", "abc", None, [1], {"a": 1}):
            self.assertRefused(
                "rpc_manager",
                "loyalty.card",
                "crm_adjust_points",
                [[self.card.id], amount, "ajuste"],
                errors={"odoo.exceptions.UserError"},
            )

    def test_the_manager_adjusts_through_rpc_with_a_reason(self):
        self._call("rpc_manager", "loyalty.card", "crm_adjust_points", [[self.card.id], 20, "Bono"])
        self.card.invalidate_recordset(["points"])
        self.assertEqual(self.card.points, 120)
        entry = self.env["crm.loyalty.ledger"].search(
            [("card_id", "=", self.card.id), ("kind", "=", "adjust")]
        )
        self.assertEqual((entry.points, entry.reason), (20, "Bono"))
