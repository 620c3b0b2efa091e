# The README's two commands: `make run` and `make test`.
PY := .venv/bin/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000
MO := locale/zh_Hans/LC_MESSAGES/django.mo

.PHONY: setup run demo test test-sqlite test-postgres test-rq test-ldap test-s3 test-memory-storage test-fast lint migrations-check bench clean

setup:
	@scripts/setup.sh

## Run the web app on SQLite with the sample data and demo accounts, and a background-task
## worker beside it (exports); Ctrl+C stops both.
run: setup
	DJANGO_DEBUG=1 $(MANAGE) migrate --noinput
	DJANGO_DEBUG=1 $(MANAGE) load_demo
	DJANGO_DEBUG=1 PY=$(PY) scripts/run-dev.sh $(HOST):$(PORT)

## Run the whole test suite: checks, SQLite, then a throwaway PostgreSQL, then the export-job
## tests once more on a throwaway Redis with an RQ worker, the directory sign-in tests on a
## throwaway slapd, and the tests that store files on a throwaway S3 server. Every test runs
## on PostgreSQL; the browser tests only there (tests/README.md says why).
test: setup lint migrations-check test-sqlite test-postgres test-rq test-ldap test-s3

# The suite spreads over the machine's cores (pytest-xdist); PYTEST_WORKERS=0 runs it in
# one process, as a debugger needs.
PYTEST_WORKERS ?= auto
PYTEST := $(PY) -m pytest -q -n $(PYTEST_WORKERS) --dist worksteal

# The directory sign-in tests (marker `ldap`) need a directory: only test-ldap runs them.
test-sqlite: $(MO)
	$(PYTEST) -m "not browser and not ldap"

test-postgres:
	scripts/with-postgres.sh $(PYTEST) -m "not ldap"

# Two processes at most: each has a Redis database of its own (config/settings_test.py).
test-rq:
	scripts/with-postgres.sh scripts/with-redis.sh $(PY) -m pytest -q -n 2 -m jobs

# Sign-in against a throwaway slapd (scripts/with-slapd.sh): the `ldap` tests, in one process.
test-ldap: $(MO)
	scripts/with-slapd.sh $(PY) -m pytest -q -m ldap

# The tests that store and read files (marker `files`: evidence, the PDF cache, exports, import
# previews, notices) on a throwaway S3-compatible server (scripts/with-s3.sh), where no
# stored file has a local path. `make test-memory-storage` runs them with files in memory.
test-s3: $(MO)
	scripts/with-s3.sh $(PYTEST) -m "files and not browser"

test-memory-storage: $(MO)
	TEST_STORAGE=memory $(PYTEST) -m "files and not browser"

## Quick loop while developing: SQLite, no browser tests and no slow ones (marker `slow`), on every core.
test-fast: $(MO)
	$(PYTEST) -m "not browser and not slow and not ldap"

# The admin's Chinese (scripts/setup.sh compiles it too): current before a quick run.
$(MO): $(MO:.mo=.po)
	msgfmt --check -o $@ $<

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/lint-imports --no-cache

# Both task backends: TASKS_BACKEND=rq installs django_rq, which has migrations of its own.
migrations-check:
	DJANGO_DEBUG=1 $(MANAGE) makemigrations --check --dry-run
	DJANGO_DEBUG=1 TASKS_BACKEND=rq $(MANAGE) makemigrations --check --dry-run

## Load benchmark (docs/benchmarks.md): 100,000 forms, 50 Locust users, gunicorn + db_worker, throwaway PostgreSQL.
# BENCH_ARGS: e.g. "--pin 1:0" (gunicorn on core 1, the task worker on core 0), "--users 200".
bench:
	scripts/with-postgres.sh $(PY) scripts/bench_load.py $(BENCH_ARGS)
