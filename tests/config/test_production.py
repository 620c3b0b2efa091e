"""Production settings: deploy checks, refusal without secrets, /healthz, static files, gunicorn."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import PROJECT_DIR


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a production process: no DJANGO_DEBUG, secrets from the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    env.pop("DATABASE_URL", None)
    env.update(
        {
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
            "DJANGO_ALLOWED_HOSTS": "example.org",
            "DJANGO_VAR_DIR": str(tmp_path / "var"),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


def run(args: list[str], env: dict[str, str], timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_client(script: str, env: dict[str, str]) -> dict:
    """Run ``script`` after django.setup() in a fresh process; it prints one JSON line."""
    prelude = textwrap.dedent(
        """
        import json, os
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        import django
        django.setup()
        from django.test import Client
        """
    )
    result = run(["-c", prelude + textwrap.dedent(script)], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_it_passes_the_deploy_checks(tmp_path):
    env = production_env(tmp_path)
    assert len(env["DJANGO_SECRET_KEY"]) >= 50
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNINGS" not in output
    assert "System check identified some issues" not in output
    assert "no issues" in output


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("DJANGO_SECRET_KEY", "DJANGO_SECRET_KEY must be set"),
        ("DJANGO_ALLOWED_HOSTS", "DJANGO_ALLOWED_HOSTS must be set"),
    ],
)
def test_it_refuses_to_start_without_secrets(tmp_path, missing, message):
    env = production_env(tmp_path)
    del env[missing]
    result = run(["manage.py", "check"], env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_it_refuses_a_malformed_boolean(tmp_path):
    result = run(["manage.py", "check"], production_env(tmp_path, DJANGO_DEBUG="maybe"))
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be a boolean" in result.stderr


def test_it_reads_the_mail_relay_from_the_environment(tmp_path):
    env = production_env(
        tmp_path,
        DJANGO_EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        DJANGO_EMAIL_HOST="smtp.example.org",
        DJANGO_EMAIL_PORT="587",
        DJANGO_EMAIL_HOST_USER="perfeval",
        DJANGO_EMAIL_HOST_PASSWORD="s3cret",
        DJANGO_EMAIL_USE_TLS="1",
        DJANGO_EMAIL_TIMEOUT="7",
        DJANGO_DEFAULT_FROM_EMAIL="绩效自评 <perfeval@example.org>",
    )
    got = run_client(
        """
        from django.conf import settings as s
        from django.core.mail import get_connection
        c = get_connection()
        print(json.dumps([c.host, c.port, c.username, c.password, c.use_tls, c.use_ssl,
                          c.timeout, s.DEFAULT_FROM_EMAIL]))
        """,
        env,
    )
    assert got == [
        "smtp.example.org",
        587,
        "perfeval",
        "s3cret",
        True,
        False,
        7,
        "绩效自评 <perfeval@example.org>",
    ]
    # Unset: a wait on the server is bounded all the same.
    assert (
        run_client(
            "from django.conf import settings as s\nprint(json.dumps(s.EMAIL_TIMEOUT))",
            production_env(tmp_path),
        )
        == 10
    )


def test_it_refuses_tls_and_ssl_together(tmp_path):
    env = production_env(tmp_path, DJANGO_EMAIL_USE_TLS="1", DJANGO_EMAIL_USE_SSL="1")
    result = run(["manage.py", "check"], env)
    assert result.returncode != 0
    assert "DJANGO_EMAIL_USE_TLS (STARTTLS, usually port 587) and DJANGO_EMAIL_USE_SSL" in (
        result.stderr
    )


@pytest.mark.django_db
def test_it_reports_healthy_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_it_reports_unhealthy_when_the_database_is_down(tmp_path):
    env = production_env(
        tmp_path,
        DJANGO_ALLOWED_HOSTS="testserver",
        DATABASE_URL=f"postgres://nobody@127.0.0.1:{_closed_port()}/nothing",
    )
    result = run_client(
        """
        response = Client().get("/healthz")
        print(json.dumps({"status": response.status_code, "body": response.json()}))
        """,
        env,
    )
    # /healthz is exempt from the HTTPS redirect so that a load balancer may probe it over HTTP.
    assert result == {"status": 503, "body": {"status": "error", "database": "unreachable"}}


@pytest.mark.slow
def test_it_serves_static_files_with_whitenoise_in_production(tmp_path, production_static):
    env = production_env(
        tmp_path, DJANGO_ALLOWED_HOSTS="testserver", DJANGO_STATIC_ROOT=str(production_static)
    )
    result = run_client(
        """
        from django.contrib.staticfiles.storage import staticfiles_storage
        url = staticfiles_storage.url("css/app.css")
        client = Client()
        response = client.get(url, secure=True)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        gz = client.get(url, secure=True, headers={"accept-encoding": "gzip"})
        print(json.dumps({
            "url": url, "status": response.status_code, "type": response["Content-Type"],
            "cache": response.get("Cache-Control", ""), "has_rule": b".chart-bar" in body,
            "gzip": gz.get("Content-Encoding", ""),
            "insecure": client.get(url).status_code,
        }))
        """,
        env,
    )
    assert result["url"].startswith("/static/css/app.") and result["url"] != "/static/css/app.css"
    assert result["status"] == 200
    assert result["type"].startswith("text/css")
    assert "immutable" in result["cache"]  # hashed names may be cached for ever
    assert result["has_rule"]
    assert result["gzip"] == "gzip"
    assert result["insecure"] == 301  # plain HTTP is redirected to HTTPS in production


def test_it_reads_gunicorn_settings_from_the_environment():
    env = {**os.environ, "PORT": "8123", "WEB_CONCURRENCY": "3"}
    script = (
        "import runpy, json; c = runpy.run_path('gunicorn.conf.py'); "
        "print(json.dumps({k: c[k] for k in ('bind', 'workers', 'timeout', 'accesslog')}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout) == {
        "bind": "0.0.0.0:8123",
        "workers": 3,
        "timeout": 120,
        "accesslog": "-",
    }
