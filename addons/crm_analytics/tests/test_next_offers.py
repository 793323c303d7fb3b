from unittest.mock import patch

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import new_test_user
from odoo.tests import tagged

from odoo.addons.crm_analytics.models import crm_analytics_scheduler

from .common import TODAY
from .common import CrmAnalyticsCase


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestNextOffers(CrmAnalyticsCase):
    """Next best offers from rules set by hand on products Q1-Q9 (none of the base data).

    The buyer bought Q1 and Q2. Q3 has the best lift of one rule (2.0, from Q1) and the best
    confidence of another (0.9, from Q2): it comes before Q4 (2.0, 0.85), which ties with Q5
    (2.0, 0.85) and comes first by its lower id. Q6 (archived), Q7 (not for sale) and Q8 (a
    product of company B) have the highest lift and are never offered; Q9 has a lift below 1
    here. The complete customer bought Q1-Q5: every candidate, nothing to offer. In company
    B the buyer bought Q1 and Q3, and B's only rule leads from Q1 to Q9.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.env["res.company"].create({"name": "Tienda Ofertas B Test"})
        cls.q = cls.env["product.product"].create(
            [
                {"name": f"Oferta Test Q{i}", "sale_ok": True, "list_price": 1000.0 * i}
                for i in range(1, 10)
            ]
        )
        cls.q[5].active = False
        cls.q[6].sale_ok = False
        cls.q[7].product_tmpl_id.company_id = cls.company_b
        cls.buyer, cls.complete = cls.env["res.partner"].create(
            [{"name": "Cliente Oferta Test"}, {"name": "Cliente Completo Test"}]
        )
        day = TODAY.replace(day=20)
        cls.env["sale.order"].create(
            [
                cls._order_vals(cls.buyer, day, cls.q[:2]),
                cls._order_vals(cls.complete, day, cls.q[:5]),
            ]
        )
        env_b = cls.env(context=dict(cls.env.context, allowed_company_ids=[cls.company_b.id]))
        env_b["sale.order"].create(
            {
                **cls._order_vals(cls.buyer, day, cls.q[0] | cls.q[2]),
                "company_id": cls.company_b.id,
            }
        )
        cls.fit = cls.env["crm.analytics.scheduler"]._prepare_company(cls.company)
        # the refresh mined rules from the orders above: replace those of the Q products
        Affinity = cls.env["crm.product.affinity"]
        Affinity.search(
            ["|", ("product_id", "in", cls.q.ids), ("related_product_id", "in", cls.q.ids)]
        ).unlink()
        q = cls.q
        rules = [
            (q[0], q[2], 2.0, 0.5),
            (q[1], q[2], 1.5, 0.9),
            (q[0], q[3], 2.0, 0.85),
            (q[1], q[4], 2.0, 0.85),
            (q[0], q[5], 9.0, 0.9),
            (q[0], q[6], 9.0, 0.9),
            (q[0], q[7], 9.0, 0.9),
            (q[1], q[8], 0.9, 0.9),
            (q[1], q[0], 5.0, 0.99),
        ]
        Affinity.create(
            [
                {
                    "company_id": cls.company.id,
                    "product_id": left.id,
                    "related_product_id": right.id,
                    "lift": lift,
                    "confidence": confidence,
                }
                for left, right, lift, confidence in rules
            ]
            + [
                {
                    "company_id": cls.company_b.id,
                    "product_id": q[0].id,
                    "related_product_id": q[8].id,
                    "lift": 3.0,
                    "confidence": 0.5,
                }
            ]
        )

    def _offers(self, partner, company=None, limit=5):
        offers = self.env["crm.product.affinity"]._next_offers(
            company or self.company, partner.ids, limit
        )
        return self.env["product.product"].browse(offers.get(partner.id, []))

    def test_offers_rank_by_best_lift_then_best_confidence_then_product_id(self):
        self.assertEqual(self._offers(self.buyer).ids, self.q[2:5].ids)
        self.assertEqual(self._offers(self.buyer, limit=1).ids, self.q[2].ids)

    def test_archived_not_for_sale_or_foreign_products_are_never_offered(self):
        offered = self._offers(self.buyer, limit=9)
        self.assertFalse(offered & (self.q[5] | self.q[6] | self.q[7] | self.q[8]))

    def test_a_customer_who_bought_every_candidate_gets_no_offer(self):
        self.assertFalse(self._offers(self.complete))

    def test_each_company_offers_from_its_own_rules_and_purchases(self):
        # in B: B's rule from Q1 only (A's rules from Q1 would offer Q3 and Q4)
        self.assertEqual(self._offers(self.buyer, self.company_b).ids, self.q[8].ids)
        # in A: Q3, bought in B, is still offered; B's rule to Q9 is not used
        self.assertEqual(self._offers(self.buyer)[0], self.q[2])

    def test_scores_store_the_best_offer_across_batches(self):
        scheduler = self.env["crm.analytics.scheduler"]
        buyers = sorted([*self.customers.ids, self.buyer.id, self.complete.id])
        # a batch ends on the buyer, the complete customer is in the next one
        size = buyers.index(self.buyer.id) + 1
        with patch.object(crm_analytics_scheduler, "SCORE_BATCH_SIZE", size):
            scheduler._score_all(self.fit)
        scores = self.env["crm.customer.score"].search([("company_id", "=", self.company.id)])
        partners = scores.partner_id
        self.assertEqual(set(partners.ids), set(buyers))
        by_partner = {score.partner_id: score for score in scores}
        self.assertEqual(by_partner[self.buyer].next_offer_product_id, self.q[2])
        self.assertFalse(by_partner[self.complete].next_offer_product_id)
        # every customer's stored offer is their best one, whatever their batch
        best = self.env["crm.product.affinity"]._next_offers(self.company, partners.ids, 1)
        for partner, score in by_partner.items():
            self.assertEqual(score.next_offer_product_id.id, best.get(partner.id, [False])[0])

    def test_salesperson_sees_the_offers_not_in_the_quotation(self):
        salesperson = new_test_user(
            self.env,
            login="ana_offer_salesperson",
            groups="sales_team.group_sale_salesman",
            company_id=self.company.id,
            company_ids=[self.company.id],
        )
        quotation = (
            self.env["sale.order"]
            .with_user(salesperson)
            .create(
                {
                    "partner_id": self.buyer.id,
                    "company_id": self.company.id,
                    "order_line": [(0, 0, {"product_id": self.q[3].id, "product_uom_qty": 1})],
                }
            )
        )
        self.assertEqual(quotation.crm_suggested_product_ids.ids, [self.q[2].id, self.q[4].id])
        # the customer's next best offers are for analytics users only
        with self.assertRaises(AccessError):
            self.buyer.with_user(salesperson).crm_next_offer_product_ids  # noqa: B018

    def test_analyst_sees_the_offers_on_the_customer(self):
        offers = self.buyer.with_user(self.analyst).crm_next_offer_product_ids
        self.assertEqual(offers.ids, self.q[2:5].ids)
