from . import store
from . import store_credit
from . import story
