import random
from datetime import datetime
from datetime import timedelta

from odoo.tests import TransactionCase
from odoo.tests import new_test_user

TODAY = datetime(2026, 6, 30, 12, 0)


class CrmAnalyticsCase(TransactionCase):
    """A company of its own with 40 customers and about 150 confirmed orders over two years.

    Products P1 and P2 (category Hogar) are usually bought together; P4-P6 are in Electro.
    Customers 0-9 buy often and recently, 30-39 bought once, long ago.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env["res.company"].create({"name": "Tienda Analítica Test"})
        cls.env = cls.env(context=dict(cls.env.context, allowed_company_ids=[cls.company.id]))
        cls.manager = new_test_user(
            cls.env,
            login="ana_manager",
            groups="sales_team.group_sale_salesman,crm_analytics.group_manager",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.analyst = new_test_user(
            cls.env,
            login="ana_user",
            groups="sales_team.group_sale_salesman,crm_analytics.group_user",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        Category = cls.env["product.category"]
        cls.categ_home = Category.create({"name": "Hogar Test"})
        cls.categ_electro = Category.create({"name": "Electro Test"})
        cls.products = cls.env["product.product"].create(
            [
                {
                    "name": f"Producto Test P{i}",
                    "categ_id": (cls.categ_home if i <= 3 else cls.categ_electro).id,
                    "list_price": 10000.0 * i,
                    "standard_price": 6000.0 * i,
                    "sale_ok": True,
                }
                for i in range(1, 7)
            ]
        )
        cls.customers = cls.env["res.partner"].create(
            [{"name": f"Cliente Test {i:02d}", "is_company": True} for i in range(40)]
        )
        rng = random.Random(7)
        vals_list = []
        for index, customer in enumerate(cls.customers):
            if index < 10:
                days = sorted(rng.sample(range(1, 700), 8))
            elif index < 30:
                days = sorted(rng.sample(range(60, 700), rng.randint(1, 4)))
            else:
                days = [rng.randint(500, 700)]
            for day in days:
                lines = [cls.products[0], cls.products[1]] if rng.random() < 0.6 else []
                lines += rng.sample(list(cls.products[2:]), rng.randint(1, 2))
                vals_list.append(cls._order_vals(customer, TODAY - timedelta(days=day), lines))
        cls.orders = cls.env["sale.order"].create(vals_list)

    @classmethod
    def _order_vals(cls, customer, date, products):
        return {
            "partner_id": customer.id,
            "company_id": cls.company.id,
            "state": "sale",
            "date_order": date,
            "order_line": [
                (0, 0, {"product_id": product.id, "product_uom_qty": 1.0}) for product in products
            ],
        }

    @classmethod
    def _setup_roles(cls):
        """A second company (B) and a user of each role; logins are their passwords.

        ``manager`` (from setUpClass) is limited to the first company; ``manager_ab`` manages
        both. The salespeople have Sales / User rights only, no analytics group; the portal
        user is a contact of customer 05.
        """
        cls.company_b = cls.env["res.company"].create({"name": "Otra Tienda Analítica Test"})
        both = cls.company | cls.company_b

        def user(login, groups, companies=cls.company, **values):
            return new_test_user(
                cls.env,
                login=login,
                groups=groups,
                company_id=companies[0].id,
                company_ids=companies.ids,
                **values,
            )

        cls.manager_ab = user("ana_manager_ab", "crm_analytics.group_manager", both)
        cls.salesperson = user("ana_salesperson", "sales_team.group_sale_salesman")
        cls.other_salesperson = user("ana_other_salesperson", "sales_team.group_sale_salesman")
        cls.portal_contact = cls.env["res.partner"].create(
            {"name": "Contacto Portal Test", "parent_id": cls.customers[5].id}
        )
        cls.portal_user = user(
            "ana_portal_user", "base.group_portal", partner_id=cls.portal_contact.id
        )

    @classmethod
    def _score_of(cls, partner):
        return cls.env["crm.customer.score"].search(
            [("partner_id", "=", partner.id), ("company_id", "=", cls.company.id)]
        )
