"""Single-line texts (names, the phone): line breaks and tabs become a space where text
enters (the web form, the importers) and the models refuse them (``safetext.single_line``)."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from campaigns.due_list import import_due_list
from campaigns.models import Campaign, DueProject
from common.safetext import single_line
from departments.admin import PersonNameForm
from departments.models import Department, Membership
from evaluations.importer.checks import check_forms
from tests.campaigns.test_due_list import xlsx
from tests.evaluations.core.test_text_limits import imported_form, post_data
from tests.factories import make_evaluation

pytestmark = pytest.mark.django_db

REFUSED = "只能填写一行：请删除其中的换行符或制表符。"


def test_single_line_makes_each_run_of_breaks_and_tabs_one_space():
    assert single_line("城市道路\r\n维修\t二期") == "城市道路 维修 二期"
    assert single_line(" 道路 \n\n 维修\u2028项目\x0b") == "道路 维修 项目"
    assert single_line("无换行") == "无换行"


def test_the_web_form_puts_a_pasted_name_and_phone_on_one_line(client_a, dept_a):
    evaluation = make_evaluation(dept_a)
    data = post_data(
        evaluation,
        project_name="城市道路\r\n维修项目",
        implementing_unit="住建局\t本级",
        filler_name="张\n三",
        filler_phone="0994-\r\n2345678",
        unit_head="李四\t",
    )
    response = client_a.post(reverse("evaluations:edit", args=[evaluation.pk]), data)
    assert response.status_code == 302
    evaluation.refresh_from_db()
    assert (
        evaluation.project_name,
        evaluation.implementing_unit,
        evaluation.filler_name,
        evaluation.filler_phone,
        evaluation.unit_head,
    ) == ("城市道路 维修项目", "住建局 本级", "张 三", "0994- 2345678", "李四")


def test_the_models_refuse_a_line_break_in_a_name(dept_a, staff_a):
    evaluation = make_evaluation(dept_a)
    evaluation.project_name = "道路\n维修"
    cases = [
        (evaluation, "project_name"),
        (Department(name="昌吉州\r\n财政局"), "name"),
        (Campaign(year=2030, title="2030年度\n自评", deadline=datetime.date(2031, 3, 31)), "title"),
    ]
    membership = Membership.objects.get(user=staff_a)
    membership.phone = "0994\t123"
    cases.append((membership, "phone"))
    for instance, field in cases:
        with pytest.raises(ValidationError) as refused:
            instance.full_clean()
        assert refused.value.message_dict[field] == [REFUSED], field


def test_an_imported_name_split_over_lines_is_joined_with_a_space():
    form = imported_form(project_name="城市道路\n维修项目")
    form.implementing_unit = "住建局\t本级"
    form.department = "昌吉州\n住建局"
    check_forms([form])
    assert (form.project_name, form.implementing_unit, form.department) == (
        "城市道路 维修项目",
        "住建局 本级",
        "昌吉州 住建局",
    )


def test_a_due_list_cell_with_a_line_break_is_imported_on_one_line(db):
    campaign = Campaign.objects.create(
        year=2021, title="2021年度自评", deadline=datetime.date(2022, 3, 31)
    )
    data = xlsx([["昌吉州\n住建局", "住建局\r\n本级", "城市道路\n维修", "P1", 10, 10]])
    report = import_due_list(campaign=campaign, data=data, name="list.xlsx")
    assert not report.failed, report.problems
    project = DueProject.objects.get()
    assert (project.department.name, project.implementing_unit, project.project_name) == (
        "昌吉州 住建局",
        "住建局 本级",
        "城市道路 维修",
    )


def test_the_admin_refuses_a_line_break_in_a_person_s_name(staff_a, client_admin):
    assert client_admin.get(f"/admin/auth/user/{staff_a.pk}/change/").status_code == 200
    data = {
        "username": staff_a.username,
        "first_name": "张\n三",
        "last_name": "李\t四",
        "date_joined": "2024-01-01 00:00:00",
    }
    form = PersonNameForm(instance=staff_a, data=data)
    assert not form.is_valid()
    assert form.errors["first_name"] == [REFUSED] and form.errors["last_name"] == [REFUSED]
    data.update(first_name="张三", last_name="")
    assert PersonNameForm(instance=staff_a, data=data).is_valid()
