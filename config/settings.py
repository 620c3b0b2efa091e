"""Settings for the self-evaluation application, driven by environment variables.

SQLite under ``var/`` by default; PostgreSQL when ``DATABASE_URL`` is set.
Production (``DJANGO_DEBUG`` unset or off) refuses to start without
``DJANGO_SECRET_KEY`` and ``DJANGO_ALLOWED_HOSTS``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import dj_database_url
import ldap
from django.core.exceptions import ImproperlyConfigured
from django_auth_ldap.config import LDAPSearch

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    """Return an environment variable as a string."""
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    """Return an environment variable as a boolean; fail loudly on a bad value."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {value!r}")


def env_int(name: str, default: int) -> int:
    """Return an environment variable as an integer; fail loudly on a bad value."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


def env_list(name: str, default: str = "") -> list[str]:
    """Return a comma-separated environment variable as a list."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if DEBUG:
        SECRET_KEY = "insecure-development-key-do-not-use-in-production"
    else:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off (production)."
        )

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    if DEBUG:
        ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]", "testserver"]
    else:
        raise ImproperlyConfigured(
            "DJANGO_ALLOWED_HOSTS must be set when DJANGO_DEBUG is off (production)."
        )
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    # django-axes and the task queue under Chinese names (config/third_party_apps.py).
    "config.third_party_apps.AxesConfig",
    # Who may do what (evaluations/permissions.py) and the {% test_rule %} template tag. Only
    # the rule set is used: no ObjectPermissionBackend in AUTHENTICATION_BACKENDS, because
    # User.has_perm grants a superuser everything (see the module's docstring).
    "rules",
    "django_filters",
    "departments",
    "evaluations",
    "campaigns",
    "rechecks",
    "evidence",
    "exports",
    # Background jobs (exports/tasks.py): the database queue is always installed (its table
    # is part of the schema whichever backend runs). TASKS_BACKEND=rq adds django_rq below.
    "django_tasks",
    "config.third_party_apps.TasksDatabaseConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
    "config.middleware.PrivateNoStoreMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # An account given its password by someone else chooses its own before anything else.
    "departments.password_change.PasswordChangeRequiredMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "departments.context_processors.membership",
                "exports.context_processors.export_news",
            ],
        },
    },
]

# Django's form renderer with the plain inputs, text areas and selects written in Python
# (the same HTML, without a template per widget: the entry page has 170 of them).
FORM_RENDERER = "common.form_renderer.WidgetRenderer"

WSGI_APPLICATION = "config.wsgi.application"

VAR_DIR = Path(env_str("DJANGO_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite locks the whole file. A write transaction that starts as a reader and then
    # wants to write cannot wait for the lock (SQLITE_BUSY at once, "database is locked"):
    # begin every transaction IMMEDIATE so it queues for the write lock up front, wait up
    # to SQLITE_BUSY_TIMEOUT seconds for it, and use WAL so readers never block writers.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": env_int("SQLITE_BUSY_TIMEOUT", 20),
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # The demo accounts (manage.py load_demo) cannot sign in while DEBUG is off.
    "departments.demo.RefuseDemoAccountsBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Sign-in against the bureau's directory (LDAP; docs/deployment.md#directory-sign-in-ldap),
# off unless DJANGO_LDAP_SERVER_URI is set. After ModelBackend: a local account signs in
# without asking the directory; axes (first) counts and locks out directory failures too.
AUTH_LDAP_SERVER_URI = env_str("DJANGO_LDAP_SERVER_URI")
if AUTH_LDAP_SERVER_URI:
    AUTHENTICATION_BACKENDS.append("departments.directory.DirectoryBackend")
    AUTH_LDAP_BIND_DN = env_str("DJANGO_LDAP_BIND_DN")
    AUTH_LDAP_BIND_PASSWORD = env_str("DJANGO_LDAP_BIND_PASSWORD")
    AUTH_LDAP_START_TLS = env_bool("DJANGO_LDAP_START_TLS", False)
    # Either bind straight as the person's DN, or search for it (as the bind DN) under a base.
    AUTH_LDAP_USER_DN_TEMPLATE = env_str("DJANGO_LDAP_USER_DN_TEMPLATE") or None
    if not AUTH_LDAP_USER_DN_TEMPLATE:
        if not env_str("DJANGO_LDAP_USER_SEARCH_BASE"):
            raise ImproperlyConfigured(
                "DJANGO_LDAP_SERVER_URI needs DJANGO_LDAP_USER_SEARCH_BASE "
                "or DJANGO_LDAP_USER_DN_TEMPLATE."
            )
        AUTH_LDAP_USER_SEARCH = LDAPSearch(
            env_str("DJANGO_LDAP_USER_SEARCH_BASE"),
            ldap.SCOPE_SUBTREE,
            env_str("DJANGO_LDAP_USER_SEARCH_FILTER", "(uid=%(user)s)"),
        )
    # The whole name goes into 姓名 (first_name); last_name stays empty.
    AUTH_LDAP_USER_ATTR_MAP = {
        "first_name": env_str("DJANGO_LDAP_NAME_ATTR", "cn"),
        "email": env_str("DJANGO_LDAP_EMAIL_ATTR", "mail"),
    }
    # A directory that does not answer fails the sign-in after this many seconds, not a
    # worker's whole timeout; referrals (Active Directory) are not chased.
    _ldap_timeout = env_int("DJANGO_LDAP_TIMEOUT", 5)
    AUTH_LDAP_CONNECTION_OPTIONS = {
        ldap.OPT_NETWORK_TIMEOUT: _ldap_timeout,
        ldap.OPT_TIMEOUT: _ldap_timeout,
        ldap.OPT_REFERRALS: 0,
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "evaluations:list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    # MEDIA_ROOT on this machine's disk; DJANGO_S3_BUCKET below puts it on object storage.
    "default": {"BACKEND": "common.storage.WholeFileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "media/"
# Several machines (docs/deployment.md, "Several machines", 3.): every stored file (evidence,
# notices, exports, the PDF cache) goes to an S3-compatible bucket instead of MEDIA_ROOT.
# Objects stay private (no ACL: the bucket's own policy, which must not be public) and are
# only ever streamed through the application's views, which check the user; the storage's
# signed URLs are not handed out. No overwriting: a second file of the same name (two
# campaigns' "通知.pdf") gets a name of its own, as on disk.
S3_BUCKET = env_str("DJANGO_S3_BUCKET")
if S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            # Unset: AWS's own endpoint, region and credentials chain (instance role, ~/.aws).
            "endpoint_url": env_str("DJANGO_S3_ENDPOINT_URL") or None,
            "region_name": env_str("DJANGO_S3_REGION") or None,
            "access_key": env_str("DJANGO_S3_ACCESS_KEY_ID") or None,
            "secret_key": env_str("DJANGO_S3_SECRET_ACCESS_KEY") or None,
            # A key prefix, for a bucket shared with other applications.
            "location": env_str("DJANGO_S3_PREFIX"),
            # "path" for servers without a DNS name per bucket (MinIO, SeaweedFS, most on-premises).
            "addressing_style": env_str("DJANGO_S3_ADDRESSING_STYLE") or None,
            "signature_version": "s3v4",
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
            "querystring_expire": 300,
        },
    }

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Uploads: imports are small text, Excel or Word files. Every limit on what a user may
# upload is here, once; docs/security.md lists them. A real department's file is far below
# each (the sample files: 55-90 KB, 7-21 forms of at most 15 indicator rows).
IMPORT_MAX_FILE_SIZE = env_int("IMPORT_MAX_FILE_SIZE", 5 * 1024 * 1024)  # bytes per file
IMPORT_MAX_FILES = env_int("IMPORT_MAX_FILES", 20)  # files per request
IMPORT_MAX_FORMS_PER_FILE = env_int("IMPORT_MAX_FORMS_PER_FILE", 200)
IMPORT_MAX_FORMS_PER_REQUEST = env_int("IMPORT_MAX_FORMS_PER_REQUEST", 500)
# .xlsx and .docx are zip archives: checked entry by entry before anything is parsed.
IMPORT_MAX_ARCHIVE_ENTRIES = env_int("IMPORT_MAX_ARCHIVE_ENTRIES", 1000)
IMPORT_MAX_UNCOMPRESSED_SIZE = env_int("IMPORT_MAX_UNCOMPRESSED_SIZE", 50 * 1024 * 1024)
IMPORT_MAX_COMPRESSION_RATIO = env_int("IMPORT_MAX_COMPRESSION_RATIO", 100)
# What a sheet or a document may hold: far more than any form, far less than a bomb.
IMPORT_MAX_SHEET_ROWS = env_int("IMPORT_MAX_SHEET_ROWS", 5000)
IMPORT_MAX_SHEET_COLUMNS = env_int("IMPORT_MAX_SHEET_COLUMNS", 40)
IMPORT_MAX_DOCUMENT_ROWS = env_int("IMPORT_MAX_DOCUMENT_ROWS", 20000)
# XML tags ("<") parsed in one reading of an .xlsx/.docx, and in one part parsed whole
# (styles, relationships); characters across all cells (one shared string may repeat in
# every cell). An exported workbook of 200 forms has 0.17 million tags.
IMPORT_MAX_XML_MARKUP = env_int("IMPORT_MAX_XML_MARKUP", 2_000_000)
IMPORT_MAX_XML_PART_MARKUP = env_int("IMPORT_MAX_XML_PART_MARKUP", 100_000)
IMPORT_MAX_TEXT_CHARACTERS = env_int("IMPORT_MAX_TEXT_CHARACTERS", 5_000_000)
# Previews kept for confirmation: lifetime and what one user may hold at once.
IMPORT_PREVIEW_LIFETIME = env_int("IMPORT_PREVIEW_LIFETIME", 2 * 3600)  # seconds
IMPORT_PREVIEW_QUOTA = env_int("IMPORT_PREVIEW_QUOTA", 20 * 1024 * 1024)  # bytes per user
# Evidence files (佐证材料) attached to a form: per file and for all files of one form.
EVIDENCE_MAX_FILE_BYTES = env_int("EVIDENCE_MAX_FILE_BYTES", 20 * 1024 * 1024)
EVIDENCE_MAX_FORM_BYTES = env_int("EVIDENCE_MAX_FORM_BYTES", 200 * 1024 * 1024)
# The notice file of a campaign (PDF), uploaded by finance.
CAMPAIGN_NOTICE_MAX_BYTES = env_int("CAMPAIGN_NOTICE_MAX_BYTES", 10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 10 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000

# Background jobs (docs/deployment.md). TASKS_BACKEND=db (the default) keeps the queue in
# the database: no other server, workers are `manage.py run_worker` (db_worker that
# survives a database restart). TASKS_BACKEND=rq puts it
# on Redis (REDIS_URL): workers on any number of machines run `manage.py rqworker
# --job-class django_tasks_rq.Job default`. TASKS_BACKEND=immediate runs a job inside the
# request that starts it (a single-process fallback; never with more than a few forms).
TASKS_BACKEND = env_str("TASKS_BACKEND", "db")
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
# A job longer than this is stopped by RQ (seconds); the database worker has no limit.
TASKS_JOB_TIMEOUT = env_int("TASKS_JOB_TIMEOUT", 3600)
RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": TASKS_JOB_TIMEOUT}}
_TASK_BACKENDS = {
    "db": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
if TASKS_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured(
        f"TASKS_BACKEND must be one of {', '.join(_TASK_BACKENDS)}, not {TASKS_BACKEND!r}."
    )
if TASKS_BACKEND == "rq":
    # django_rq gives `manage.py rqworker`; not installed otherwise, as its admin-only model
    # has no table (a `dumpdata` backup would fail on it).
    # (Under a Chinese name: config/third_party_rq.py.)
    INSTALLED_APPS += ["config.third_party_rq.RQConfig", "django_tasks_rq"]
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[TASKS_BACKEND], "QUEUES": ["default"]}}
# `manage.py run_worker` records a heartbeat this often (seconds); no worker seen for
# WORKER_LOST_SECONDS makes /healthz/worker answer 503 and the export pages say so. After a
# lost database connection it waits 1, 2, 4 … up to WORKER_RETRY_MAX_SECONDS and goes on.
WORKER_HEARTBEAT_SECONDS = env_int("WORKER_HEARTBEAT_SECONDS", 15)
WORKER_LOST_SECONDS = env_int("WORKER_LOST_SECONDS", 120)
WORKER_RETRY_MAX_SECONDS = env_int("WORKER_RETRY_MAX_SECONDS", 30)

# Bulk exports (exports/): how many forms one job may hold, how many forms one worker task
# renders (a year is split into chunks that several workers render at once), how long a
# finished file is kept, and how long a running part may go without a sign of life before
# it counts as lost (its worker was killed) and is run again, at most EXPORT_MAX_ATTEMPTS times.
EXPORT_MAX_FORMS = env_int("EXPORT_MAX_FORMS", 20000)
EXPORT_CHUNK_SIZE = env_int("EXPORT_CHUNK_SIZE", 10)
EXPORT_KEEP_DAYS = env_int("EXPORT_KEEP_DAYS", 7)
EXPORT_STALE_SECONDS = env_int("EXPORT_STALE_SECONDS", 120)
EXPORT_MAX_ATTEMPTS = env_int("EXPORT_MAX_ATTEMPTS", 3)
# What one user may hold, so that one user cannot fill the disk or the queue: exports queued
# or running at a time (more are refused; an identical request is answered with the job
# already running, or with one finished within EXPORT_REUSE_SECONDS whose forms have not
# changed since), and the bytes of finished files kept (beyond it the oldest are deleted,
# the newest always kept).
EXPORT_MAX_ACTIVE_PER_USER = env_int("EXPORT_MAX_ACTIVE_PER_USER", 3)
EXPORT_REUSE_SECONDS = env_int("EXPORT_REUSE_SECONDS", 600)
EXPORT_MAX_BYTES_PER_USER = env_int("EXPORT_MAX_BYTES_PER_USER", 2 * 1024**3)
# Chunk tasks one user has queued or running at a time: the next is queued when one ends, so
# another user's export waits for about one chunk, not behind all of them. With as many as
# there are workers, one user alone still keeps every worker busy.
EXPORT_PARTS_IN_FLIGHT_PER_USER = env_int("EXPORT_PARTS_IN_FLIGHT_PER_USER", 2)
# A part the task queue refused (Redis or the database down) is queued again by the job's
# progress poll, a finished part or the hourly cleanup; the poll tries at most this often.
EXPORT_QUEUE_RETRY_SECONDS = env_int("EXPORT_QUEUE_RETRY_SECONDS", 10)

# Below this many free bytes on the stored files' file system (none on S3), `/healthz?detail=1`
# answers 503 (uploads and exports start failing when the disk is full).
STORAGE_MIN_FREE_BYTES = env_int("STORAGE_MIN_FREE_BYTES", 1024**3)

# Local scoring rules (docs/domain.md, scoring rule 7), off by default.
SCORING_OVER_ACHIEVEMENT_DEDUCTION = env_bool("SCORING_OVER_ACHIEVEMENT_DEDUCTION", False)
SCORING_EXECUTION_RATE_CAP = env_bool("SCORING_EXECUTION_RATE_CAP", False)
# The bureau's re-check (复核): a difference of MORE than this many points between the
# department's total and the re-check total marks the self-evaluation quality as poor.
RECHECK_QUALITY_THRESHOLD = env_str("RECHECK_QUALITY_THRESHOLD", "10")

# The author of the PDFs the application writes (their document properties): the bureau.
PDF_AUTHOR = env_str("PDF_AUTHOR", "财政局")

# Login throttling (django-axes): five failures lock the username+IP for 15 minutes.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
# Behind N reverse proxies (load balancer, nginx) the client address comes from X-Forwarded-For.
TRUSTED_PROXY_COUNT = env_int("DJANGO_TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "config.client_ip.client_ip"

# Mail (docs/deployment.md): the console backend prints mail to stdout; production sets the
# SMTP backend and its relay. Mail is sent by the task worker, never inside a request
# (evaluations/mail.py); EMAIL_TIMEOUT bounds each wait on the server (seconds).
EMAIL_BACKEND = env_str("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DJANGO_DEFAULT_FROM_EMAIL", "noreply@localhost")
EMAIL_HOST = env_str("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("DJANGO_EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("DJANGO_EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("DJANGO_EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured(
        "DJANGO_EMAIL_USE_TLS (STARTTLS, usually port 587) and DJANGO_EMAIL_USE_SSL "
        "(implicit TLS, usually port 465) cannot both be on: set only the one your relay uses."
    )
EMAIL_TIMEOUT = env_int("DJANGO_EMAIL_TIMEOUT", 10)

# Security headers; `manage.py check --deploy` is clean in production.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "config.views.csrf_failure"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("DJANGO_SESSION_COOKIE_AGE", 8 * 3600)
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^healthz/worker$"]
    # Only a benchmark or a test over plain HTTP on loopback may turn these off.
    SESSION_COOKIE_SECURE = env_bool("DJANGO_SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("DJANGO_CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "stdout": {"class": "logging.StreamHandler", "stream": sys.stdout, "formatter": "plain"}
    },
    "root": {"handlers": ["stdout"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "weasyprint": {"level": "ERROR"},
        "fontTools": {"level": "ERROR"},
    },
}
