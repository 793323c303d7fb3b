from psycopg2 import IntegrityError

from odoo.tests import TransactionCase
from odoo.tests import tagged
from odoo.tools import mute_logger


@tagged("post_install", "-at_install")
class TestCrmCustomerSegment(TransactionCase):
    def test_segments_are_ordered_by_sequence(self):
        Segment = self.env["crm.customer.segment"]
        late = Segment.create({"name": "Late payer", "sequence": 40})
        premium = Segment.create({"name": "Test Gold", "sequence": 5})
        found = Segment.search([("id", "in", (late | premium).ids)])
        self.assertEqual(found.ids, [premium.id, late.id])

    def test_segment_name_is_unique_per_company(self):
        Segment = self.env["crm.customer.segment"]
        Segment.create({"name": "Frequent"})
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            Segment.create({"name": "Frequent"})
