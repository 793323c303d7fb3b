from odoo.exceptions import AccessError
from odoo.tests import HttpCase
from odoo.tests import tagged


@tagged("post_install", "-at_install")
class TestDemoStaff(HttpCase):
    """The demo store's staff and portal customer (README.md): each logs in with the login as
    password, works in the store only, and has the rights of the role and no more."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.store = cls.env.ref("crm_relationship.res_company_andina_demo", False)
        if not cls.store:
            cls.skipTest(cls, "the demo store is installed with the demo data only")

    def test_staff_log_in_and_work_in_the_store_only(self):
        for xmlid in (
            "crm_relationship.user_andina_salesperson_demo",
            "crm_relationship.user_andina_cashier_demo",
            "crm_relationship.user_andina_accountant_demo",
            "crm_relationship.user_andina_manager_demo",
            "crm_analytics.user_andina_analyst_demo",
            "crm_relationship.user_andina_portal_demo",
        ):
            user = self.env.ref(xmlid)
            with self.subTest(login=user.login):
                self.assertEqual(user.company_ids, self.store)
                self.authenticate(user.login, user.login)
                self.assertEqual(self.session.uid, user.id)

    def test_each_role_reads_what_it_needs_and_no_more(self):
        salesperson = self.env.ref("crm_relationship.user_andina_salesperson_demo")
        cashier = self.env.ref("crm_relationship.user_andina_cashier_demo")
        accountant = self.env.ref("crm_relationship.user_andina_accountant_demo")
        analyst = self.env.ref("crm_analytics.user_andina_analyst_demo")
        store_orders = self.env["sale.order"].search_count(
            [("company_id", "=", self.store.id), ("state", "=", "sale")]
        )
        store_ledger = self.env["crm.loyalty.ledger"].search_count(
            [("company_id", "=", self.store.id)]
        )
        self.assertGreater(store_orders, 100)
        self.assertGreater(store_ledger, 100)
        # the store's salespeople serve every customer: all its orders
        self.assertEqual(
            self.env["sale.order"].with_user(salesperson).search_count([("state", "=", "sale")]),
            store_orders,
        )
        with self.assertRaises(AccessError):
            self.env["crm.loyalty.ledger"].with_user(salesperson).search_count([])
        # the cashier redeems at the till: reads the store's points ledger
        self.assertEqual(
            self.env["crm.loyalty.ledger"].with_user(cashier).search_count([]), store_ledger
        )
        # the accountant reads the ledger behind the liability, not the customer facts
        self.assertEqual(
            self.env["crm.loyalty.ledger"].with_user(accountant).search_count([]), store_ledger
        )
        with self.assertRaises(AccessError):
            self.env["crm.customer.metric"].with_user(accountant).search_count([])
        # the analyst reads the store's scored customers
        self.assertEqual(
            self.env["crm.customer.score"].with_user(analyst).search_count([]),
            self.env["crm.customer.score"].search_count([("company_id", "=", self.store.id)]),
        )

    def test_the_portal_customer_sees_her_points(self):
        martina = self.env.ref("crm_relationship.user_andina_portal_demo")
        [card] = self.env["loyalty.card"].search(
            [("partner_id", "=", martina.partner_id.id), ("company_id", "=", self.store.id)]
        )
        self.authenticate("martina", "martina")
        page = self.url_open("/my/points")
        self.assertEqual(page.status_code, 200)
        self.assertIn(card.code, page.text)
