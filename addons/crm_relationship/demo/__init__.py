from . import store
from . import store_contacts
from . import store_credit
from . import story
