"""The people page (/people/): the administrator adds, changes, deactivates and resets accounts,
each change recorded; finance reads who fills in and signs off for each department."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from departments.models import Membership, RegisterChange, Role
from tests.conftest import PASSWORD, client_for, make_user

pytestmark = pytest.mark.django_db

User = get_user_model()


def new_person(**extra: str) -> dict[str, str]:
    data = {
        "name": "张三",
        "username": "zhangsan",
        "role": Role.STAFF,
        "implementing_unit": "实施单位甲",
        "phone": "0994-2345678",
        "email": "zhangsan@example.com",
    }
    data.update(extra)
    return data


def test_it_adds_a_person_in_one_form_with_a_one_time_password(client_admin, admin_user, dept_a):
    response = client_admin.post("/people/new/", new_person(department=dept_a.pk))
    assert response.status_code == 200
    user = User.objects.get(username="zhangsan")
    m = user.membership
    assert (user.first_name, user.last_name, user.email) == ("张三", "", "zhangsan@example.com")
    assert (m.role, m.department, m.implementing_unit, m.phone) == (
        Role.STAFF,
        dept_a,
        "实施单位甲",
        "0994-2345678",
    )
    assert m.must_change_password is True
    password = response.context["password"]
    assert len(password) >= 12 and password in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert user.check_password(password)
    assert password not in user.password  # only the hash is stored
    change = RegisterChange.objects.get(person=user)
    assert (change.kind, change.actor) == ("created", admin_user)
    assert "用户名：zhangsan" in change.detail and "角色：— → 部门填报人" in change.detail
    # Shown once: the person's page does not show it again.
    assert password not in client_admin.get(f"/people/{user.pk}/").content.decode()


def test_a_bad_person_form_keeps_what_was_typed_and_says_why(client_admin, staff_a):
    data = new_person(username="alice", phone="abc", email="not-mail")  # alice exists
    response = client_admin.post("/people/new/", data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "用户名“alice”已被使用。" in page
    assert "电话号码只能由数字、空格和“-”组成" in page
    assert "部门填报人和部门审核人必须属于一个部门。" in page
    assert 'value="张三"' in page and 'value="实施单位甲"' in page
    assert User.objects.count() == 2  # staff_a and the administrator: nobody added


def test_it_changes_role_department_and_unit_and_records_what_changed(
    client_admin, admin_user, staff_a, dept_b
):
    data = {"name": "爱丽丝", "role": Role.HEAD, "department": dept_b.pk, "phone": "13912345678"}
    response = client_admin.post(f"/people/{staff_a.pk}/", data)
    assert response.status_code == 302
    staff_a.refresh_from_db()
    m = Membership.objects.get(user=staff_a)
    assert (staff_a.first_name, m.role, m.department, m.implementing_unit, m.phone) == (
        "爱丽丝",
        Role.HEAD,
        dept_b,
        "",
        "13912345678",
    )
    change = RegisterChange.objects.get(person=staff_a)
    assert change.kind == "changed" and change.actor == admin_user
    assert "角色：部门填报人 → 部门审核人" in change.detail
    assert f"所属部门：昌吉回族自治州住房和城乡建设局 → {dept_b.name}" in change.detail
    page = client_admin.get(f"/people/{staff_a.pk}/").content.decode()
    assert "角色：部门填报人 → 部门审核人" in page and "修改账号" in page
    # The same values again: nothing changed, nothing recorded.
    client_admin.post(f"/people/{staff_a.pk}/", data)
    assert RegisterChange.objects.filter(person=staff_a).count() == 1


def test_finance_has_no_department_or_unit(client_admin, staff_a, dept_a):
    data = {"name": "财政", "role": Role.FINANCE, "department": dept_a.pk}
    assert client_admin.post(f"/people/{staff_a.pk}/", data).status_code == 302
    m = Membership.objects.get(user=staff_a)
    assert (m.role, m.department) == (Role.FINANCE, None)


def test_a_deactivated_account_cannot_sign_in_and_keeps_its_history(
    client_admin, admin_user, staff_a
):
    session = client_for(staff_a)
    response = client_admin.post(f"/people/{staff_a.pk}/active/", {"active": "0"})
    assert response.status_code == 302
    staff_a.refresh_from_db()
    assert staff_a.is_active is False
    assert Membership.objects.filter(user=staff_a).exists()
    # Its open session ends, and signing in again is refused with the usual message.
    assert session.get("/evaluations/")["Location"].startswith("/accounts/login/")
    refused = Client().post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert refused.status_code == 200 and "_auth_user_id" not in refused.client.session
    # Axes counts each of those as a failure: enough of them lock the name out.
    for _attempt in range(5):
        Client().post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    client_admin.post(f"/people/{staff_a.pk}/active/", {"active": "1"})
    staff_a.refresh_from_db()
    assert staff_a.is_active is True
    # Reactivating lifts that lockout too.
    signed_in = Client().post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert signed_in.status_code == 302
    kinds = list(RegisterChange.objects.filter(person=staff_a).values_list("kind", flat=True))
    assert kinds == ["reactivated", "deactivated"]


def test_the_administrator_cannot_deactivate_their_own_account(client_admin, admin_user):
    response = client_admin.post(f"/people/{admin_user.pk}/active/", {"active": "0"}, follow=True)
    assert "不能停用自己正在使用的账号。" in response.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.is_active is True
    assert not RegisterChange.objects.exists()


def test_a_password_reset_is_shown_once_and_forces_a_change(client_admin, admin_user, staff_a):
    session = client_for(staff_a)
    for _attempt in range(5):  # the forgotten password: the account is locked out
        Client().post("/accounts/login/", {"username": "alice", "password": "wrong"})
    response = client_admin.post(f"/people/{staff_a.pk}/password/")
    assert response.status_code == 200
    password = response.context["password"]
    assert password in response.content.decode()
    staff_a.refresh_from_db()
    assert staff_a.check_password(password) and not staff_a.check_password(PASSWORD)
    assert Membership.objects.get(user=staff_a).must_change_password is True
    # The old session ends with the old password.
    assert session.get("/evaluations/")["Location"].startswith("/accounts/login/")
    change = RegisterChange.objects.get(person=staff_a)
    assert (change.kind, change.actor, change.detail) == ("password_reset", admin_user, "")
    assert password not in change.detail
    # The lockout goes with the old password: the new one signs in.
    signed_in = Client().post("/accounts/login/", {"username": "alice", "password": password})
    assert signed_in.status_code == 302


def test_the_list_searches_filters_and_sorts(client_admin, staff_a, staff_b, head_a, finance):
    Membership.objects.filter(user=staff_b).update(phone="13900001111")
    User.objects.filter(pk=head_a.pk).update(first_name="韩", is_active=False)

    def names(**query: str) -> list[str]:
        response = client_admin.get("/people/", query)
        assert response.status_code == 200
        return [p.username for p in response.context["page"]]

    assert names(q="0000111") == ["bob"]
    assert names(q="韩") == ["hank"]
    assert names(department=str(staff_a.membership.department_id)) == ["alice", "hank"]
    assert names(role="finance") == ["fin"]
    assert names(role="admin") == ["root"]
    assert names(active="0") == ["hank"]
    assert sorted(names(unnamed="on", active="1")) == ["alice", "bob", "fin", "root"]
    assert names()[-2:] == ["fin", "root"]  # no department: last
    assert names(order="username") == ["alice", "bob", "fin", "hank", "root"]
    # A filter that is no filter is ignored, not an error.
    assert len(names(department="x", role="nobody", order="password")) == 5


def test_the_list_pages_fifty_at_a_time(client_admin, dept_a):
    User.objects.bulk_create([User(username=f"u{i:03}") for i in range(60)])
    first = client_admin.get("/people/", {"order": "username"})
    second = client_admin.get("/people/", {"order": "username", "page": "2"})
    assert len(first.context["page"]) == 50
    assert len(second.context["page"]) == 11  # 60 and the administrator
    assert "order=username&amp;page=2" in first.content.decode()


def test_accounts_without_a_name_are_listed_as_needing_one(client_admin, staff_a):
    page = client_admin.get("/people/").content.decode()
    assert "2 个启用的账号还没有填写姓名" in page
    User.objects.update(first_name="某人")
    assert "还没有填写姓名" not in client_admin.get("/people/").content.decode()


def test_finance_reads_who_fills_in_and_signs_off_and_who_has_nobody(
    client_finance, staff_a, head_a, dept_b
):
    User.objects.filter(pk=staff_a.pk).update(first_name="爱丽丝")
    response = client_finance.get("/people/departments/")
    assert response.status_code == 200
    rows = {row.department.name: row for row in response.context["rows"]}
    assert [u.username for u in rows[staff_a.membership.department.name].fillers] == ["alice"]
    assert [u.username for u in rows[staff_a.membership.department.name].heads] == ["hank"]
    assert (rows[dept_b.name].fillers, rows[dept_b.name].heads) == ([], [])
    page = response.content.decode()
    assert "爱丽丝" in page and "1 个部门没有填报人，无法为其开展自评。" in page
    # Read-only: no link to the administrator's pages.
    assert "/people/new/" not in page and f"/people/{staff_a.pk}/" not in page


@pytest.mark.parametrize("fixture", ["client_finance", "client_a"])
def test_everyone_but_the_administrator_is_refused_the_people_pages(
    request, fixture, staff_a, dept_a
):
    client = request.getfixturevalue(fixture)
    assert client.get("/people/").status_code == 404
    assert client.post("/people/new/", new_person(department=dept_a.pk)).status_code == 404
    assert client.post(f"/people/{staff_a.pk}/active/", {"active": "0"}).status_code == 404
    assert client.post(f"/people/{staff_a.pk}/password/").status_code == 404
    staff_a.refresh_from_db()
    assert staff_a.is_active and staff_a.check_password(PASSWORD)
    assert not User.objects.filter(username="zhangsan").exists()
    assert not RegisterChange.objects.exists()


def test_department_staff_do_not_see_the_departments_page(client_a):
    assert client_a.get("/people/departments/").status_code == 404


def test_a_deactivated_person_is_no_filler_of_the_department(client_finance, staff_a):
    make_user("ann", Role.STAFF, staff_a.membership.department, is_active=False)
    rows = client_finance.get("/people/departments/").context["rows"]
    assert [u.username for u in rows[0].fillers] == ["alice"]
