from . import test_affinity
from . import test_crm_service_level
from . import test_cron
from . import test_customer_360_panels
from . import test_customer_score
from . import test_reports
from . import test_views_ui
from . import test_web_client
