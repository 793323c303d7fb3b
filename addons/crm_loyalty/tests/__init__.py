from . import test_crm_loyalty_tier
from . import test_statement_pdf
