from . import test_crm_service_level
from . import test_web_client
