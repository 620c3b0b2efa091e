"""Departments as a register: 部门编码 beside the name, renaming without losing anything, the
due list matched by code, and the campaign page flagging departments nobody can work for."""

from __future__ import annotations

import datetime
import io

import pytest
from openpyxl import Workbook

from campaigns.due_list import PROJECTS_SHEET, import_due_list
from campaigns.models import Campaign, DueProject
from departments.models import Department, RegisterChange
from tests.factories import make_evaluation

pytestmark = pytest.mark.django_db

HEADER = ["主管部门", "实施单位", "项目名称", "项目编码", "年初预算数", "全年预算数", "部门编码"]


def xlsx(rows: list[list]) -> bytes:
    """A due list with the optional 部门编码 column (written with openpyxl directly)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = PROJECTS_SHEET
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.fixture
def campaign(db) -> Campaign:
    return Campaign.objects.create(
        year=2021, title="2021年度自评", deadline=datetime.date(2022, 3, 31)
    )


def test_renaming_a_department_keeps_its_forms_and_is_recorded(
    client_admin, admin_user, dept_a, staff_a
):
    evaluation = make_evaluation(dept_a, staff_a)
    old = dept_a.name
    response = client_admin.post(
        f"/people/departments/{dept_a.pk}/", {"name": "昌吉州住房和城乡建设局", "code": " 101001 "}
    )
    assert response.status_code == 302
    dept_a.refresh_from_db()
    assert (dept_a.name, dept_a.code) == ("昌吉州住房和城乡建设局", "101001")
    evaluation.refresh_from_db()
    assert evaluation.department == dept_a
    assert staff_a.membership.department_id == dept_a.pk
    change = RegisterChange.objects.get(department=dept_a)
    assert (change.kind, change.actor) == ("department_changed", admin_user)
    assert change.detail == f"部门名称：{old} → 昌吉州住房和城乡建设局；部门编码：— → 101001"
    page = client_admin.get(f"/people/departments/{dept_a.pk}/").content.decode()
    assert "修改部门" in page and "部门编码：— → 101001" in page
    # The form is listed under its department's new name.
    listed = client_admin.get("/evaluations/").content.decode()
    assert "昌吉州住房和城乡建设局" in listed


def test_a_code_already_taken_is_refused_and_nothing_changes(client_admin, dept_a, dept_b):
    Department.objects.filter(pk=dept_b.pk).update(code="101001")
    response = client_admin.post(
        f"/people/departments/{dept_a.pk}/", {"name": "新名称", "code": "101001"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "该部门编码已属于另一个部门。" in page
    assert 'value="新名称"' in page  # what was typed is kept
    dept_a.refresh_from_db()
    assert (dept_a.name, dept_a.code) == ("昌吉回族自治州住房和城乡建设局", "")
    assert not RegisterChange.objects.exists()


def test_many_departments_may_have_no_code(dept_a, dept_b):
    assert Department.objects.filter(code="").count() == 2


@pytest.mark.parametrize("fixture", ["client_finance", "client_a"])
def test_only_the_administrator_renames_a_department(request, fixture, dept_a):
    client = request.getfixturevalue(fixture)
    response = client.post(f"/people/departments/{dept_a.pk}/", {"name": "别的名称", "code": ""})
    assert response.status_code == 404
    dept_a.refresh_from_db()
    assert dept_a.name == "昌吉回族自治州住房和城乡建设局"


def test_the_picker_and_the_lists_show_the_code(client_finance, client_admin, campaign, dept_a):
    Department.objects.filter(pk=dept_a.pk).update(code="101001")
    DueProject.objects.create(campaign=campaign, department=dept_a, project_name="甲")
    due_list = client_finance.get("/campaigns/2021/").content.decode()
    assert (
        f'<option value="{dept_a.pk}">101001 昌吉回族自治州住房和城乡建设局（1）</option>'
        in due_list
    )
    picker = client_finance.get("/evaluations/").content.decode()
    assert f'<option value="{dept_a.pk}">101001 昌吉回族自治州住房和城乡建设局</option>' in picker
    register = client_finance.get("/people/departments/").content.decode()
    assert "101001" in register
    assert "101001 昌吉回族自治州住房和城乡建设局" in client_admin.get("/people/").content.decode()


def test_the_due_list_matches_a_renamed_department_by_code(campaign, dept_a):
    Department.objects.filter(pk=dept_a.pk).update(name="昌吉州住建局", code="101001")
    data = xlsx([["住建局（旧名）", "本级", "保障性住房", "P1", 10, 10, "101001"]])
    report = import_due_list(campaign=campaign, data=data, name="list.xlsx")
    assert report.problems == [] and not report.failed
    assert report.departments_created == []
    project = DueProject.objects.get()
    assert project.department_id == dept_a.pk
    assert report.rows[0].department == "昌吉州住建局"
    # The same file again changes nothing.
    again = import_due_list(campaign=campaign, data=data, name="list.xlsx")
    assert [r.action for r in again.rows] == ["unchanged"]


def test_a_department_new_to_the_register_gets_the_files_code(campaign):
    data = xlsx([["新部门", "本级", "项目甲", "P1", 1, 1, "202002"]])
    report = import_due_list(campaign=campaign, data=data, name="list.xlsx")
    assert report.departments_created == ["新部门"]
    assert Department.objects.get(name="新部门").code == "202002"


def test_a_code_that_contradicts_the_register_blocks_the_file(campaign, dept_a):
    Department.objects.filter(pk=dept_a.pk).update(code="101001")
    data = xlsx(
        [
            [dept_a.name, "本级", "项目甲", "P1", 1, 1, "999"],
            ["部门乙", "本级", "项目乙", "P2", 1, 1, "555"],
            ["部门丙", "本级", "项目丙", "P3", 1, 1, "555"],
        ]
    )
    report = import_due_list(campaign=campaign, data=data, name="list.xlsx")
    assert report.failed
    assert [(p.sheet, p.cell, p.message) for p in report.problems] == [
        (PROJECTS_SHEET, "G2", f"“{dept_a.name}”在系统中的部门编码是“101001”，不是“999”。"),
        (PROJECTS_SHEET, "G4", "部门编码“555”在本文件中对应了两个部门：“部门乙”和“部门丙”。"),
    ]
    assert DueProject.objects.count() == 0 and Department.objects.count() == 1


def test_the_campaign_page_flags_departments_without_filler_or_head(
    client_finance, campaign, dept_a, dept_b, staff_a
):
    for department, name in ((dept_a, "甲"), (dept_b, "乙")):
        DueProject.objects.create(campaign=campaign, department=department, project_name=name)
    page = client_finance.get("/campaigns/2021/").content.decode()
    assert f"{dept_b.name}：没有填报人</li>" in page
    assert dept_a.name + "：" not in page  # it has a filler; no sign-off asked

    Campaign.objects.filter(pk=campaign.pk).update(requires_sign_off=True)
    page = client_finance.get("/campaigns/2021/").content.decode()
    assert f"{dept_b.name}：没有填报人、没有部门审核人</li>" in page
    assert f"{dept_a.name}：没有部门审核人</li>" in page
    assert "清单中有 2 个部门缺少人员" in page
