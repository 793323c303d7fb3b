from . import crm_service_level
