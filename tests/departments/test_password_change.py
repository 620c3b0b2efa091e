"""An account given its password by someone else chooses its own before it can do anything."""

from __future__ import annotations

import pytest

from departments.models import Membership
from tests.conftest import PASSWORD, client_for

pytestmark = pytest.mark.django_db

CHANGE = "/accounts/password_change/"


@pytest.fixture
def flagged(staff_a):
    Membership.objects.filter(user=staff_a).update(must_change_password=True)
    return staff_a


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/evaluations/"),
        ("get", "/evaluations/new/"),
        ("post", "/evaluations/new/"),
        ("get", "/dashboard/"),
        ("get", "/admin/"),
        ("get", "/exports/"),
    ],
)
def test_every_page_sends_the_account_to_change_its_password_first(flagged, method, path):
    response = getattr(client_for(flagged), method)(path)
    assert (response.status_code, response["Location"]) == (302, CHANGE)


def test_signing_out_and_static_files_stay_open(flagged):
    client = client_for(flagged)
    assert client.get("/static/css/app.css").status_code != 302
    page = client.get(CHANGE).content.decode()
    assert "请先设置您自己的密码" in page and "取消" not in page
    assert client.post("/accounts/logout/")["Location"] == "/accounts/login/"


def test_the_validators_speak_chinese_and_a_refused_password_keeps_the_flag(flagged):
    response = client_for(flagged).post(
        CHANGE, {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "这个密码太常见了。" in page and "密码只包含数字。" in page
    assert Membership.objects.get(user=flagged).must_change_password


def test_choosing_a_password_clears_the_flag_and_opens_the_application(flagged):
    client = client_for(flagged)
    new = "Harbor-kettle-73"
    response = client.post(
        CHANGE, {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 302
    assert not Membership.objects.get(user=flagged).must_change_password
    assert client.get("/evaluations/").status_code == 200  # still signed in, free to go
    flagged.refresh_from_db()
    assert flagged.check_password(new)


def test_an_account_without_the_flag_is_never_stopped(client_a, client_admin):
    assert client_a.get("/evaluations/").status_code == 200
    assert client_admin.get("/evaluations/").status_code == 200
