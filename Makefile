# The README's two commands: `make run` and `make test`.
PY := .venv/bin/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup run demo test test-sqlite test-postgres test-rq test-fast lint migrations-check bench clean

setup:
	@scripts/setup.sh

## Run the web app on SQLite with the sample data and demo accounts, and a background-task
## worker beside it (exports); Ctrl+C stops both.
run: setup
	DJANGO_DEBUG=1 $(MANAGE) migrate --noinput
	DJANGO_DEBUG=1 $(MANAGE) load_demo
	DJANGO_DEBUG=1 PY=$(PY) scripts/run-dev.sh $(HOST):$(PORT)

## Run the whole test suite: checks, SQLite, then a throwaway PostgreSQL, then the export-job
## tests once more on a throwaway Redis with an RQ worker.
test: setup lint migrations-check test-sqlite test-postgres test-rq

test-sqlite:
	$(PY) -m pytest -q

test-postgres:
	scripts/with-postgres.sh $(PY) -m pytest -q

test-rq:
	scripts/with-postgres.sh scripts/with-redis.sh $(PY) -m pytest -q -m jobs

## Quick loop while developing: SQLite only, no browser tests.
test-fast:
	$(PY) -m pytest -q -m "not browser"

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/lint-imports --no-cache

# Both task backends: TASKS_BACKEND=rq installs django_rq, which has migrations of its own.
migrations-check:
	DJANGO_DEBUG=1 $(MANAGE) makemigrations --check --dry-run
	DJANGO_DEBUG=1 TASKS_BACKEND=rq $(MANAGE) makemigrations --check --dry-run

## Load benchmark (docs/benchmarks.md): 100,000 forms, 50 Locust users, gunicorn + db_worker, throwaway PostgreSQL.
bench:
	scripts/with-postgres.sh $(PY) scripts/bench_load.py
