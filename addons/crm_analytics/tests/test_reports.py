from collections import defaultdict

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time
from lxml import etree

from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from .common import TODAY
from .common import CrmAnalyticsCase


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestReports(CrmAnalyticsCase):
    def _company_domain(self):
        return [("company_id", "=", self.company.id)]

    def test_cohort_sizes_add_up_to_the_customers(self):
        rows = self.env["crm.report.cohort"].search(
            [*self._company_domain(), ("months_since", "=", 0)]
        )
        self.assertEqual(sum(rows.mapped("customers")), len(self.customers))
        self.assertTrue(all(r.retention_rate == 100 for r in rows))

    def test_every_month_of_a_cohort_is_a_row_even_without_a_customer_back(self):
        """A month in which nobody of a cohort bought is a 0 % cell, so that a total or an
        average over cohorts counts it (the pivot's total said 20.9 % for month 1 where the
        cohorts averaged 13.9 %)."""
        rows = self.env["crm.report.cohort"].with_user(self.analyst).search(self._company_domain())
        months = defaultdict(list)
        for row in rows:
            months[row.cohort_month].append(row.months_since)
        last = max(row.cohort_month + relativedelta(months=row.months_since) for row in rows)
        for cohort, since in months.items():
            span = (last.year - cohort.year) * 12 + last.month - cohort.month
            self.assertEqual(sorted(since), list(range(span + 1)), cohort)
        empty = rows.filtered(lambda row: not row.customers)
        self.assertTrue(empty)
        self.assertEqual(set(empty.mapped("retention_rate")), {0.0})

    def test_retention_counts_are_consistent(self):
        rows = self.env["crm.report.retention"].search(self._company_domain())
        self.assertEqual(sum(rows.mapped("new_customers")), len(self.customers))
        for row in rows:
            self.assertEqual(row.retained_customers + row.churned_customers, row.base_customers)
            self.assertLessEqual(row.churn_rate, 100)

    def test_one_time_buyer_churns_twelve_months_after_the_purchase(self):
        customer = self.env["res.partner"].create({"name": "Cliente Único Test"})
        company = self.env["res.company"].create({"name": "Tienda Churn Test"})
        for date in ("2024-01-15", "2025-03-10"):
            self.env["sale.order"].create(
                {
                    "partner_id": customer.id,
                    "company_id": company.id,
                    "state": "sale",
                    "date_order": date,
                    "order_line": [(0, 0, {"product_id": self.products[0].id})],
                }
            )
        rows = self.env["crm.report.retention"].search([("company_id", "=", company.id)])
        churn = {str(r.month): r.churned_customers for r in rows if r.churned_customers}
        self.assertEqual(churn, {"2025-01-01": 1})
        base = {str(r.month): r.base_customers for r in rows}
        self.assertEqual((base["2024-01-01"], base["2024-12-01"], base["2025-03-01"]), (0, 1, 0))

    def test_revenue_per_segment_matches_the_orders(self):
        self.env["crm.analytics.scheduler"]._refresh_company(self.company)
        groups = self.env["crm.report.segment.revenue"]._read_group(
            self._company_domain(), ["rfm_segment"], ["revenue:sum"]
        )
        total = sum(revenue for _segment, revenue in groups)
        self.assertAlmostEqual(total, sum(self.orders.mapped("amount_untaxed")), places=0)
        self.assertNotIn(False, [segment for segment, _revenue in groups])

    def test_loyalty_contribution_splits_orders_with_and_without_program(self):
        rows = self.env["crm.report.loyalty.contribution"].search(self._company_domain())
        self.assertEqual(len(rows), len(self.orders))
        self.assertEqual(set(rows.mapped("with_program")), {"without"})
        self.assertEqual(rows.order_id, self.orders)
        for row in rows:
            self.assertAlmostEqual(row.contribution, row.margin)

    def test_loyalty_contribution_reads_the_ledger_per_program(self):
        """Rewards, points (pending included, net of reversals) and the orders' split come
        from the points ledger, the same figures as the program's contribution margin."""
        program = self.env["loyalty.program"].create(
            {
                "name": "Club Tienda Test",
                "program_type": "loyalty",
                "company_id": self.company.id,
                "reward_ids": [(0, 0, {"reward_type": "discount", "discount": 10})],
            }
        )
        reward = program.reward_ids[:1]
        rewarded, earning = self.orders[0], self.orders[1]
        card = self.env["loyalty.card"].create(
            {"program_id": program.id, "partner_id": rewarded.partner_id.id, "points": 0}
        )
        Ledger = self.env["crm.loyalty.ledger"]
        lot = Ledger._post_entry(card, "earn", 50, source=earning, state="pending")
        Ledger._post_entry(card, "earn", 200, source=rewarded)
        Ledger._post_pending_reversal(
            lot, 10, {"origin_id": lot.id, "reason": "devolución", "amount": 0, "source": earning}
        )
        Ledger._post_entry(card, "redeem", -100, source=rewarded)
        card._crm_sync_points()
        self.env["sale.order.line"].create(
            {
                "order_id": rewarded.id,
                "name": "Descuento Club Test",
                "product_id": reward.discount_line_product_id.id,
                "reward_id": reward.id,
                "coupon_id": card.id,
                "price_unit": -2500.0,
                "product_uom_qty": 1.0,
            }
        )
        rows = self.env["crm.report.loyalty.contribution"].search(
            [*self._company_domain(), ("with_program", "=", "with")]
        )
        self.assertEqual(rows.program_id, program)
        by_order = {row.order_id: row for row in rows}
        self.assertEqual(set(by_order), {rewarded, earning})
        self.assertAlmostEqual(by_order[rewarded].reward_amount, 2500.0)
        self.assertEqual(by_order[rewarded].points_earned, 200)
        self.assertEqual(by_order[earning].points_earned, 40)
        self.assertAlmostEqual(
            by_order[rewarded].contribution,
            by_order[rewarded].margin - by_order[rewarded].reward_amount,
        )
        program_rows = self.env["crm.loyalty.contribution"].search(
            [("program_id", "=", program.id)]
        )
        self.assertAlmostEqual(
            sum(program_rows.mapped("contribution")), sum(rows.mapped("contribution"))
        )
        without = self.env["crm.report.loyalty.contribution"].search(
            [*self._company_domain(), ("with_program", "=", "without")]
        )
        self.assertEqual(len(without), len(self.orders) - 2)

    def test_average_clv_trend_has_one_point_per_fit(self):
        self.env["crm.analytics.scheduler"]._refresh_company(self.company)
        trend = self.env["crm.clv.model"]._read_group(
            [*self._company_domain(), ("state", "=", "done")], ["fit_date:month"], ["avg_clv:avg"]
        )
        self.assertEqual(len(trend), 1)
        self.assertGreater(trend[0][1], 0)

    def _segments_and_moves(self):
        Segment = self.env["crm.customer.segment"].with_company(self.company)
        gold, silver = Segment.create(
            [
                {"name": "Oro Test", "company_id": self.company.id},
                {"name": "Plata Test", "company_id": self.company.id},
            ]
        )
        History = self.env["crm.customer.segment.history"]
        History.create(
            [
                {
                    "partner_id": partner.id,
                    "company_id": self.company.id,
                    "reason": "rule",
                    "old_segment_id": False,
                    "new_segment_id": silver.id,
                    "date": "2024-01-01",
                }
                for partner in self.customers[:5]
            ]
            + [
                {
                    "partner_id": partner.id,
                    "company_id": self.company.id,
                    "reason": "rule",
                    "old_segment_id": silver.id,
                    "new_segment_id": gold.id,
                    "date": "2025-06-01",
                }
                for partner in self.customers[:3]
            ]
        )
        return gold, silver

    def test_migration_matrix_counts_moves_between_segments(self):
        gold, silver = self._segments_and_moves()
        # the migration matrix is the segment history's pivot (menu Segment Migration)
        matrix = self.env["crm.customer.segment.history"]._read_group(
            self._company_domain(), ["old_segment_id", "new_segment_id"], ["__count"]
        )
        cells = {(old.id, new.id): count for old, new, count in matrix}
        self.assertEqual(cells, {(False, silver.id): 5, (silver.id, gold.id): 3})

    def test_revenue_follows_the_segment_valid_at_the_order_date(self):
        gold, silver = self._segments_and_moves()
        customer = self.customers[0]
        rows = self.env["crm.report.segment.revenue"].search(
            [*self._company_domain(), ("partner_id", "=", customer.id)]
        )
        for row in rows:
            expected = gold if str(row.date) >= "2025-06-01" else silver
            if str(row.date) >= "2024-01-01":
                self.assertEqual(row.segment_id, expected, row.date)

    def test_retention_opens_without_months_that_have_no_rate(self):
        """The first month has no customer at its start, so no rate; the graph would draw it
        at 0 %: the menu opens with the filter that leaves such months out."""
        action = self.env.ref("crm_analytics.crm_report_retention_action")
        context = safe_eval(action.context)
        defaults = [
            key[len("search_default_") :] for key in context if key.startswith("search_default_")
        ]
        arch = etree.fromstring(
            self.env["crm.report.retention"].get_view(view_type="search")["arch"]
        )
        Report = self.env["crm.report.retention"].with_user(self.analyst)
        domain = []
        for node in arch.iter("filter"):
            if node.get("name") in defaults:
                domain += safe_eval(node.get("domain"))
        everything = Report.search(self._company_domain())
        self.assertTrue(everything.filtered(lambda row: not row.base_customers))
        shown = Report.search(self._company_domain() + domain)
        self.assertTrue(shown)
        self.assertFalse(shown.filtered(lambda row: not row.base_customers))


@tagged("post_install", "-at_install")
class TestReportGraphs(CrmAnalyticsCase):
    def test_no_graph_stacks_an_average(self):
        """A rate or an average stacked over groups sums to nothing meaningful (retention of
        four cohorts drawn up to 400 %): every graph of the suite with such a measure draws
        each group on its own."""
        modules = (
            self.env["ir.module.module"]
            .search([("state", "=", "installed"), ("name", "=like", "crm\\_%")])
            .mapped("name")
        )
        data = self.env["ir.model.data"].search(
            [("model", "=", "ir.ui.view"), ("module", "in", modules)]
        )
        views = (
            self.env["ir.ui.view"]
            .browse(data.mapped("res_id"))
            .filtered(lambda view: view.type == "graph")
        )
        self.assertTrue(views)
        averaged = []
        for view in views:
            arch = etree.fromstring(self.env[view.model].get_view(view.id)["arch"])
            fields = self.env[view.model]._fields
            measures = [
                node.get("name")
                for node in arch.iter("field")
                if node.get("type") == "measure" and fields[node.get("name")].aggregator == "avg"
            ]
            if measures:
                averaged.append(view.xml_id)
                self.assertEqual(arch.get("stacked"), "0", f"{view.xml_id} stacks {measures}")
        self.assertIn("crm_analytics.crm_report_cohort_view_graph", averaged)

    def test_retention_graph_draws_retention(self):
        """Odoo draws the last measure of a graph view: retention, churn being in the menu."""
        view = self.env.ref("crm_analytics.crm_report_retention_view_graph")
        arch = etree.fromstring(self.env["crm.report.retention"].get_view(view.id)["arch"])
        measures = [
            node.get("name") for node in arch.iter("field") if node.get("type") == "measure"
        ]
        self.assertEqual(measures[-1], "retention_rate")
        self.assertIn("churn_rate", measures)
