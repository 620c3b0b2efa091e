"""Settings of the test suite, chosen explicitly (``DJANGO_SETTINGS_MODULE`` in pyproject.toml).

The production settings (``config.settings``) know nothing about tests: nothing there
changes because pytest happens to be imported. The suite runs the production
configuration with a throwaway secret key and local host names (given the way production
gets them, through the environment), over plain HTTP, with fast password hashing and
static files served without a manifest (no ``collectstatic`` before a test run). Tests of
production behaviour start ``config.settings`` in a child process with a production
environment (tests/config/test_production.py).
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

os.environ.setdefault("DJANGO_SECRET_KEY", "insecure-key-of-the-test-suite-" + "x" * 40)
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")

# Under pytest-xdist each worker process (gw0, gw1, …) queues its tasks in a Redis database
# of its own (make test-rq): a test emptying the queue before it starts drops no job of a test
# running beside it. The variable reaches the workers the tests start, too.
_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _xdist_worker.startswith("gw") and os.environ.get("REDIS_URL"):
    _redis = urlsplit(os.environ["REDIS_URL"])._replace(path=f"/{1 + int(_xdist_worker[2:]) % 15}")
    os.environ["REDIS_URL"] = urlunsplit(_redis)

from config.settings import *  # noqa: E402,F403
from config.settings import STORAGES  # noqa: E402

# The test client and the live server of the browser tests speak plain HTTP.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# TEST_STORAGE=memory (make test-s3): stored files in memory, a storage without local paths
# (its .path() raises), so that a code path assuming files on this machine's disk fails.
if os.environ.get("TEST_STORAGE") == "memory":
    STORAGES["default"] = {"BACKEND": "tests.storage_helpers.NoPathInMemoryStorage"}

# Fast hashing for the many users tests create; production keeps PBKDF2.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The SQLite test database is a file, as in production, not Django's default shared
# in-memory database. In shared-cache memory a table another connection is writing is
# "locked" at once, with no busy wait, so the browser tests' live server and task worker
# (threads with connections of their own) would fail each other's transactions at random;
# a file database in WAL mode waits up to the busy timeout, as production does. It lives on
# tmpfs where there is one, named after the process so that concurrent runs do not meet.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    import tempfile
    from pathlib import Path

    _shm = Path("/dev/shm")
    _test_db_dir = (
        _shm if _shm.is_dir() and os.access(_shm, os.W_OK) else Path(tempfile.gettempdir())
    )
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(_test_db_dir / f"perfeval-test-{os.getpid()}.sqlite3")
    }
