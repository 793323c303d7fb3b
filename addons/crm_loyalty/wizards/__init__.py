from . import base_partner_merge
from . import crm_loyalty_redeem_wizard
from . import crm_loyalty_statement_wizard
from . import loyalty_card_update_balance
