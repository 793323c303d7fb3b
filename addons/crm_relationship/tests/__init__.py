from . import test_access
from . import test_bad_input
from . import test_classification
from . import test_customer_360
from . import test_customer_metric
from . import test_demo_store
from . import test_incremental
