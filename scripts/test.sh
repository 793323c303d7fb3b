#!/usr/bin/env bash
# Provision, build a throw-away database with the three addons, run pytest over their tests.
# Usage: scripts/test.sh [pytest paths and options]   (default: addons/*/tests tests)
# shellcheck source=scripts/common.sh
source "$(dirname "$0")/common.sh"
bash "$ROOT/scripts/setup.sh" --browser

DB=${TEST_DB:-crm_test_$$}
mkdir -p "$LOCAL_DIR/logs"
INSTALL_LOG=$LOCAL_DIR/logs/install-$DB.log
cleanup() {
    [ "${KEEP_DB:-0}" = 1 ] && { log "kept database $DB (KEEP_DB=1)"; return; }
    dropdb --if-exists "$DB" 2>/dev/null || true
    rm -rf "$LOCAL_DIR/data/filestore/$DB"
}
trap cleanup EXIT

if [ -z "${TEST_DB:-}" ] || ! db_exists "$DB"; then
    log "installing $CRM_MODULES with demo data into the test database $DB"
    start=$SECONDS
    if ! "$ROOT/scripts/odoo" server -c "$ODOO_CONF" -d "$DB" -i "$CRM_MODULES" --with-demo \
        --stop-after-init --log-level=info --http-port=0 >"$INSTALL_LOG" 2>&1; then
        tail -n 40 "$INSTALL_LOG" >&2
        die "installing the addons failed (full log: $INSTALL_LOG)"
    fi
    if grep -E '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) ' "$INSTALL_LOG" >&2; then
        die "installing the addons logged errors (full log: $INSTALL_LOG)"
    fi
    # the demo tests would skip instead of failing
    failed=$(demo_failures "$DB")
    [ -z "$failed" ] || die "the demo data of $failed failed to install (full log: $INSTALL_LOG)"
    log "installed in $((SECONDS - start)) s"
elif [ -n "${UPDATE_MODULES-$CRM_MODULES}" ]; then
    # A kept database (TEST_DB=name KEEP_DB=1) is updated instead of rebuilt: fast iteration.
    log "updating ${UPDATE_MODULES-$CRM_MODULES} in the kept test database $DB"
    if ! "$ROOT/scripts/odoo" server -c "$ODOO_CONF" -d "$DB" -u "${UPDATE_MODULES-$CRM_MODULES}" \
        --stop-after-init --log-level=warn --http-port=0 >"$INSTALL_LOG" 2>&1; then
        tail -n 40 "$INSTALL_LOG" >&2
        die "updating the addons failed (full log: $INSTALL_LOG)"
    fi
fi

paths=()
opts=()
for arg in "$@"; do
    if [ -e "$arg" ] || [[ $arg == *.py::* ]]; then paths+=("$arg"); else opts+=("$arg"); fi
done
if [ ${#paths[@]} = 0 ]; then
    paths=("$ROOT"/addons/*/tests)
    [ -d "$ROOT/tests" ] && paths+=("$ROOT/tests")
fi

cd "$ROOT"
PYTHONPATH="$(odoo_python_path)${PYTHONPATH:+:$PYTHONPATH}" "$VENV/bin/python" -m pytest \
    --odoo-database="$DB" --odoo-config="$ODOO_CONF" --odoo-http --odoo-log-level=error \
    -p no:cacheprovider "${opts[@]}" "${paths[@]}"
