from . import crm_credit_override_wizard
from . import crm_credit_request_wizard
from . import crm_segment_pin_wizard
