"""Directory sign-in (LDAP) is off unless DJANGO_LDAP_SERVER_URI is set, and then complete."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import PROJECT_DIR

PRINT_SETTINGS = (
    "import json, django; django.setup(); from django.conf import settings; "
    "print(json.dumps({'backends': settings.AUTHENTICATION_BACKENDS, "
    "'attrs': getattr(settings, 'AUTH_LDAP_USER_ATTR_MAP', None)}))"
)


def settings_with(**ldap_env: str) -> subprocess.CompletedProcess:
    """config.settings loaded in a fresh process with only ``ldap_env`` of the DJANGO_LDAP_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_LDAP_", "PYTEST"))}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", DJANGO_DEBUG="1", **ldap_env)
    return subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_leaves_the_directory_backend_out_without_a_server_uri():
    result = settings_with()
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.splitlines()[-1])
    assert loaded["backends"] == [
        "axes.backends.AxesStandaloneBackend",
        "departments.demo.RefuseDemoAccountsBackend",
        "django.contrib.auth.backends.ModelBackend",
    ]
    assert loaded["attrs"] is None


def test_it_adds_the_directory_backend_last_with_a_server_uri():
    result = settings_with(
        DJANGO_LDAP_SERVER_URI="ldap://127.0.0.1:1",
        DJANGO_LDAP_USER_DN_TEMPLATE="uid=%(user)s,ou=people,dc=bureau,dc=test",
        DJANGO_LDAP_NAME_ATTR="displayName",
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.splitlines()[-1])
    assert loaded["backends"][0] == "axes.backends.AxesStandaloneBackend"
    assert loaded["backends"][-2:] == [
        "django.contrib.auth.backends.ModelBackend",
        "departments.directory.DirectoryBackend",
    ]
    assert loaded["attrs"] == {"first_name": "displayName", "email": "mail"}


def test_it_refuses_a_server_uri_without_a_way_to_find_the_person():
    result = settings_with(DJANGO_LDAP_SERVER_URI="ldap://127.0.0.1:1")
    assert result.returncode != 0
    assert "DJANGO_LDAP_USER_SEARCH_BASE" in result.stderr
