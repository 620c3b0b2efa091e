"""Signing in, changing the password and signing out, in Chinese."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from departments.demo import DEMO_PASSWORD
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


# --- demo accounts (manage.py load_demo): signed in only in debug mode ----------------------


@pytest.fixture
def demo_accounts(settings, dept_a):
    """The demo accounts as load_demo makes them (it runs only in debug mode)."""
    from django.core.management import call_command

    settings.DEBUG = True
    call_command("load_demo", stdout=io.StringIO())
    settings.DEBUG = False


def _sign_in(username: str, password: str) -> tuple[Client, str]:
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": password})
    return client, response.content.decode() if response.status_code == 200 else ""


@pytest.mark.parametrize("username", ["finance", "staff1", "head2", "admin"])
def test_a_demo_account_cannot_sign_in_when_debug_is_off(demo_accounts, settings, username):
    assert settings.DEBUG is False
    client, page = _sign_in(username, DEMO_PASSWORD)
    assert "_auth_user_id" not in client.session
    assert "演示账号只能在调试模式（DJANGO_DEBUG=1）下登录" in page
    # Nor through the admin's sign-in (authenticate() itself refuses).
    admin = Client()
    response = admin.post("/admin/login/", {"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 200 and "_auth_user_id" not in admin.session


def test_a_normal_account_signs_in_when_debug_is_off(demo_accounts, staff_a, settings):
    assert settings.DEBUG is False
    client, _page = _sign_in(staff_a.username, PASSWORD)
    assert client.session["_auth_user_id"] == str(staff_a.pk)


def test_a_demo_account_whose_password_was_changed_is_an_ordinary_account(demo_accounts):
    user = get_user_model().objects.get(username="staff1")
    user.set_password("a-real-password-7")
    user.save()
    client, _page = _sign_in("staff1", "a-real-password-7")
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_demo_account_signs_in_when_debug_is_on(demo_accounts, settings):
    settings.DEBUG = True
    client, _page = _sign_in("staff1", DEMO_PASSWORD)
    assert client.session["_auth_user_id"] == str(
        get_user_model().objects.get(username="staff1").pk
    )
