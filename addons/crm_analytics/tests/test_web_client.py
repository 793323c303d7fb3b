from odoo.tests import HttpCase
from odoo.tests import tagged


@tagged("post_install", "-at_install")
class TestWebClient(HttpCase):
    def test_each_app_of_the_suite_opens_from_the_main_menu(self):
        # The tour fails (and so this test) if any app is missing from the menu or its view errors.
        self.start_tour("/odoo", "crm_suite_smoke_tour", login="admin")
