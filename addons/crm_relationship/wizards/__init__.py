from . import crm_segment_pin_wizard
