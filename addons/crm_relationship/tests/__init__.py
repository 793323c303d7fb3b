from . import test_customer_metric
