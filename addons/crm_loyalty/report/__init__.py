from . import crm_loyalty_contribution
from . import crm_loyalty_reconciliation
