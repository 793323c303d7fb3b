from psycopg2 import IntegrityError

from odoo.tests import TransactionCase
from odoo.tests import tagged
from odoo.tools import mute_logger


@tagged("post_install", "-at_install")
class TestCrmServiceLevel(TransactionCase):
    def test_service_level_defaults_to_the_current_company(self):
        level = self.env["crm.service.level"].create({"name": "Gold", "min_clv": 500000})
        self.assertEqual(level.company_id, self.env.company)
        self.assertEqual(level.currency_id, self.env.company.currency_id)

    def test_negative_minimum_clv_is_refused(self):
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            self.env["crm.service.level"].create({"name": "Broken", "min_clv": -1})
