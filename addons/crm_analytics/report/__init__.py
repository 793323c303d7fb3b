from . import crm_report_cohort
from . import crm_report_loyalty_contribution
from . import crm_report_retention
from . import crm_report_segment_revenue
