from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import CrmRelationshipCommon


@tagged("post_install", "-at_install")
class TestAccess(CrmRelationshipCommon):
    """CRM users read, CRM managers configure and pin; companies stay apart."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.segment = cls.Segment.create({"name": "Test Visible", "domain": "[]"})
        cls.other_company = cls.setup_other_company(name="Filial Test")["company"]
        cls.foreign_segment = cls.Segment.create(
            {"name": "Test Hidden", "domain": "[]", "company_id": cls.other_company.id}
        )
        cls.Metric._refresh_metrics(cls.customer.ids, (cls.company | cls.other_company).ids)

    def test_crm_user_reads_metrics_and_segments(self):
        metric = self.Metric.with_user(self.crm_user).search(
            [("partner_id", "=", self.customer.id)]
        )
        self.assertEqual(metric.company_id, self.company)
        self.assertEqual(metric.segment_id.name, "Test Visible")

    def test_crm_user_cannot_configure_segments(self):
        with self.assertRaises(AccessError):
            self.Segment.with_user(self.crm_user).create({"name": "Test Not Allowed"})
        with self.assertRaises(AccessError):
            self.segment.with_user(self.crm_user).write({"domain": "[('order_count', '>', 1)]"})

    def test_crm_user_cannot_pin(self):
        with self.assertRaises(AccessError):
            self.env["crm.segment.pin.wizard"].with_user(self.crm_user).create(
                {"partner_id": self.customer.id, "segment_id": self.segment.id, "reason": "x"}
            )

    def test_pin_action_checks_the_manager_right(self):
        wizard = self.env["crm.segment.pin.wizard"].create(
            {"partner_id": self.customer.id, "segment_id": self.segment.id, "reason": "x"}
        )
        with self.assertRaises(UserError):
            wizard.with_user(self.crm_user).action_apply()

    def test_crm_manager_configures_segments(self):
        segment = self.Segment.with_user(self.crm_manager).create(
            {"name": "Test Manager Made", "domain": "[('order_count', '>=', 2)]"}
        )
        self.assertEqual(segment.company_id, self.company)

    def test_other_companys_metrics_and_segments_are_hidden(self):
        Metric = self.Metric.with_user(self.crm_user)
        self.assertEqual(
            Metric.search([("partner_id", "=", self.customer.id)]).company_id, self.company
        )
        self.assertNotIn(self.foreign_segment, self.Segment.with_user(self.crm_user).search([]))

    def test_metrics_are_kept_per_company(self):
        metrics = self.Metric.search([("partner_id", "=", self.customer.id)])
        self.assertEqual(metrics.company_id, self.company | self.other_company)
        foreign = metrics.filtered(lambda m: m.company_id == self.other_company)
        self.assertEqual(foreign.segment_id, self.foreign_segment)

    def test_employee_without_crm_group_cannot_read_metrics(self):
        employee = self.env["res.users"].create(
            {
                "name": "Vendedor Test",
                "login": "crm_rel_employee",
                "company_id": self.company.id,
                "company_ids": [self.company.id],
                "group_ids": [self.quick_ref("base.group_user").id],
            }
        )
        with self.assertRaises(AccessError):
            self.Metric.with_user(employee).search([])
