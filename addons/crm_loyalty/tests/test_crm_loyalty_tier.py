from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase
from odoo.tests import tagged


@tagged("post_install", "-at_install")
class TestCrmLoyaltyTier(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program = cls.env["loyalty.program"].create(
            {"name": "Store points", "program_type": "loyalty"}
        )

    def test_tiers_are_ordered_by_threshold(self):
        Tier = self.env["crm.loyalty.tier"]
        gold = Tier.create({"name": "Gold", "program_id": self.program.id, "threshold": 5000})
        classic = Tier.create({"name": "Classic", "program_id": self.program.id, "threshold": 0})
        self.assertEqual(
            self.program.env["crm.loyalty.tier"].search([("program_id", "=", self.program.id)]).ids,
            [classic.id, gold.id],
        )
        self.assertEqual(gold.company_id, self.program.company_id)

    def test_two_tiers_with_one_threshold_are_refused(self):
        Tier = self.env["crm.loyalty.tier"]
        Tier.create({"name": "Silver", "program_id": self.program.id, "threshold": 1000})
        with self.assertRaises(ValidationError):
            Tier.create({"name": "Silver bis", "program_id": self.program.id, "threshold": 1000})
