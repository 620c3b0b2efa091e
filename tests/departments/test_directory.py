"""Sign-in against the bureau's directory (LDAP), on a real slapd.

The tests run under ``scripts/with-slapd.sh`` (``make test-ldap``), which loads
tests/data/directory.ldif and sets LDAP_TEST_DIRECTORY; without it they are skipped (and
the other runs deselect them with ``-m "not ldap"``).
"""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from departments.directory import BACKEND
from departments.models import Membership, Role
from tests.conftest import PASSWORD, client_for, make_user
from tests.factories import make_evaluation

pytestmark = [
    pytest.mark.ldap,
    pytest.mark.skipif(
        not os.environ.get("LDAP_TEST_DIRECTORY"),
        reason="needs the throwaway directory of scripts/with-slapd.sh (make test-ldap)",
    ),
    pytest.mark.django_db,
]

# People of tests/data/directory.ldif and their directory passwords.
WANG = ("wangxm", "wang-dir-pass-1")
LI = ("lihong", "li-dir-pass-1")
ZHAO = ("zhaolei", "zhao-dir-pass-1")
SUN = ("sunli", "sun-dir-pass-1")
QIAN = ("qianjun", "qian-dir-pass-1")


def sign_in(client: Client, username: str, password: str):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_directory_sign_in_is_on_after_the_local_accounts():
    backends = settings.AUTHENTICATION_BACKENDS
    assert backends[0] == "axes.backends.AxesStandaloneBackend"
    assert backends.index(BACKEND) > backends.index("django.contrib.auth.backends.ModelBackend")


def test_a_directory_user_signs_in_with_the_directory_password_and_gets_name_and_email():
    client = Client()
    response = sign_in(client, *WANG)
    assert response.status_code == 302
    assert response["Location"] == "/evaluations/"
    user = get_user_model().objects.get(username="wangxm")
    assert int(client.session["_auth_user_id"]) == user.pk
    assert (user.first_name, user.last_name, user.email) == ("王小明", "", "wangxm@bureau.test")
    # The password lives in the directory: the application keeps none.
    assert not user.has_usable_password()
    # No department or role yet: signed in, told so in Chinese, shown nothing to write.
    page = client.get("/evaluations/").content.decode()
    assert "王小明" in page
    assert "您的账号还没有分配部门和角色" in page
    assert "新建自评表" not in page


def test_name_and_email_come_from_the_directory_at_each_sign_in():
    get_user_model().objects.create_user(
        username="lihong", password=PASSWORD, first_name="李某", email="old@example.com"
    )
    assert sign_in(Client(), *LI).status_code == 302
    user = get_user_model().objects.get(username="lihong")
    assert (user.first_name, user.email) == ("李红", "lihong@bureau.test")


def test_a_wrong_directory_password_is_refused():
    client = Client()
    response = sign_in(client, WANG[0], "wrong-password")
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not get_user_model().objects.filter(username="wangxm").exists()


def test_a_local_account_still_signs_in_with_its_local_password(staff_a):
    client = Client()
    assert sign_in(client, staff_a.username, PASSWORD).status_code == 302
    assert int(client.session["_auth_user_id"]) == staff_a.pk
    staff_a.refresh_from_db()
    assert staff_a.check_password(PASSWORD)


def test_a_directory_user_with_a_role_reaches_the_department_list(dept_a, staff_a):
    # As the accounts workbook leaves it: an initial password and a forced change.
    zhao = make_user("zhaolei", Role.HEAD, dept_a)
    Membership.objects.filter(user=zhao).update(must_change_password=True)
    evaluation = make_evaluation(dept_a, user=staff_a, project_name="目录账号可见的项目")
    client = Client()
    assert sign_in(client, *ZHAO).status_code == 302
    # Not sent to choose an application password: the directory's is the one.
    response = client.get("/evaluations/")
    assert response.status_code == 200
    page = response.content.decode()
    assert evaluation.project_name in page
    assert "赵磊" in page and dept_a.name in page
    zhao.refresh_from_db()
    assert not zhao.membership.must_change_password
    # The initial password of the workbook no longer signs in.
    assert not zhao.has_usable_password()
    other = Client()
    assert sign_in(other, "zhaolei", PASSWORD).status_code == 200
    assert "_auth_user_id" not in other.session


def test_a_deactivated_directory_user_cannot_sign_in(dept_a):
    user = make_user("qianjun", Role.STAFF, dept_a)
    user.is_active = False
    user.save(update_fields=["is_active"])
    client = Client()
    response = sign_in(client, *QIAN)
    # Refused as a wrong password is (as ModelBackend does): the page does not say it exists.
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_axes_locks_out_a_directory_user_after_the_configured_failures():
    client = Client()
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, SUN[0], "wrong-password").status_code == 200
    assert sign_in(client, SUN[0], "wrong-password").status_code == 429
    # Locked: even the right directory password is refused now, in Chinese.
    locked = sign_in(client, *SUN)
    assert locked.status_code == 429
    assert "登录失败次数过多" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_people_page_does_not_reset_a_directory_accounts_password(admin_user, dept_a):
    make_user("qianjun", Role.STAFF, dept_a)
    assert sign_in(Client(), *QIAN).status_code == 302
    qian = get_user_model().objects.get(username="qianjun")
    admin = client_for(admin_user)
    page = admin.get(f"/people/{qian.pk}/").content.decode()
    assert "密码由目录管理，在本系统重置没有意义" in page
    assert f"/people/{qian.pk}/password/" not in page
    response = admin.post(f"/people/{qian.pk}/password/", follow=True)
    assert "密码由目录管理，在本系统重置没有意义" in response.content.decode()
    assert "one-time-password" not in response.content.decode()
    qian.refresh_from_db()
    assert not qian.has_usable_password()
    assert not qian.membership.must_change_password


def test_a_directory_user_is_told_to_change_the_password_in_the_directory():
    client = Client()
    assert sign_in(client, *WANG).status_code == 302
    page = client.get("/accounts/password_change/").content.decode()
    assert "密码由目录管理：请在目录中修改" in page
    assert 'name="new_password1"' not in page
