#!/usr/bin/env bash
# Provision, create (first run) or update the demo database, and serve the web client.
# shellcheck source=scripts/common.sh
source "$(dirname "$0")/common.sh"
bash "$ROOT/scripts/setup.sh"

DB=${ODOO_DB:-crm_demo}
if db_exists "$DB"; then
    log "updating the CRM addons in database $DB"
    init=(-u "$CRM_MODULES")
else
    log "creating database $DB with the CRM addons, their demo data and Spanish (Chile) (about four minutes)"
    "$ROOT/scripts/odoo" server -c "$ODOO_CONF" -d "$DB" -i "$CRM_MODULES" --with-demo \
        --load-language=es_CL --stop-after-init --http-port=0 \
        || { dropdb --if-exists "$DB"; die "creating the demo database failed (see above)"; }
    failed=$(demo_failures "$DB")
    [ -z "$failed" ] || { dropdb "$DB"; die "the demo data of $failed failed to install (see above)"; }
    # Loading es_CL into a new database leaves it the only active language: keep English too,
    # so that every user can pick either in their preferences. Then make the demo's Chilean
    # retailer (in pesos) admin's current company, in Santiago's time zone, so that logging in
    # shows it first.
    "$ROOT/scripts/odoo" shell -c "$ODOO_CONF" -d "$DB" --log-level=warn >/dev/null <<'PY' \
        || die "activating English and the demo store in $DB failed"
env['res.lang']._activate_lang('en_US')
# the server that created the database listened on no port: PDF reports fetch their styles here
import os
env['ir.config_parameter'].set_param(
    'web.base.url', 'http://localhost:%s' % os.environ.get('HTTP_PORT', '8069'))
store = env.ref('crm_relationship.res_company_andina_demo', raise_if_not_found=False)
if store:
    env.ref('base.user_admin').write({'company_id': store.id, 'tz': 'America/Santiago'})
# the store's online shop answers on localhost, in Spanish (Chile)
shop = env.ref('crm_loyalty_website_sale.website_andina_demo', raise_if_not_found=False)
if shop:
    spanish = env.ref('base.lang_es_CL')
    shop.write({
        'domain': 'http://localhost:%s' % os.environ.get('HTTP_PORT', '8069'),
        'language_ids': [(4, spanish.id)],
        'default_lang_id': spanish.id,
    })
env.cr.commit()
PY
    init=()
fi
log "serving http://localhost:${HTTP_PORT:-8069} (login admin / password admin; the store's staff in README.md); Ctrl+C stops"
exec "$ROOT/scripts/odoo" server -c "$ODOO_CONF" -d "$DB" --db-filter="^${DB}\$" "${init[@]}"
