from . import controllers

# demo data generators only, called by the demo XML files (demo/*.py)
from . import demo
from . import models
from . import report
from . import wizards
