from odoo import models


class MailComposeMessage(models.TransientModel):
    _inherit = "mail.compose.message"

    def _process_mail_values_state(self, mail_values_dict):
        """Consent applies to mailings on contacts: a contact who may not be e-mailed
        (opted out, blacklisted, no address: res.partner._crm_can_contact) gets a cancelled
        mail, so that the mailing's trace shows it as excluded ("Opted Out" when Odoo's own
        checks let it through), and the refusal is counted once, as a campaign refusal.

        Contacts cancelled as duplicates are reached through another record: not refusals."""
        mail_values_dict = super()._process_mail_values_state(mail_values_dict)
        if not (self._is_mass_mailing() and self.model == "res.partner"):
            return mail_values_dict
        company = self.mass_mailing_id._get_crm_company()
        partners = (
            self.env["res.partner"]
            .with_company(company)
            .browse(
                res_id
                for res_id, values in mail_values_dict.items()
                if values.get("failure_type") != "mail_dup"
            )
        )
        refused = partners - partners._crm_can_contact("email", purpose="campaign")
        for partner in refused:
            values = mail_values_dict[partner.id]
            if values.get("state") != "cancel":
                values.update(state="cancel", failure_type="mail_optout", is_notification=False)
        return mail_values_dict
