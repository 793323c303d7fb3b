#!/usr/bin/env bash
# Provision, create (first run) or update the demo database, and serve the web client.
# shellcheck source=scripts/common.sh
source "$(dirname "$0")/common.sh"
bash "$ROOT/scripts/setup.sh"

DB=${ODOO_DB:-crm_demo}
if psql -d postgres -Atqc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
    log "updating the CRM addons in database $DB"
    init=(-u "$CRM_MODULES")
else
    log "creating database $DB with the CRM addons and their demo data (about two minutes)"
    init=(-i "$CRM_MODULES" --with-demo --load-language=es_CL)
fi
log "serving http://localhost:${HTTP_PORT:-8069} (login admin / password admin); Ctrl+C stops"
exec "$ROOT/scripts/odoo" server -c "$ODOO_CONF" -d "$DB" --db-filter="^${DB}\$" "${init[@]}"
