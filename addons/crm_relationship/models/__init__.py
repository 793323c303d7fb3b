from . import crm_customer_segment
