from . import loyalty_program
from . import loyalty_reward
from . import payment_transaction
from . import sale_order
