from . import loyalty_card_update_balance
