from . import controllers

# demo data generator only, called by demo/crm_loyalty_website_sale_demo.xml
from . import demo
from . import models
