"""The bureau's view against the due list: counts per department, overdue, filters, export."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from campaigns.deadlines import is_overdue, with_overdue
from campaigns.models import Campaign, DeadlineExtension, DueProject
from departments.models import Department, Role
from evaluations.dashboard import dashboard_overview, filter_rows
from evaluations.models import Evaluation, Status
from tests.conftest import client_for, make_user
from tests.factories import make_evaluation

TODAY = timezone.localdate()


def _due(campaign, department, name, status=None, user=None) -> DueProject:
    """A due project; with ``status``, a form of it in that status."""
    project = DueProject.objects.create(campaign=campaign, department=department, project_name=name)
    if status is not None:
        form = make_evaluation(department, user, project_name=name)
        Evaluation.objects.filter(pk=form.pk).update(due_project=project, status=status)
    return project


@pytest.fixture
def campaign(dept_a, dept_b, staff_a, staff_b):
    return seed_campaign(dept_a, dept_b, staff_a, staff_b)


def seed_campaign(dept_a, dept_b, staff_a, staff_b) -> Campaign:
    """2021, deadline 5 days ago. A: one due project in each state, plus a form not on the
    list; B: two due projects without forms, deadline extended to 10 days ahead; C: none."""
    campaign = Campaign.objects.create(
        year=2021, title="2021年度自评", deadline=TODAY - timedelta(5)
    )
    _due(campaign, dept_a, "A未开始")
    _due(campaign, dept_a, "A草稿", Status.DRAFT, staff_a)
    _due(campaign, dept_a, "A部门审核", Status.DEPARTMENT_REVIEW, staff_a)
    _due(campaign, dept_a, "A已提交", Status.SUBMITTED, staff_a)
    _due(campaign, dept_a, "A已退回", Status.RETURNED, staff_a)
    _due(campaign, dept_a, "A已通过", Status.APPROVED, staff_a)
    make_evaluation(dept_a, staff_a, project_name="A清单外")  # a draft not on the list
    _due(campaign, dept_b, "B1")
    _due(campaign, dept_b, "B2")
    DeadlineExtension.objects.create(
        campaign=campaign, department=dept_b, deadline=TODAY - timedelta(1), reason="早先的延期"
    )
    DeadlineExtension.objects.create(
        campaign=campaign, department=dept_b, deadline=TODAY + timedelta(10), reason="再延期"
    )
    Department.objects.create(name="昌吉州审计局")
    return campaign


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr[^>]*data-department="(\d+)"', html)


def _cells(html: str, department: Department) -> dict[str, str]:
    match = re.search(rf'<tr[^>]*data-department="{department.pk}">(.*?)</tr>', html, re.S)
    assert match, department.name
    return {
        css: re.sub(r"<[^>]+>", "", value).strip()
        for css, value in re.findall(
            r'class="[^"]*\b(num-[a-z-]+)">(.*?)</td>', match.group(1), re.S
        )
    }


COLUMNS = [
    "due",
    "not_started",
    "due_draft",
    "due_department_review",
    "due_submitted",
    "due_returned",
    "due_approved",
    "overdue",
]


def _counts(row) -> list[int]:
    return [getattr(row, name) for name in COLUMNS]


def test_it_counts_every_column_against_the_due_list(campaign, finance, dept_a, dept_b):
    overview = dashboard_overview(finance, 2021)
    assert overview.campaign == campaign
    rows = {row.name: row for row in overview.rows}
    a, b, c = rows[dept_a.name], rows[dept_b.name], rows["昌吉州审计局"]
    # 应评 6: 未开始, 草稿, 部门审核, 已提交, 已退回, 已通过 one each; 逾期 = the four not in.
    assert _counts(a) == [6, 1, 1, 1, 1, 1, 1, 4]
    assert a.deadline == campaign.deadline
    assert a.pending and a.not_handed_in == 4
    assert a.pending_reason == (
        "4 个应评项目尚未提交（1 个未开始、1 张草稿、1 张部门审核中、1 张已退回待重新提交），已逾期"
    )
    # The form outside the due list is in the year's figures, not in the due columns.
    assert a.forms == 6 and a.draft == 2
    # B: the latest extension (10 days ahead) counts, not the earlier one: not overdue yet.
    assert _counts(b) == [2, 2, 0, 0, 0, 0, 0, 0]
    assert b.deadline == TODAY + timedelta(10)
    assert b.pending_reason == "2 个应评项目尚未提交（2 个未开始）"
    # C has nothing due: nothing pending (under the old rule "no forms" made it pending).
    assert _counts(c) == [0] * 8 and not c.pending and c.pending_reason == "无应评项目"
    assert _counts(overview.totals) == [8, 3, 1, 1, 1, 1, 1, 4]
    assert [row.name for row in overview.pending] == sorted([dept_a.name, dept_b.name])


def test_it_counts_overdue_after_the_extended_deadline(campaign, finance, dept_b):
    later = dashboard_overview(finance, 2021, today=TODAY + timedelta(11))
    b = next(row for row in later.rows if row.department_id == dept_b.pk)
    assert b.overdue == 2
    on_the_day = dashboard_overview(finance, 2021, today=TODAY + timedelta(10))
    assert next(r for r in on_the_day.rows if r.department_id == dept_b.pk).overdue == 0


def test_a_department_with_everything_in_is_complete(campaign, finance, dept_a, staff_a):
    DueProject.objects.filter(department=dept_a, evaluation__isnull=True).delete()
    Evaluation.objects.filter(department=dept_a, due_project__isnull=False).update(
        status=Status.SUBMITTED
    )
    a = next(r for r in dashboard_overview(finance, 2021).rows if r.department_id == dept_a.pk)
    assert (a.due, a.due_submitted, a.overdue, a.pending) == (5, 5, 0, False)
    assert a.pending_reason == "已全部提交"


def test_it_shows_the_year_of_a_campaign_before_any_form(dept_a, finance):
    Campaign.objects.create(year=2023, title="2023年度自评", deadline=TODAY)
    _due(Campaign.objects.get(year=2023), dept_a, "P")
    overview = dashboard_overview(finance)
    assert overview.year == 2023 and overview.years == [2023]
    assert _counts(overview.rows[0]) == [1, 1, 0, 0, 0, 0, 0, 0]


def test_the_page_shows_the_columns_filters_and_sorts(campaign, client_finance, dept_a, dept_b):
    html = client_finance.get("/dashboard/?year=2021").content.decode()
    assert _cells(html, dept_a) == {
        "num-deadline": (TODAY - timedelta(5)).isoformat(),
        "num-due": "6",
        "num-not-started": "1",
        "num-draft": "1",
        "num-department-review": "1",
        "num-submitted": "1",
        "num-returned": "1",
        "num-approved": "1",
        "num-overdue": "4",
        "num-average": _cells(html, dept_a)["num-average"],
        "num-rate": _cells(html, dept_a)["num-rate"],
        "num-errors": "0",
    }
    assert _cells(html, dept_b)["num-deadline"].startswith((TODAY + timedelta(10)).isoformat())
    assert "已延期" in _cells(html, dept_b)["num-deadline"]
    c = Department.objects.get(name="昌吉州审计局")
    assert _rows(html) == [str(d.pk) for d in sorted([dept_a, dept_b, c], key=lambda d: d.name)]

    overdue = client_finance.get("/dashboard/?year=2021&show=overdue").content.decode()
    assert _rows(overdue) == [str(dept_a.pk)]
    incomplete = client_finance.get("/dashboard/?year=2021&show=incomplete").content.decode()
    assert set(_rows(incomplete)) == {str(dept_a.pk), str(dept_b.pk)}
    search = client_finance.get("/dashboard/?year=2021&q=民政").content.decode()
    assert _rows(search) == [str(dept_b.pk)]
    by_due = client_finance.get("/dashboard/?year=2021&sort=due&dir=desc").content.decode()
    assert _rows(by_due) == [str(dept_a.pk), str(dept_b.pk), str(c.pk)]
    by_due_up = client_finance.get("/dashboard/?year=2021&sort=due&dir=asc").content.decode()
    assert _rows(by_due_up) == [str(c.pk), str(dept_b.pk), str(dept_a.pk)]
    # A bad parameter falls back to the default rather than failing.
    assert client_finance.get("/dashboard/?year=2021&sort=evil&show=x").status_code == 200


def test_it_sorts_blanks_last_and_by_every_key(campaign, finance):
    rows = dashboard_overview(finance, 2021).rows
    by_rate = filter_rows(rows, sort="rate", descending=True)
    assert by_rate[-1].execution_rate is None
    from evaluations.dashboard import SORT_KEYS

    for key in SORT_KEYS:
        assert len(filter_rows(rows, sort=key)) == 3


def test_it_paginates_fifty_departments_a_page(campaign, client_finance):
    Department.objects.bulk_create([Department(name=f"部门{i:03d}") for i in range(60)])
    first = client_finance.get("/dashboard/?year=2021").content.decode()
    second = client_finance.get("/dashboard/?year=2021&page=2").content.decode()
    assert len(_rows(first)) == 50 and len(_rows(second)) == 13
    assert "1 / 2" in first and "page=2" in first
    assert not set(_rows(first)) & set(_rows(second))


def test_staff_and_heads_see_their_own_department_only(campaign, dept_a, dept_b, staff_b):
    head = make_user("head_a", Role.HEAD, dept_a)
    html = client_for(head).get("/dashboard/?year=2021").content.decode()
    assert _rows(html) == [str(dept_a.pk)]
    assert _cells(html, dept_a)["num-overdue"] == "4"
    html_b = client_for(staff_b).get("/dashboard/?year=2021").content.decode()
    assert _rows(html_b) == [str(dept_b.pk)]
    assert dept_a.name not in html_b


def test_the_export_has_the_columns_and_honours_the_filters(campaign, client_finance, dept_a):
    response = client_finance.get("/dashboard/export.xlsx?year=2021&show=overdue")
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [cell.value for cell in sheet[2]]
    assert header[:10] == [
        "主管部门",
        "截止日期",
        "应评",
        "未开始",
        "草稿",
        "部门审核",
        "已提交",
        "已退回",
        "已通过",
        "逾期",
    ]
    body = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=3)]
    assert [row[0] for row in body] == [dept_a.name, "合计"]
    assert body[0][1:10] == [(TODAY - timedelta(5)).isoformat(), 6, 1, 1, 1, 1, 1, 1, 4]
    assert body[0][-1].startswith("4 个应评项目尚未提交")
    everything = client_finance.get("/dashboard/export.xlsx?year=2021&sort=name&dir=desc")
    names = [
        r[0].value
        for r in load_workbook(io.BytesIO(everything.content)).active.iter_rows(min_row=3)
    ]
    assert names == ["昌吉州民政局", "昌吉州审计局", dept_a.name, "合计"]  # by code point


def _big_campaign(departments: int, per_department: int) -> Campaign:
    campaign = Campaign.objects.get(year=2021)
    created = Department.objects.bulk_create(
        [Department(name=f"大部门{i:03d}") for i in range(departments)]
    )
    DueProject.objects.bulk_create(
        [
            DueProject(campaign=campaign, department=d, project_name=f"项目{j:02d}")
            for d in created
            for j in range(per_department)
        ],
        batch_size=1000,
    )
    DeadlineExtension.objects.bulk_create(
        [
            DeadlineExtension(campaign=campaign, department=d, deadline=TODAY + timedelta(3))
            for d in created[::7]
        ]
    )
    return campaign


def test_it_reads_the_overview_in_a_constant_number_of_queries(campaign, finance, client_finance):
    dashboard_overview(finance, 2021)  # the membership lookup is cached on the user
    with CaptureQueriesContext(connection) as few:
        dashboard_overview(finance, 2021)
    with CaptureQueriesContext(connection) as few_page:
        assert client_finance.get("/dashboard/?year=2021").status_code == 200
    _big_campaign(200, 25)
    assert DueProject.objects.count() == 5000 + 8
    with CaptureQueriesContext(connection) as many:
        overview = dashboard_overview(finance, 2021)
    with CaptureQueriesContext(connection) as many_page:
        response = client_finance.get("/dashboard/?year=2021&show=incomplete&sort=overdue")
    assert len(overview.rows) == 203
    assert overview.totals.due == 5008
    assert len(many.captured_queries) == len(few.captured_queries) <= 9
    assert len(many_page.captured_queries) == len(few_page.captured_queries)
    assert response.status_code == 200 and len(_rows(response.content.decode())) == 50


# --- overdue on the lists -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (None, True),
        (Status.DRAFT, True),
        (Status.DEPARTMENT_REVIEW, True),
        (Status.RETURNED, True),
        (Status.SUBMITTED, False),
        (Status.APPROVED, False),
    ],
)
def test_it_decides_overdue_by_status_and_day(status, expected):
    deadline = TODAY
    assert is_overdue(status, deadline, TODAY) is False  # the deadline day is still in time
    assert is_overdue(status, deadline, TODAY + timedelta(1)) is expected
    assert is_overdue(status, None, TODAY + timedelta(1)) is False  # no campaign


def test_the_annotation_agrees_with_the_rule(campaign, staff_a, dept_a, dept_b, staff_b):
    other_year = make_evaluation(dept_a, staff_a, project_name="2020的表", year=2020)
    forms = with_overdue(Evaluation.objects.all())
    assert len(forms) == 7  # five of due projects, one outside the list, one of 2020
    for form in forms:
        expected = is_overdue(form.status, form.deadline, TODAY)
        assert form.is_overdue is expected, form.project_name
    by_name = {f.project_name: f for f in forms}
    assert by_name["A草稿"].is_overdue and by_name["A清单外"].is_overdue
    assert not by_name["A已提交"].is_overdue
    assert by_name[other_year.project_name].deadline is None
    b_form = make_evaluation(dept_b, staff_b, project_name="B1表")
    assert with_overdue(
        Evaluation.objects.filter(pk=b_form.pk)
    ).get().deadline == TODAY + timedelta(10)


def test_the_list_and_queue_show_the_badges(campaign, client_a, client_finance, dept_a):
    listing = client_a.get("/evaluations/?year=2021").content.decode()
    for name, late in [("A草稿", True), ("A已退回", True), ("A已提交", False), ("A已通过", False)]:
        row = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*{name}(?:(?!</tr>).)*</tr>", listing, re.S)
        assert row, name
        assert ("overdue-badge" in row.group(0)) is late, name
    # The queue: the submitted form was handed in after the deadline (today > deadline).
    Evaluation.objects.filter(project_name="A已提交").update(submitted_at=timezone.now())
    queue = client_finance.get("/review/").content.decode()
    assert "A已提交" in queue and "逾期提交" in queue
    Evaluation.objects.filter(project_name="A已提交").update(
        submitted_at=timezone.now() - timedelta(days=30)
    )
    assert "逾期提交" not in client_finance.get("/review/").content.decode()
