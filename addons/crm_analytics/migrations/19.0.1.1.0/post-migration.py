from odoo import SUPERUSER_ID
from odoo import api


def migrate(cr, version):
    """The daily refresh moved from the fit records (crm.clv.model) to the analytics scheduler:
    point the existing cron (a noupdate record, which an update leaves alone) at it, keeping
    its schedule."""
    env = api.Environment(cr, SUPERUSER_ID, {})
    cron = env.ref("crm_analytics.ir_cron_crm_refresh_scores", raise_if_not_found=False)
    if cron:
        cron.write(
            {
                "model_id": env.ref("crm_analytics.model_crm_analytics_scheduler").id,
                "code": "model._cron_refresh_scores()",
            }
        )
