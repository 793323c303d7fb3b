from datetime import date

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import HttpCase
from odoo.tests import JsonRpcException
from odoo.tests import new_test_user
from odoo.tests import tagged

from .common import FORGED_CONTEXT
from .test_ifrs15 import Ifrs15Case


@tagged("post_install", "-at_install")
class TestIfrs15Companies(Ifrs15Case):
    def test_an_accountant_of_another_company_sees_and_posts_nothing_of_this_one(self):
        other = self.env["res.company"].create({"name": "Tienda Sur Test"})
        outsider = new_test_user(
            self.env,
            login="ifrs_other_accountant",
            groups="account.group_account_invoice",
            company_id=other.id,
            company_ids=[other.id],
        )
        with freeze_time("2025-06-30"):
            self._sell(10_000)
        self._post_period("2025-06-30")
        Line = self.env["crm.loyalty.revenue.line"].with_user(outsider)
        self.assertFalse(Line.search([]))
        self.assertFalse(self.env["crm.loyalty.reconciliation"].with_user(outsider).search([]))
        self.assertFalse(self.env["crm.loyalty.contribution"].with_user(outsider).search([]))
        with self.assertRaises(AccessError):
            self.program.with_user(outsider).action_crm_ifrs_post()

    def test_an_invoice_in_another_currency_is_deferred_in_the_company_currency(self):
        euro = self.env.ref("base.EUR")
        euro.active = True
        self.env["res.currency.rate"].create(
            {
                "currency_id": euro.id,
                "name": "2025-01-01",
                "rate": 0.5,
                "company_id": self.company.id,
            }
        )
        pricelist = self.env["product.pricelist"].create(
            {"name": "Euros test", "currency_id": euro.id}
        )
        with freeze_time("2025-06-30"):
            order = (
                self.env["sale.order"]
                .with_user(self.salesperson)
                .create(
                    {
                        "partner_id": self.partner.id,
                        "pricelist_id": pricelist.id,
                        "order_line": [
                            (
                                0,
                                0,
                                {
                                    "product_id": self.product.id,
                                    "product_uom_qty": 5,
                                    "price_unit": 1_000.0,
                                    "tax_ids": [(5, 0, 0)],
                                },
                            )
                        ],
                    }
                )
            )
            order._update_programs_and_rewards()
            order.action_confirm()
            invoice = order._create_invoices()
            invoice.with_user(self.accountant).action_post()
        self._post_period("2025-06-30")
        defer = self._lines("defer")
        self.assertEqual(invoice.currency_id, euro)
        # 5,000 euros at 0.5 euro per unit of the company currency: the invoice's balance
        self.assertAlmostEqual(defer.price, 10_000)
        self.assertAlmostEqual(defer.price, -sum(invoice.invoice_line_ids.mapped("balance")))
        self.assertEqual(defer.points, 500)
        self.assertAlmostEqual(defer.amount, 10_000 * 485 / 10_485, delta=0.01)
        self.assertEqual(defer.move_id.currency_id, self.company.currency_id)


@tagged("post_install", "-at_install")
class TestIfrs15Rpc(HttpCase):
    """Posting moves money: through JSON-RPC, the accountant posts; a salesperson, a cashier
    and a loyalty manager are refused, whatever context they send, and nothing is written."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        with freeze_time("2025-01-01"):
            cls.program = cls.env["loyalty.program"].create(
                {
                    "name": "Puntos RPC IFRS",
                    "program_type": "loyalty",
                    "company_id": cls.company.id,
                    "crm_ifrs": True,
                    "crm_point_value": 1.0,
                    "crm_redemption_rate": 90.0,
                }
            )
        partner = cls.env["res.partner"].create({"name": "Cliente RPC IFRS"})
        card = cls.env["loyalty.card"].create(
            {"program_id": cls.program.id, "partner_id": partner.id}
        )
        with freeze_time("2024-12-01"):
            cls.env["crm.loyalty.ledger"]._post_entry(card, "earn", 1_000, reason="antes")
            card._crm_sync_points()
        cls.users = {
            "rpc_ifrs_accountant": "account.group_account_invoice",
            "rpc_ifrs_sales": "sales_team.group_sale_salesman",
            "rpc_ifrs_cashier": "sales_team.group_sale_salesman,crm_loyalty.group_user",
            "rpc_ifrs_loyalty": "sales_team.group_sale_manager,crm_loyalty.group_manager",
        }
        for login, groups in cls.users.items():
            new_test_user(cls.env, login=login, password=f"{login}_pw_1", groups=groups)

    def _call(self, login, method, args, context=None):
        self.authenticate(login, f"{login}_pw_1")
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/loyalty.program/{method}",
            {
                "model": "loyalty.program",
                "method": method,
                "args": args,
                "kwargs": {"context": context or {}},
            },
        )

    def _lines(self):
        self.env.invalidate_all()
        return self.env["crm.loyalty.revenue.line"].search([("program_id", "=", self.program.id)])

    def test_the_accountant_posts_and_the_others_are_refused(self):
        for login in ("rpc_ifrs_sales", "rpc_ifrs_cashier", "rpc_ifrs_loyalty"):
            for method, args in (
                ("action_crm_ifrs_post", [self.program.ids]),
                ("write", [self.program.ids, {"crm_redemption_rate": 10}]),
                ("write", [self.program.ids, {"crm_ifrs": False}]),
            ):
                with self.subTest(login=login, method=method):
                    with self.assertRaises(JsonRpcException) as caught:
                        self._call(login, method, args, FORGED_CONTEXT)
                    self.assertIn(
                        str(caught.exception),
                        {"odoo.exceptions.AccessError", "odoo.exceptions.UserError"},
                    )
                    self.assertFalse(self._lines())
        self.assertEqual(self.program.crm_redemption_rate, 90.0)
        self.assertTrue(self.program.crm_ifrs)

        action = self._call("rpc_ifrs_accountant", "action_crm_ifrs_post", [self.program.ids])
        opening = self._lines()
        self.assertEqual(opening.kind, "opening")
        self.assertEqual(opening.points, 1_000)
        self.assertEqual(opening.amount, 900)
        self.assertEqual(action["res_model"], "account.move")
        self.assertEqual(opening.move_id.state, "posted")
        self.assertEqual(opening.move_id.date, date.today())
        # posting again through RPC books nothing twice
        self._call("rpc_ifrs_accountant", "action_crm_ifrs_post", [self.program.ids])
        self.assertEqual(self._lines(), opening)
