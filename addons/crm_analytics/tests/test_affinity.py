from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import TODAY
from .common import CrmAnalyticsCase


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestAffinity(CrmAnalyticsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["crm.analytics.scheduler"]._refresh_company(cls.company)

    def _rule(self, left, right):
        return self.env["crm.product.affinity"].search(
            [
                ("company_id", "=", self.company.id),
                ("product_id", "=", left.id),
                ("related_product_id", "=", right.id),
            ]
        )

    def test_support_confidence_and_lift_match_a_count_by_hand(self):
        p1, p2 = self.products[0], self.products[1]
        baskets = [set(order.order_line.product_id.ids) for order in self.orders]
        n = len(baskets)
        n1 = sum(p1.id in b for b in baskets)
        n2 = sum(p2.id in b for b in baskets)
        both = sum({p1.id, p2.id} <= b for b in baskets)
        rule = self._rule(p1, p2)
        self.assertEqual(rule.pair_count, both)
        self.assertAlmostEqual(rule.support, both / n, places=5)
        self.assertAlmostEqual(rule.confidence, both / n1, places=3)
        self.assertAlmostEqual(rule.lift, both * n / (n1 * n2), places=2)

    def test_pairs_below_minimum_support_are_dropped(self):
        self.company.crm_affinity_min_support = 0.9
        model = self.env["crm.product.affinity"]
        model._refresh(self.company, TODAY.date().replace(year=2024), TODAY.date())
        self.assertFalse(model.search([("company_id", "=", self.company.id)]))

    def test_category_pairs_are_computed(self):
        rule = self.env["crm.category.affinity"].search(
            [
                ("company_id", "=", self.company.id),
                ("categ_id", "=", self.categ_home.id),
                ("related_categ_id", "=", self.categ_electro.id),
            ]
        )
        self.assertEqual(len(rule), 1)
        self.assertGreater(rule.pair_count, 0)

    def test_products_without_category_are_left_out_of_category_models(self):
        # Odoo 19 lets a product have no category: its lines count for product pairs only.
        self.products[2:].product_tmpl_id.categ_id = False
        self.env["crm.analytics.scheduler"]._refresh_company(self.company)
        categories = self.env["crm.category.affinity"].search(
            [("company_id", "=", self.company.id)]
        )
        self.assertEqual(
            set(categories.categ_id.ids) | set(categories.related_categ_id.ids),
            set(),
            "only Hogar is left: a category cannot pair with itself",
        )
        propensities = self.env["crm.customer.propensity"].search(
            [("company_id", "=", self.company.id)]
        )
        self.assertTrue(propensities)
        self.assertEqual(set(propensities.categ_id.ids), {self.categ_home.id})
        self.assertTrue(self._rule(self.products[0], self.products[2]))

    def test_product_form_lists_what_its_buyers_also_buy(self):
        template = self.products[0].product_tmpl_id.with_user(self.analyst)
        self.assertIn(self.products[1], template.crm_affinity_ids.related_product_id)

    def test_next_best_offer_is_not_yet_bought_and_has_lift(self):
        customer = self.env["res.partner"].create({"name": "Cliente Nuevo Test"})
        self.env["sale.order"].create(
            self._order_vals(customer, TODAY.replace(day=1), [self.products[0]])
        )
        offers = self.env["crm.product.affinity"]._next_offers(self.company, customer.ids)
        self.assertTrue(offers[customer.id])
        self.assertNotIn(self.products[0].id, offers[customer.id])
        best = self._rule(
            self.products[0], self.env["product.product"].browse(offers[customer.id][0])
        )
        self.assertGreater(best.lift, 1)

    def test_products_not_for_sale_are_never_offered(self):
        customer = self.env["res.partner"].create({"name": "Cliente Oferta Test"})
        self.env["sale.order"].create(
            self._order_vals(customer, TODAY.replace(day=1), [self.products[0]])
        )
        self.products[1:].write({"sale_ok": False})
        offers = self.env["crm.product.affinity"]._next_offers(self.company, customer.ids)
        self.assertFalse(offers.get(customer.id))

    def test_quotation_suggests_offers_and_adds_one_in_a_click(self):
        customer = self.env["res.partner"].create({"name": "Cliente Cotización Test"})
        self.env["sale.order"].create(
            self._order_vals(customer, TODAY.replace(day=1), [self.products[0]])
        )
        quotation = (
            self.env["sale.order"]
            .with_user(self.analyst)
            .create({"partner_id": customer.id, "company_id": self.company.id})
        )
        suggested = quotation.crm_suggested_product_ids
        self.assertTrue(suggested)
        suggested[0].with_context(crm_order_id=quotation.id).action_crm_add_to_order()
        self.assertIn(suggested[0], quotation.order_line.product_id)
        quotation.invalidate_recordset(["crm_suggested_product_ids"])
        self.assertNotIn(suggested[0], quotation.crm_suggested_product_ids)

    def test_suggestion_cannot_be_added_to_a_confirmed_order(self):
        order = self.orders[0]
        with self.assertRaisesRegex(UserError, "only be added to quotations"):
            self.products[0].with_context(crm_order_id=order.id).action_crm_add_to_order()

    def test_new_opportunity_takes_the_priority_of_the_service_level(self):
        best = self.env["crm.customer.score"].search(
            [("company_id", "=", self.company.id)], order="clv desc", limit=1
        )
        self.env["crm.service.level"].create(
            {
                "name": "Preferente Test",
                "priority": "3",
                "min_clv": 0,
                "sequence": 1,
                "company_id": self.company.id,
            }
        )
        lead = self.env["crm.lead"].create(
            {
                "name": "Oportunidad Test",
                "type": "opportunity",
                "partner_id": best.partner_id.id,
                "company_id": self.company.id,
            }
        )
        self.assertEqual(lead.priority, "3")
        self.assertEqual(lead.crm_service_level_id.name, "Preferente Test")

    def test_explicit_priority_of_an_opportunity_is_kept(self):
        best = self.env["crm.customer.score"].search(
            [("company_id", "=", self.company.id)], limit=1
        )
        self.env["crm.service.level"].create(
            {"name": "Preferente Test", "priority": "3", "company_id": self.company.id}
        )
        lead = self.env["crm.lead"].create(
            {
                "name": "Oportunidad Manual Test",
                "type": "opportunity",
                "priority": "1",
                "partner_id": best.partner_id.id,
                "company_id": self.company.id,
            }
        )
        self.assertEqual(lead.priority, "1")

    def test_service_level_can_require_a_customer_segment(self):
        score = self.env["crm.customer.score"].search(
            [("company_id", "=", self.company.id)], limit=1
        )
        segment = self.env["crm.customer.segment"].create(
            {"name": "Segmento Nivel Test", "company_id": self.company.id}
        )
        Level = self.env["crm.service.level"]
        gated = Level.create(
            {
                "name": "Solo Segmento",
                "sequence": 1,
                "segment_id": segment.id,
                "company_id": self.company.id,
            }
        )
        base = Level.create({"name": "Base", "sequence": 2, "company_id": self.company.id})
        self.assertEqual(score.service_level_id, base)
        self.env["crm.customer.metric"].create(
            {
                "partner_id": score.partner_id.id,
                "company_id": self.company.id,
                "segment_id": segment.id,
            }
        )
        score.invalidate_recordset(["service_level_id"])
        self.assertEqual(score.service_level_id, gated)

    def test_service_level_follows_clv_and_rfm_segment(self):
        score = self.env["crm.customer.score"].search(
            [("company_id", "=", self.company.id)], order="clv desc", limit=1
        )
        Level = self.env["crm.service.level"]
        other_segment = "lost" if score.rfm_segment != "lost" else "champions"
        Level.create(
            {
                "name": "Solo Otro Segmento",
                "sequence": 1,
                "rfm_segment": other_segment,
                "company_id": self.company.id,
            }
        )
        too_high = Level.create(
            {
                "name": "Muy Alto",
                "sequence": 2,
                "min_clv": score.clv + 1,
                "company_id": self.company.id,
            }
        )
        base = Level.create({"name": "Base", "sequence": 3, "company_id": self.company.id})
        score.invalidate_recordset(["service_level_id"])
        self.assertEqual(score.service_level_id, base)
        self.assertNotEqual(score.service_level_id, too_high)
