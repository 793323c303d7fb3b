from . import test_crm_service_level, test_web_client
