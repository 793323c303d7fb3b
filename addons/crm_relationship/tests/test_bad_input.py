from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import CrmRelationshipCommon


@tagged("post_install", "-at_install")
class TestBadInput(CrmRelationshipCommon):
    """Wrong criteria or mixed companies raise a clear ValidationError and save nothing."""

    def _assert_not_saved(self, name, domain, message):
        with self.assertRaises(ValidationError) as caught:
            self._segment(name, domain)
        self.assertIn(message, str(caught.exception))
        self.assertFalse(self.Segment.search([("name", "=", name)]))

    def test_criteria_that_do_not_parse_are_refused(self):
        self._assert_not_saved("Test Broken", "[('revenue_12m', '>', ", "not a valid rule")

    def test_criteria_naming_an_unknown_field_are_refused(self):
        self._assert_not_saved("Test Unknown", "[('shoe_size', '>', 40)]", "not a valid rule")

    def test_negative_threshold_on_a_count_is_refused(self):
        self._assert_not_saved("Test Negative", "[('order_count', '>', -1)]", "negative")

    def test_editing_a_segment_into_bad_criteria_keeps_the_old_ones(self):
        segment = self._segment("Test Editable", "[('order_count', '>', 2)]")
        with self.assertRaises(ValidationError):
            segment.domain = "[('avg_days_late', '>=', -5)]"
        segment.invalidate_recordset()
        self.assertEqual(segment.domain, "[('order_count', '>', 2)]")

    def test_negative_revenue_threshold_is_allowed(self):
        # credit notes can leave revenue negative: a rule on it is meaningful
        segment = self._segment("Test Refunders", "[('revenue_12m', '<', -1)]")
        self.assertTrue(segment.id)

    def test_pinning_to_another_companys_segment_is_refused(self):
        other_company = self.setup_other_company(name="Sucursal Sur Test")["company"]
        foreign = self.Segment.create({"name": "Test Foreign", "company_id": other_company.id})
        with self.assertRaises(ValidationError) as caught:
            self.env["crm.segment.pin.wizard"].create(
                {
                    "partner_id": self.customer.id,
                    "company_id": self.company.id,
                    "segment_id": foreign.id,
                    "reason": "mezcla",
                }
            )
        self.assertIn("belongs to", str(caught.exception))

    def test_metric_cannot_point_to_another_companys_segment(self):
        other_company = self.setup_other_company(name="Sucursal Norte Test")["company"]
        foreign = self.Segment.create({"name": "Test Foreign 2", "company_id": other_company.id})
        metric = self._refresh(self.customer)
        with self.assertRaises(ValidationError) as caught:
            metric.sudo().write({"pinned_segment_id": foreign.id})
        self.assertIn("must belong to", str(caught.exception))
