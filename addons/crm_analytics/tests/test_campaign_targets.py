from freezegun import freeze_time

from odoo.tests import new_test_user
from odoo.tests import tagged

from .common import TODAY
from .common import CrmAnalyticsCase


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestCampaignTargets(CrmAnalyticsCase):
    """An RFM group, a churn band and a loyalty tier are mailing targets in Email Marketing
    (where it is installed): the mailing's filter on contacts names them, the list is computed
    when the mailing is sent, and consent applies (crm_relationship_mass_mailing)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if "mailing.mailing" not in cls.env:
            cls.skipTest(cls, "Email Marketing (mass_mailing) is not installed")
        cls.env["crm.analytics.scheduler"]._refresh_company(cls.company)
        for index, customer in enumerate(cls.customers):
            customer.email = f"cliente{index:02d}.campana@example.com"
        cls.marketer = new_test_user(
            cls.env,
            login="ana_marketer",
            groups="mass_mailing.group_mass_mailing_user,crm_analytics.group_user,"
            "crm_loyalty.group_user",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )

    def _recipients(self, domain):
        mailing = (
            self.env["mailing.mailing"]
            .with_user(self.marketer)
            .create(
                {
                    "subject": "Te extrañamos",
                    "mailing_model_id": self.env.ref("base.model_res_partner").id,
                    "mailing_domain": repr(domain),
                }
            )
        )
        return self.env["res.partner"].browse(mailing._get_recipients())

    def test_an_rfm_group_and_a_churn_band_are_targets(self):
        scores = self.env["crm.customer.score"].search([("company_id", "=", self.company.id)])
        for field, partner_field in (
            ("rfm_segment", "crm_rfm_segment"),
            ("churn_band", "crm_churn_band"),
        ):
            value = scores[:1][field]
            expected = scores.filtered(lambda score, f=field, v=value: score[f] == v).partner_id
            with self.subTest(field=field, value=value):
                self.assertTrue(expected)
                recipients = self._recipients([(partner_field, "=", value)])
                self.assertEqual(recipients, expected)

    def test_the_target_is_computed_when_sent_and_consent_applies(self):
        scores = self.env["crm.customer.score"].search([("company_id", "=", self.company.id)])
        value = scores[:1].rfm_segment
        members = scores.filtered(lambda score: score.rfm_segment == value).partner_id
        opted_out = members[:1]
        self.env["crm.consent"]._set_consent(opted_out, "email", False, "portal")
        reachable = members._crm_can_contact("email")
        self.assertEqual(reachable, members - opted_out)
        # a customer moved into the group after the mailing was written is in it when sent
        newcomer = (self.customers - members)[:1]
        newcomer.crm_score_id.rfm_segment = value
        self.assertIn(newcomer, self._recipients([("crm_rfm_segment", "=", value)]))

    def test_a_loyalty_tier_is_a_target(self):
        program = self.env["loyalty.program"].create(
            {"name": "Club Campaña Test", "program_type": "loyalty", "company_id": self.company.id}
        )
        gold = self.env["crm.loyalty.tier"].create(
            {"name": "Oro Campaña", "program_id": program.id, "threshold": 0, "sequence": 1}
        )
        holders = self.customers[:3]
        cards = self.env["loyalty.card"].create(
            [{"program_id": program.id, "partner_id": partner.id} for partner in holders]
        )
        cards[:2].write({"crm_tier_id": gold.id})
        recipients = self._recipients([("crm_loyalty_card_ids.crm_tier_id", "=", gold.id)])
        self.assertEqual(recipients, holders[:2])
