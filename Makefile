# The project's entry points; each one provisions what it needs first (see scripts/setup.sh).
.PHONY: setup run test lint format bench

setup:  ## install PostgreSQL, Odoo 19, the venv and Chromium (idempotent)
	bash scripts/setup.sh --browser

run:  ## serve the demo database on http://localhost:8069 (admin / admin)
	bash scripts/run.sh

test:  ## fresh database, all tests (make test ARGS=addons/crm_loyalty/tests for one module)
	bash scripts/test.sh $(ARGS)

lint:  ## ruff lint and format check
	bash scripts/setup.sh
	.venv/bin/ruff check addons tests scripts
	.venv/bin/ruff format --check addons tests scripts

format:
	.venv/bin/ruff check --fix addons tests scripts
	.venv/bin/ruff format addons tests scripts

bench:  ## benchmarks: generated data, printed figures (see scripts/bench/)
	bash scripts/bench.sh $(ARGS)
