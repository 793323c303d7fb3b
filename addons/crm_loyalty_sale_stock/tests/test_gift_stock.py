from odoo.fields import Command
from odoo.tests import TransactionCase
from odoo.tests import new_test_user
from odoo.tests import tagged

from odoo.addons.crm_loyalty.tests.common import gift_program_values


@tagged("post_install", "-at_install")
class TestGiftStock(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["loyalty.program"].search([]).action_archive()
        cls.cooker = cls.env["product.product"].create(
            {"name": "Cocina stock test", "type": "consu", "list_price": 100_000.0}
        )
        cls.pans = cls.env["product.product"].create(
            {
                "name": "Ollas stock test",
                "type": "consu",
                "is_storable": True,
                "list_price": 20_000.0,
                "standard_price": 8_000.0,
            }
        )
        cls.env["loyalty.program"].create(
            gift_program_values("Ollas de regalo stock test", cls.cooker, cls.pans)
        )
        cls.salesperson = new_test_user(
            cls.env, login="gift_stock_sales", groups="sales_team.group_sale_salesman"
        )
        cls.customer = cls.env["res.partner"].create({"name": "Cliente stock test"})

    def _quotation(self):
        order = (
            self.env["sale.order"]
            .with_user(self.salesperson)
            .create(
                {
                    "partner_id": self.customer.id,
                    "order_line": [Command.create({"product_id": self.cooker.id})],
                }
            )
        )
        order.action_open_reward_wizard()
        self.assertEqual(order.order_line.filtered("reward_id").product_id, self.pans)
        return order

    def test_a_gift_out_of_stock_is_reported_before_confirmation(self):
        order = self._quotation()
        self.assertIn("Gift out of stock", order.crm_gift_stock_warning)
        self.assertIn("Ollas stock test (0 available, 1 needed)", order.crm_gift_stock_warning)
        warehouse = order.warehouse_id
        self.env["stock.quant"]._update_available_quantity(self.pans, warehouse.lot_stock_id, 1.0)
        order.invalidate_recordset(["crm_gift_stock_warning"])
        self.pans.invalidate_recordset()
        self.assertFalse(self._quotation().crm_gift_stock_warning)

    def test_a_confirmed_order_carries_no_warning(self):
        order = self._quotation()
        order.action_confirm()
        self.assertFalse(order.crm_gift_stock_warning)
