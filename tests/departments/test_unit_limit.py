"""限填实施单位: an account limited to one 实施单位 of its department, everywhere.

A filler or head whose membership names one implementing unit sees, writes, exports and
signs off only that unit's forms, and sees only its due projects; the department's other
units' forms are to them as another department's (tests/pages/test_access_matrix.py walks every
route that takes a form). Unit names are compared without whitespace, after NFKC.
"""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from openpyxl import load_workbook

from campaigns.models import DueProject
from departments.models import Membership, Role
from evaluations.importer.service import import_file
from evaluations.models import Evaluation, EventAction, Notification, Status
from evaluations.workflow import evaluation_submit
from exports import excel
from tests.conftest import client_for, make_user, sample_path
from tests.evaluations.workflow.test_transitions import due_evaluation, require_sign_off
from tests.export_helpers import sample_forms, store
from tests.exports.test_export_pages import export_through_job

pytestmark = pytest.mark.django_db

# Sample file 003 holds forms of two units of 昌吉州民政局 (2020).
UNIT = "昌吉州民政局本级"
OTHER = "昌吉州民政局"


def limited(username: str, role: str, department, unit: str):
    """A ``role`` of ``department`` limited to ``unit``."""
    user = make_user(username, role, department)
    Membership.objects.filter(user=user).update(implementing_unit=unit)
    return user


@pytest.fixture
def filler(dept_b):
    """Staff of department B limited to its 本级 unit (written with stray spaces)."""
    return limited("unit-filler", Role.STAFF, dept_b, f" {UNIT[:3]} {UNIT[3:]}　")


@pytest.fixture
def unit_forms(dept_b) -> dict[str, list[Evaluation]]:
    """Sample 003's seven forms in department B, by unit."""
    by_unit: dict[str, list[Evaluation]] = {UNIT: [], OTHER: []}
    for prefix, _index, form in sample_forms():
        if prefix == "003":
            by_unit[form.implementing_unit].append(store(form, dept_b))
    return by_unit


def listed(page: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'<tr data-evaluation="(\d+)"', page)}


def test_the_list_shows_only_the_users_unit(filler, unit_forms, staff_b):
    page = client_for(filler).get("/evaluations/").content.decode()
    assert listed(page) == {e.pk for e in unit_forms[UNIT]}
    # The department's unlimited filler sees both units.
    page = client_for(staff_b).get("/evaluations/").content.decode()
    assert listed(page) == {e.pk for forms in unit_forms.values() for e in forms}


@pytest.mark.django_db(transaction=True)
def test_a_bulk_export_holds_only_the_users_unit(filler, unit_forms):
    job, response = export_through_job(client_for(filler), year="2020", format="xlsx")
    assert sorted(job.evaluation_ids) == sorted(e.pk for e in unit_forms[UNIT])
    workbook = load_workbook(BytesIO(b"".join(response.streaming_content)), read_only=True)
    assert len(workbook.sheetnames) == len(unit_forms[UNIT]) + 1  # a sheet each, the flat one
    flat = workbook[excel.FLAT_SHEET_TITLE]
    units = {row[2] for row in flat.iter_rows(min_row=2, values_only=True) if any(row)}
    assert units == {UNIT}


def test_the_due_list_and_the_dashboard_count_only_the_users_unit(dept_a, staff_a):
    campaign = require_sign_off(2021, required=False)
    for name, unit in (("甲单位项目", "实施单位 甲"), ("乙单位项目", "实施单位乙")):
        DueProject.objects.create(
            campaign=campaign, department=dept_a, project_name=name, implementing_unit=unit
        )
    campaign.is_open = True
    campaign.save()
    for role in (Role.STAFF, Role.HEAD):
        user = limited(f"unit-{role}", role, dept_a, "实施单位甲")
        page = client_for(user).get("/evaluations/").content.decode()
        assert "甲单位项目" in page and "乙单位项目" not in page, role
        dashboard = client_for(user).get("/dashboard/?year=2021").content.decode()
        assert re.findall(r'<td class="text-end num-due">(\d+)</td>', dashboard) == ["1"], role


def test_a_limited_filler_writes_only_their_units_forms(filler, dept_b, unit_forms):
    client = client_for(filler)
    # The new form starts with their unit.
    page = client.get("/evaluations/new/").content.decode()
    assert f'value="{UNIT[:3]} {UNIT[3:]}"' in page
    # Another unit is refused on the field, keeping what was typed.
    posted = {
        "year": "2020",
        "project_name": "新项目",
        "implementing_unit": OTHER,
        "execution_weight": "10",
        "ind-TOTAL_FORMS": "0",
        "ind-INITIAL_FORMS": "0",
    }
    response = client.post("/evaluations/new/", posted)
    page = response.content.decode()
    assert response.status_code == 200
    assert "只能填写该单位的自评表" in page and 'value="新项目"' in page
    assert not Evaluation.objects.filter(project_name="新项目").exists()
    response = client.post("/evaluations/new/", {**posted, "implementing_unit": UNIT})
    assert response.status_code == 302
    # Their own form cannot be moved to another unit either.
    own = Evaluation.objects.get(project_name="新项目")
    edit = {**posted, "implementing_unit": OTHER, "revision": str(own.revision)}
    response = client.post(f"/evaluations/{own.pk}/edit/", edit)
    assert response.status_code == 200
    assert "只能填写该单位的自评表" in response.content.decode()
    own.refresh_from_db()
    assert own.implementing_unit == UNIT


def test_an_import_skips_the_other_units_forms(filler, dept_b):
    report = import_file(
        data=sample_path("003").read_bytes(), name="003.txt", user=filler, department=dept_b
    )
    assert not report.failed
    actions = {f.form.project_name: (f.form.implementing_unit, f.action) for f in report.forms}
    assert {unit for unit, action in actions.values() if action == "created"} == {UNIT}
    assert {unit for unit, action in actions.values() if action == "skipped"} == {OTHER}
    refusals = [p.message for p in report.problems if "限填实施单位" in p.message]
    assert len(refusals) == sum(1 for unit, _a in actions.values() if unit == OTHER)
    assert set(Evaluation.objects.values_list("implementing_unit", flat=True)) == {UNIT}


def test_an_import_does_not_overwrite_another_units_form(filler, unit_forms, dept_b):
    other = unit_forms[OTHER][0]
    before = other.revision
    report = import_file(
        data=sample_path("003").read_bytes(), name="003.txt", user=filler, department=dept_b
    )
    skipped = {f.form.project_name for f in report.forms if f.action == "skipped"}
    assert other.project_name in skipped
    other.refresh_from_db()
    assert other.revision == before


def test_a_limited_head_signs_off_only_their_unit(dept_a, staff_a):
    require_sign_off(2021)
    own_head = limited("head-own", Role.HEAD, dept_a, "实施单位甲")
    other_head = limited("head-other", Role.HEAD, dept_a, "实施单位乙")
    evaluation = due_evaluation(dept_a, staff_a)  # 实施单位甲, its due project names no unit
    assert evaluation_submit(evaluation=evaluation, user=staff_a)
    evaluation.refresh_from_db()
    assert evaluation.status == Status.DEPARTMENT_REVIEW
    # Only the head of the form's unit is told, lists it and may pass it on.
    told = set(
        Notification.objects.filter(
            evaluation=evaluation, event__action=EventAction.SENT_FOR_SIGN_OFF
        ).values_list("user__username", flat=True)
    )
    assert told == {own_head.username}
    other = client_for(other_head)
    assert evaluation.project_name not in other.get("/evaluations/sign-off/").content.decode()
    assert other.post(f"/evaluations/{evaluation.pk}/sign-off/pass/").status_code == 404
    evaluation.refresh_from_db()
    assert evaluation.status == Status.DEPARTMENT_REVIEW
    own = client_for(own_head)
    assert evaluation.project_name in own.get("/evaluations/sign-off/").content.decode()
    assert own.post(f"/evaluations/{evaluation.pk}/sign-off/pass/").status_code == 302
    evaluation.refresh_from_db()
    assert evaluation.status == Status.SUBMITTED
