from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase
from odoo.tests import new_test_user
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

    def test_grouped_tier_list_sums_neither_thresholds_nor_multipliers(self):
        """The list grouped by program asks the aggregates the web client derives from
        fields_get (relational_model/utils.js): a sum of thresholds or factors is no total."""
        Tier = self.env["crm.loyalty.tier"]
        Tier.create({"name": "Silver", "program_id": self.program.id, "threshold": 250000})
        Tier.create(
            {"name": "Gold", "program_id": self.program.id, "threshold": 1500000, "multiplier": 2}
        )
        user = new_test_user(
            self.env, login="loy_tier_reader", groups="base.group_user,crm_loyalty.group_user"
        )
        Tier = Tier.with_user(user)
        fields_info = Tier.fields_get(["threshold", "multiplier"], ["type", "aggregator"])
        aggregates = [
            f"{name}:{info['aggregator']}"
            for name, info in fields_info.items()
            if info.get("aggregator")
        ]
        self.assertEqual(aggregates, [])
        result = Tier.web_read_group(
            [("program_id", "=", self.program.id)], ["program_id"], aggregates
        )
        [group] = result["groups"]
        self.assertEqual(group["__count"], 2)
        self.assertFalse({"threshold:sum", "multiplier:sum"} & set(group))

    def test_a_tier_change_keeps_the_basis_it_was_counted_on(self):
        """A change recorded while the tiers counted the amount spent still reads as an amount
        after the program switches to points (and the other way round)."""
        self.program.crm_tier_basis = "amount"
        tier = self.env["crm.loyalty.tier"].create(
            {"name": "Plata", "program_id": self.program.id, "threshold": 250000}
        )
        partner = self.env["res.partner"].create({"name": "Cliente Base"})
        card = self.env["loyalty.card"].create(
            {"program_id": self.program.id, "partner_id": partner.id}
        )
        History = self.env["crm.loyalty.tier.history"]
        spent = History.create(
            {
                "card_id": card.id,
                "new_tier_id": tier.id,
                "reason": "upgrade",
                "qualifying_value": 251250,
            }
        )
        self.assertEqual((spent.tier_basis, tier.tier_basis), ("amount", "amount"))
        self.program.crm_tier_basis = "points"
        earned = History.create(
            {
                "card_id": card.id,
                "new_tier_id": tier.id,
                "reason": "upgrade",
                "qualifying_value": 6250,
            }
        )
        self.env.invalidate_all()
        self.assertEqual(spent.tier_basis, "amount")
        self.assertEqual(earned.tier_basis, "points")
        self.assertEqual(tier.tier_basis, "points")
