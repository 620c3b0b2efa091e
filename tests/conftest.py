"""Shared fixtures: fixed users per role, as in healthchecks' tests."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from hypothesis import settings as hypothesis_settings

from departments.models import Department, Membership, Role
from tests.browser import browser, chromium  # noqa: F401  (the headless Chromium fixtures)

PROJECT_DIR = Path(__file__).resolve().parent.parent
SAMPLE_DIR = PROJECT_DIR / "sample_data"
ARTIFACTS_DIR = PROJECT_DIR / "test-artifacts"
PASSWORD = "pass-for-tests-1"
# Storages that keep files in MEDIA_ROOT; any other has no local path (make test-s3).
LOCAL_STORAGES = {
    "common.storage.WholeFileSystemStorage",
    "django.core.files.storage.FileSystemStorage",
}

# CI runs the property tests with fixed seeds and no time limit per example, so a busy
# machine cannot make them flaky; locally they explore new examples on every run.
hypothesis_settings.register_profile("ci", deadline=None, derandomize=True, database=None)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


def sample_path(prefix: str) -> Path:
    """Return the sample file whose name starts with prefix ("000", "001", "003")."""
    return next(SAMPLE_DIR.glob(f"{prefix}_*.txt"))


@pytest.fixture
def dept_a(db) -> Department:
    return Department.objects.create(name="昌吉回族自治州住房和城乡建设局")


@pytest.fixture
def dept_b(db) -> Department:
    return Department.objects.create(name="昌吉州民政局")


def make_user(username: str, role: str, department: Department | None, **extra):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD, **extra)
    Membership.objects.create(user=user, role=role, department=department)
    return user


@pytest.fixture
def staff_a(dept_a):
    """A member of department A (the owner of department A's forms)."""
    return make_user("alice", Role.STAFF, dept_a)


@pytest.fixture
def colleague_a(dept_a):
    """A second member of department A."""
    return make_user("carol", Role.STAFF, dept_a)


@pytest.fixture
def head_a(dept_a):
    """The head (部门审核人) of department A: signs off its forms when a campaign requires it."""
    return make_user("hank", Role.HEAD, dept_a)


@pytest.fixture
def head_b(dept_b):
    """The head of department B: an outsider to department A's forms."""
    return make_user("hugo", Role.HEAD, dept_b)


@pytest.fixture
def staff_b(dept_b):
    """A member of department B: an outsider to department A."""
    return make_user("bob", Role.STAFF, dept_b)


@pytest.fixture
def finance(db):
    return make_user("fin", Role.FINANCE, None)


@pytest.fixture
def admin_user(db):
    return get_user_model().objects.create_superuser(
        username="root", password=PASSWORD, email="root@example.com"
    )


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def client_a(staff_a) -> Client:
    return client_for(staff_a)


@pytest.fixture
def client_b(staff_b) -> Client:
    return client_for(staff_b)


@pytest.fixture
def client_finance(finance) -> Client:
    return client_for(finance)


@pytest.fixture
def client_admin(admin_user) -> Client:
    return client_for(admin_user)


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    return ARTIFACTS_DIR


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path_factory):
    """Every test stores files (the PDF cache, exports, evidence) in a folder of its own.

    On a storage without folders on this machine (TEST_STORAGE=memory, S3 under
    scripts/with-s3.sh): a fresh memory storage, or a key prefix of its own in the bucket.
    """
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    default = settings.STORAGES["default"]
    if default["BACKEND"] not in LOCAL_STORAGES:
        options = dict(default.get("OPTIONS", {}))
        if default["BACKEND"] == "storages.backends.s3.S3Storage":
            options["location"] = f"tests/{uuid.uuid4().hex}"
        # A changed STORAGES makes Django build the default storage anew.
        settings.STORAGES = {**settings.STORAGES, "default": {**default, "OPTIONS": options}}
        yield
        return
    from django.core.files.storage import default_storage

    # The default storage reads MEDIA_ROOT when first used; forget what it cached.
    for name in ("base_location", "location", "base_url"):
        default_storage.__dict__.pop(name, None)
    yield
    for name in ("base_location", "location", "base_url"):
        default_storage.__dict__.pop(name, None)


@pytest.fixture(autouse=True)
def _empty_task_queue():
    """Under `make test-rq` the Redis queue outlives each test's database: start empty."""
    from tests.tasks_helpers import empty_queue

    empty_queue()


# What makes a test run in transactions of its own (pytest-django's own test): the tables are
# emptied after it, the rows the data migrations wrote included.
_TRANSACTIONAL_FIXTURES = {"transactional_db", "live_server", "django_db_reset_sequences"}


@pytest.fixture(autouse=True)
def _rows_the_migrations_wrote(request):
    """A transactional test starts with the rows a migrated database always has.

    The data migrations write the shipped scoring rule sets and the national re-check rules;
    the flush after a transactional
    test removes them. The application would write them again on first use, but then in the
    middle of the next test's first request (a write where the test holds the database
    locked, or where four requests race), which a real database never sees.
    """
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction")) or bool(
        _TRANSACTIONAL_FIXTURES & set(request.fixturenames)
    )
    if transactional:
        request.getfixturevalue("_django_db_helper")
        from evaluations.rulesets import shipped_rule_sets
        from tests.rechecks.national import national_rule_set

        shipped_rule_sets()
        national_rule_set()
