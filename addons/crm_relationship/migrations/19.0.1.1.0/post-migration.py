from odoo import SUPERUSER_ID
from odoo import api


def migrate(cr, version):
    """Segments saved before rules had an author run with the rights of whoever saved them
    last, so that their rules on orders or invoices keep classifying after the update."""
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["crm.customer.segment"].with_context(active_test=False).search(
        [("rule_user_id", "=", False)]
    )._set_rule_author_from_last_writer()
