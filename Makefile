# The README's two commands: `make run` and `make test`.
PY := .venv/bin/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup run demo test test-sqlite test-postgres test-fast lint migrations-check bench clean

setup:
	@scripts/setup.sh

## Run the web app on SQLite with the sample data and demo accounts.
run: setup
	DJANGO_DEBUG=1 $(MANAGE) migrate --noinput
	DJANGO_DEBUG=1 $(MANAGE) load_demo
	DJANGO_DEBUG=1 $(MANAGE) runserver $(HOST):$(PORT)

## Run the whole test suite: checks, SQLite, then a throwaway PostgreSQL.
test: setup lint migrations-check test-sqlite test-postgres

test-sqlite:
	$(PY) -m pytest -q

test-postgres:
	scripts/with-postgres.sh $(PY) -m pytest -q

## Quick loop while developing: SQLite only, no browser tests.
test-fast:
	$(PY) -m pytest -q -m "not browser"

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

migrations-check:
	DJANGO_DEBUG=1 $(MANAGE) makemigrations --check --dry-run

## Load benchmark (docs/benchmarks.md): 10,000 forms, gunicorn, 20 users, throwaway PostgreSQL.
bench:
	scripts/with-postgres.sh $(PY) scripts/bench_load.py
