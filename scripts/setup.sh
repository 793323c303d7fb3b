#!/usr/bin/env bash
# Provision PostgreSQL, Odoo 19.0 Community, the Python venv, the PDF tools (wkhtmltopdf,
# poppler-utils, the Carlito font) and (with --browser) Chromium.
# Idempotent: a second run checks what is there and downloads nothing.
# shellcheck source=scripts/common.sh
source "$(dirname "$0")/common.sh"

WITH_BROWSER=0
for arg in "$@"; do
    case $arg in
        --browser) WITH_BROWSER=1 ;;
        *) die "unknown option $arg (expected --browser)" ;;
    esac
done

ASSET_PACKAGES=(libjs-jquery libjs-underscore libjs-jquery-form fonts-font-awesome
    fonts-roboto-unhinted fonts-inconsolata fonts-ocr-b fonts-glyphicons-halflings fonts-montserrat)
# Debian strips this file from `mail` (dfsg); Odoo logs an ERROR for every page bundle without it.
SELFIE_NPM=@mediapipe/selfie_segmentation@0.1.1675465747

# Install Debian packages on the machine (its own apt sources), quietly.
apt_install() {
    as_root apt-get update -qq || die "apt-get update failed: no network to the Debian archive?"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null \
        || die "apt-get install $* failed"
}

# --------------------------------------------------------------------------- PostgreSQL
pg_answers() {
    command -v pg_isready >/dev/null 2>&1 && pg_isready -q -t 3
}

start_local_postgres() {
    if command -v pg_lsclusters >/dev/null 2>&1 && [ -n "$(pg_lsclusters -h 2>/dev/null)" ]; then
        local version name
        read -r version name _ < <(pg_lsclusters -h | head -n 1)
        log "starting the local PostgreSQL cluster $version/$name"
        as_root pg_ctlcluster "$version" "$name" start || true
    elif command -v apt-get >/dev/null 2>&1; then
        log "installing PostgreSQL with apt"
        apt_install postgresql
        start_local_postgres
        return
    else
        die "no PostgreSQL server answers and apt-get is not available: start a server and set PGHOST/PGPORT/PGUSER"
    fi
    local _
    for _ in $(seq 30); do pg_answers && return; sleep 1; done
    die "the local PostgreSQL cluster did not start; see /var/log/postgresql/"
}

ensure_db_role() {
    [ -n "${PGUSER:-}" ] && return  # the caller chose a role: use it as given
    local me
    me=$(id -un)
    [ "$me" = postgres ] && die "Odoo refuses to run as the 'postgres' database role: run as another user or set PGUSER"
    if psql -d postgres -Atqc 'SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user' 2>/dev/null | grep -q t; then
        return
    fi
    log "creating the PostgreSQL role '$me'"
    as_root runuser -u postgres -- createuser --superuser "$me" 2>/dev/null \
        || as_root runuser -u postgres -- psql -qc "ALTER ROLE \"$me\" WITH SUPERUSER" \
        || die "could not create a PostgreSQL role for '$me'"
}

setup_postgres() {
    if ! pg_answers; then
        if [ -n "${PGHOST:-}" ]; then
            die "PostgreSQL at PGHOST=$PGHOST PGPORT=${PGPORT:-5432} does not answer"
        fi
        if ! command -v pg_isready >/dev/null 2>&1 && ! command -v apt-get >/dev/null 2>&1; then
            die "no PostgreSQL client tools and no apt-get: install PostgreSQL, or set PGHOST/PGPORT/PGUSER"
        fi
        start_local_postgres
    fi
    ensure_db_role
}

# --------------------------------------------------------------------------- Odoo
# The machine's own Debian mirror (first non-security URI of its apt sources).
apt_mirror() {
    {
        grep -hE '^[[:space:]]*URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -E 's/^[[:space:]]*URIs:[[:space:]]*//' | tr ' ' '\n'
        grep -hE '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
            | sed -E 's/\[[^]]*\]//' | awk '{print $2}'
    } | grep -E '^(https?|file|ftp)://' | grep -v -- '-security' | head -n 1
}

check_odoo_src() {
    [ -f "$ODOO_SRC/odoo/release.py" ] || die "ODOO_SRC=$ODOO_SRC is not an Odoo source tree (no odoo/release.py)"
    grep -qE "^version_info = \(19, 0" "$ODOO_SRC/odoo/release.py" \
        || die "ODOO_SRC=$ODOO_SRC is not Odoo 19.0 ($(grep -m1 '^version_info' "$ODOO_SRC/odoo/release.py"))"
}

download_odoo() {
    local apt_dir=$ODOO_HOME/apt debs=$ODOO_HOME/debs
    local keyring=/usr/share/keyrings/debian-archive-keyring.gpg uri codename
    command -v apt-get >/dev/null 2>&1 || die "apt-get is not available: set ODOO_SRC to an Odoo 19 source tree"
    [ -f "$keyring" ] || die "$keyring is missing (package debian-archive-keyring): set ODOO_SRC instead"
    uri=$(apt_mirror) || true
    [ -n "$uri" ] || die "no Debian mirror found in /etc/apt/sources.list*: set ODOO_SRC to an Odoo 19 source tree"
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$debs"
    {
        echo "deb [signed-by=$keyring] $uri sid main"
        [ -n "$codename" ] && [ "$codename" != sid ] && echo "deb [signed-by=$keyring] $uri $codename main"
    } >"$apt_dir/sources.list"
    local opts=(-q -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/nonexistent
        -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o Debug::NoLocking=1)
    [ "$(id -u)" = 0 ] && opts+=(-o APT::Sandbox::User=root)
    log "reading the Debian archive's package lists (unstable${codename:+ and $codename}) into $apt_dir"
    apt-get "${opts[@]}" --error-on=any update >"$apt_dir/update.log" 2>&1 \
        || die "cannot reach the Debian archive through the machine's mirror (see $apt_dir/update.log)"
    (
        cd "$debs"
        log "downloading odoo-19 from unstable"
        apt-get "${opts[@]}" download odoo-19/sid >/dev/null || die "apt-get download odoo-19 failed: the unstable suite of the mirror has no odoo-19 package"
        local pkg
        for pkg in "${ASSET_PACKAGES[@]}"; do
            { [ -n "$codename" ] && apt-get "${opts[@]}" download "$pkg/$codename" >/dev/null 2>&1; } \
                || apt-get "${opts[@]}" download "$pkg/sid" >/dev/null \
                || die "apt-get download $pkg failed"
        done
    )
    rm -rf "$ODOO_HOME/pkg"
    local deb
    for deb in "$debs"/*.deb; do dpkg -x "$deb" "$ODOO_HOME/pkg"; done
    local dangling
    dangling=$(find "$ODOO_HOME/pkg/usr/lib/python3/dist-packages/odoo" -xtype l | head -n 5)
    [ -z "$dangling" ] || die "links in the Odoo tree still dangle after unpacking its asset packages: $dangling"
    restore_selfie_segmentation
    dpkg-deb -f "$debs"/odoo-19_*.deb Version >"$ODOO_HOME/VERSION"
    log "Odoo $(cat "$ODOO_HOME/VERSION") unpacked in $ODOO_HOME/pkg"
}

restore_selfie_segmentation() {
    local target
    target="$ODOO_HOME/pkg/usr/lib/python3/dist-packages/odoo/addons/mail/static/lib/selfie_segmentation/selfie_segmentation.js"
    [ -s "$target" ] && return
    command -v npm >/dev/null 2>&1 || die "npm is needed once to restore $target (Debian strips it)"
    local tmp
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "$SELFIE_NPM" >/dev/null && tar -xzf ./*.tgz package/selfie_segmentation.js) \
        || die "npm pack $SELFIE_NPM failed"
    mkdir -p "$(dirname "$target")"
    cp "$tmp/package/selfie_segmentation.js" "$target"
    rm -rf "$tmp"
}

setup_odoo() {
    if [ -n "${ODOO_SRC:-}" ]; then
        check_odoo_src
        return
    fi
    if [ -f "$ODOO_HOME/VERSION" ] && [ -d "$ODOO_HOME/pkg/usr/lib/python3/dist-packages/odoo" ]; then
        return
    fi
    download_odoo
}

odoo_addons_path() {
    if [ -n "${ODOO_SRC:-}" ]; then
        printf '%s/odoo/addons,%s/addons' "$ODOO_SRC" "$ODOO_SRC"
    else
        printf '%s/odoo/addons' "$(odoo_python_path)"
    fi
}

# --------------------------------------------------------------------------- Python
setup_venv() {
    local want
    want=$(sha256sum <"$ROOT/requirements.txt" | cut -d' ' -f1)
    if [ -x "$VENV/bin/python" ] && [ "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" = "$want" ]; then
        return
    fi
    command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found: install Python 3.10+ or set PYTHON"
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
        || die "Odoo 19 needs Python 3.10 or newer; $PYTHON is $("$PYTHON" -V 2>&1)"
    if [ ! -x "$VENV/bin/python" ]; then
        log "creating the venv $VENV"
        "$PYTHON" -m venv "$VENV" || die "'$PYTHON -m venv' failed: install the python3-venv package"
    fi
    log "installing Python requirements into $VENV"
    if ! "$VENV/bin/python" -m pip install --disable-pip-version-check -r "$ROOT/requirements.txt" \
        >"$VENV/pip-install.log" 2>&1; then
        tail -n 20 "$VENV/pip-install.log" >&2
        die "pip install -r requirements.txt failed (full log: $VENV/pip-install.log)"
    fi
    # Odoo 19 takes a PyPDF2 3.x for its own shim and crashes at install time: keep pypdf only.
    if "$VENV/bin/python" -m pip show -q PyPDF2 >/dev/null 2>&1; then
        "$VENV/bin/python" -m pip uninstall -q -y PyPDF2
    fi
    echo "$want" >"$VENV/.requirements.sha256"
}

# --------------------------------------------------------------------------- PDF
# Odoo renders PDF reports with wkhtmltopdf (without it, printing fails); the tests read the
# PDFs back as text with poppler's pdftotext. Debian's wkhtmltopdf draws web fonts as outlines
# (no text in the PDF): our reports use Carlito, an installed font drawn like Odoo's Lato.
setup_pdf_tools() {
    local missing=()
    command -v wkhtmltopdf >/dev/null 2>&1 || missing+=(wkhtmltopdf)
    command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
    [ -f /usr/share/fonts/truetype/crosextra/Carlito-Regular.ttf ] || missing+=(fonts-crosextra-carlito)
    [ ${#missing[@]} = 0 ] && return
    command -v apt-get >/dev/null 2>&1 || die "${missing[*]} missing and no apt-get to install them: PDF reports need them"
    log "installing Debian's ${missing[*]} for the PDF reports"
    apt_install --no-install-recommends "${missing[@]}"
}

# --------------------------------------------------------------------------- Browser
setup_browser() {
    local exe
    for exe in chromium chromium-browser google-chrome google-chrome-stable; do
        command -v "$exe" >/dev/null 2>&1 && return
    done
    command -v apt-get >/dev/null 2>&1 || die "no Chromium found and no apt-get to install it: browser tests need one"
    log "installing Debian's chromium for the browser tests"
    apt_install --no-install-recommends chromium
}

# --------------------------------------------------------------------------- Config
write_config() {
    mkdir -p "$LOCAL_DIR/data"
    local tmp=$ODOO_CONF.tmp
    {
        echo "[options]"
        echo "addons_path = $(odoo_addons_path),$ROOT/addons"
        echo "data_dir = $LOCAL_DIR/data"
        [ -n "${PGHOST:-}" ] && echo "db_host = $PGHOST"
        [ -n "${PGPORT:-}" ] && echo "db_port = $PGPORT"
        echo "db_user = ${PGUSER:-$(id -un)}"
        [ -n "${PGPASSWORD:-}" ] && echo "db_password = $PGPASSWORD"
        echo "http_interface = ${HTTP_INTERFACE:-127.0.0.1}"
        echo "http_port = ${HTTP_PORT:-8069}"
        echo "list_db = True"
    } >"$tmp"
    mv "$tmp" "$ODOO_CONF"
}

setup_postgres
setup_odoo
setup_venv
setup_pdf_tools
[ "$WITH_BROWSER" = 1 ] && setup_browser
write_config
log "ready: Odoo ${ODOO_SRC:-$(cat "$ODOO_HOME/VERSION" 2>/dev/null)}, config $ODOO_CONF"
