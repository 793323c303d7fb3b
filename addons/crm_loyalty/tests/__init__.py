from . import test_crm_loyalty_tier
