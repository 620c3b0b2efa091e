"""Project-level behaviour: health check, sign-in requirement, security headers."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.django_db
def test_it_answers_healthz_without_login():
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_it_redirects_anonymous_users_to_login():
    response = Client().get("/evaluations/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_it_serves_login_page_in_chinese_with_csp():
    response = Client().get("/accounts/login/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "登录" in body
    assert "用户名" in body
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "<script>" not in body
