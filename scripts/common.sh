# Shared paths and helpers for the scripts in this folder (sourced, not run).
# shellcheck shell=bash
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Downloaded Odoo tree and its apt state: shared by every checkout that symlinks it.
ODOO_HOME=${ODOO_HOME:-$ROOT/.odoo}
VENV=${VENV:-$ROOT/.venv}
# Per-checkout generated files: Odoo config, filestore, logs.
LOCAL_DIR=$ROOT/.local
ODOO_CONF=$LOCAL_DIR/odoo.conf
PYTHON=${PYTHON:-python3}
CRM_MODULES=crm_relationship,crm_loyalty,crm_analytics,crm_analytics_dashboard,mass_mailing,crm_relationship_mass_mailing,payment_demo,website_sale_loyalty,crm_loyalty_website_sale,sale_stock,crm_loyalty_sale_stock

log() { printf '\033[1m[crm]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[crm] error:\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else die "'$*' needs root and sudo is not available"
    fi
}

# Whether the PostgreSQL database $1 exists (names are passed as a parameter, not spliced).
db_exists() {
    psql -d postgres -Atq -v name="$1" <<<"SELECT 1 FROM pg_database WHERE datname = :'name'" | grep -q 1
}

# The modules whose demo data failed to install in database $1, comma-separated (none: empty).
# Odoo then installs the module without it and only logs a warning.
demo_failures() {
    psql -d "$1" -Atq <<<"SELECT string_agg(DISTINCT m.name, ', ') FROM ir_demo_failure f
                          JOIN ir_module_module m ON m.id = f.module_id"
}

# The folder holding the `odoo` Python package (ODOO_SRC or the unpacked Debian package).
odoo_python_path() {
    if [ -n "${ODOO_SRC:-}" ]; then
        printf '%s\n' "$ODOO_SRC"
    else
        printf '%s\n' "$ODOO_HOME/pkg/usr/lib/python3/dist-packages"
    fi
}
