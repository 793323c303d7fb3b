from odoo import models


class AccountMoveLine(models.Model):
    """An index for the payment metrics of `crm.customer.metric`."""

    _inherit = "account.move.line"

    # The installments of posted documents, with the columns the payment metrics read: the
    # full refresh scans this small index instead of the whole journal item table.
    _crm_installment_idx = models.Index(
        "(id) INCLUDE (move_id, company_id, date_maturity, amount_residual)"
        " WHERE display_type = 'payment_term' AND parent_state = 'posted'"
    )
