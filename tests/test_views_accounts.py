"""Signing in, changing the password and signing out, in Chinese."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_it_signs_in_through_the_form_and_lands_on_the_list(staff_a):
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": staff_a.username, "password": PASSWORD}, follow=True
    )
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == "/evaluations/"
    assert "项目支出绩效自评表" in page
    assert staff_a.username in page


def test_it_refuses_a_wrong_password(staff_a):
    client = Client()
    response = client.post("/accounts/login/", {"username": staff_a.username, "password": "wrong"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert client.get("/evaluations/").status_code == 302


def test_it_shows_the_password_change_form_in_chinese(client_a):
    page = client_a.get("/accounts/password_change/").content.decode()
    assert "修改密码" in page
    assert "旧密码" in page
    assert 'name="new_password1"' in page


def test_it_changes_the_password(client_a, staff_a):
    response = client_a.post(
        "/accounts/password_change/",
        {
            "old_password": PASSWORD,
            "new_password1": "Ein-neues-Kennwort-42",
            "new_password2": "Ein-neues-Kennwort-42",
        },
        follow=True,
    )
    assert "密码已修改" in response.content.decode()
    staff_a.refresh_from_db()
    assert staff_a.check_password("Ein-neues-Kennwort-42")


def test_it_keeps_the_password_on_a_mismatch(client_a, staff_a):
    response = client_a.post(
        "/accounts/password_change/",
        {
            "old_password": PASSWORD,
            "new_password1": "Aa-123456789",
            "new_password2": "Bb-123456789",
        },
    )
    assert response.status_code == 200
    assert "is-invalid" in response.content.decode()
    staff_a.refresh_from_db()
    assert staff_a.check_password(PASSWORD)


def test_it_requires_sign_in_for_the_password_change():
    response = Client().get("/accounts/password_change/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_signs_out_by_post_only(client_a):
    assert client_a.get("/accounts/logout/").status_code == 405
    response = client_a.post("/accounts/logout/")
    assert response.status_code == 302
    assert client_a.get("/evaluations/").status_code == 302
