from . import account_move_line
from . import crm_customer_facts
from . import crm_customer_metric
from . import crm_customer_segment
from . import crm_customer_segment_history
from . import res_partner
