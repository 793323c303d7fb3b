#!/usr/bin/env bash
# Benchmarks: make bench [ARGS="relationship loyalty analytics clv_lifetimes"]. Each prints its
# own figures as ratios against a baseline measured in the same run. The data set lives in the database
# crm_bench (BENCH_DB), generated once by scripts/bench/datagen.py and reused.
# shellcheck source=scripts/common.sh
source "$(dirname "$0")/common.sh"
bash "$ROOT/scripts/setup.sh"

DB=${BENCH_DB:-crm_bench}
if ! db_exists "$DB"; then
    log "creating the benchmark database $DB (no demo data)"
    "$ROOT/scripts/odoo" server -c "$ODOO_CONF" -d "$DB" -i "$CRM_MODULES" --stop-after-init \
        --log-level=warn --http-port=0 || die "installing the addons into $DB failed"
else
    "$ROOT/scripts/odoo" server -c "$ODOO_CONF" -d "$DB" -u "$CRM_MODULES" --stop-after-init \
        --log-level=warn --http-port=0 || die "updating the addons in $DB failed"
fi

names=("$@")
if [ ${#names[@]} = 0 ]; then
    for f in "$ROOT"/scripts/bench/bench_*.py; do
        [ -e "$f" ] && names+=("$(basename "$f" .py | sed 's/^bench_//')")
    done
fi
[ ${#names[@]} -gt 0 ] || die "no benchmark in scripts/bench/"
for name in "${names[@]}"; do
    script=$ROOT/scripts/bench/bench_$name.py
    [ -f "$script" ] || die "no benchmark named $name ($script)"
    log "benchmark: $name"
    PYTHONPATH="$ROOT/scripts/bench:$(odoo_python_path)" "$VENV/bin/python" "$script" \
        --config "$ODOO_CONF" --database "$DB"
done
