from . import store
from . import story
