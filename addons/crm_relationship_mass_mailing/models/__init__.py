from . import crm_customer_segment
from . import crm_interaction
from . import mail_mail
from . import mail_thread
from . import mailing_mailing
from . import mailing_trace
