from odoo.tests import new_test_user
from odoo.tests import tagged

from odoo.addons.crm_relationship.tests.common import CrmRelationshipCommon


@tagged("post_install", "-at_install")
class TestCustomer360AllPanels(CrmRelationshipCommon):
    """With the three apps installed and a user who sees every panel (segments, loyalty,
    scores), the Customer 360° form still loads in a bounded number of queries, whatever the
    length of the customer's history."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.viewer = new_test_user(
            cls.env,
            login="crm_360_viewer",
            groups=(
                "sales_team.group_sale_salesman_all_leads,account.group_account_invoice,"
                "crm_relationship.group_user,crm_loyalty.group_manager,crm_analytics.group_user"
            ),
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        Partner = cls.env["res.partner"]
        cls.big = Partner.create({"name": "Gran Tienda 360 Test", "is_company": True})
        cls.small = Partner.create({"name": "Kiosco 360 Test", "is_company": True})
        program = cls.env["loyalty.program"].create(
            {"name": "Puntos 360 Test", "program_type": "loyalty", "company_id": cls.company.id}
        )
        cards = cls.env["loyalty.card"].create(
            [{"program_id": program.id, "partner_id": p.id} for p in (cls.big, cls.small)]
        )
        for day in range(1, 21):
            invoice = cls._invoice(cls.big, 1000 * day, f"2026-03-{day:02d}", "2026-04-30")
            if day % 2:
                cls._pay(invoice, 500 * day, f"2026-04-{day:02d}")
            cards[0].with_user(cls.viewer).crm_adjust_points(10 * day, f"Ajuste {day}")
        cls._invoice(cls.small, 1000, "2026-03-01", "2026-04-30")
        cards[1].with_user(cls.viewer).crm_adjust_points(10, "Ajuste")
        cls.Metric._refresh_metrics((cls.big | cls.small).ids, cls.company.ids)
        cls.form_fields = cls._partner_form_fields(cls.viewer)

    def _load_form(self, partner):
        return self._read_partner_form(partner.with_user(self.viewer), self.form_fields)

    def test_every_panel_is_on_the_form_of_a_user_of_the_three_apps(self):
        for name in ("crm_segment_id", "crm_loyalty_points", "crm_loyalty_card_ids"):
            self.assertIn(name, self.form_fields)
        data, _count = self._load_form(self.big)
        self.assertEqual(data["crm_loyalty_points"], sum(10 * d for d in range(1, 21)))
        self.assertAlmostEqual(data["crm_revenue_total"], sum(1000 * d for d in range(1, 21)))

    def test_query_count_is_bounded_and_does_not_grow_with_history(self):
        self._load_form(self.big)  # warm the registry-level caches
        self._load_form(self.small)
        _data, small = self._load_form(self.small)
        _data, big = self._load_form(self.big)
        self.assertEqual(small, big)
        self.assertLess(big, 60)

    def test_lifetime_value_is_shown_in_the_score_currency(self):
        """The web client writes a monetary field with the currency its field description names:
        the lifetime value reads in the score's currency, not as a bare number."""
        description = self.env["res.partner"].with_user(self.viewer).fields_get(["crm_clv"])
        self.assertEqual(description["crm_clv"]["currency_field"], "crm_score_currency_id")
        self.assertIn("crm_score_currency_id", self.form_fields)
