from . import base_partner_merge
from . import loyalty_card_update_balance
