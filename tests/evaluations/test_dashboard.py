"""Finance overview: figures computed by hand, scoping per role, charts, export."""

from __future__ import annotations

import io
import re
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from freezegun import freeze_time
from openpyxl import load_workbook

from departments.models import Department
from evaluations.core.evaluation_data import FundingData
from evaluations.dashboard import dashboard_overview
from evaluations.models import Evaluation, EvaluationEvent, EventAction, Status
from evaluations.workflow import (
    evaluation_approve,
    evaluation_department_return,
    evaluation_return,
    evaluation_sign_off,
    evaluation_submit,
)
from tests.conftest import client_for
from tests.evaluations.workflow.test_transitions import due_evaluation, require_sign_off
from tests.factories import make_evaluation

D = Decimal
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _funding(budget: str, executed: str) -> list[FundingData]:
    return [
        FundingData("total", D(budget), D(budget), D(executed)),
        FundingData("current_year", D(budget), D(budget), D(executed)),
        FundingData("carryover", D("0"), D("0"), D("0")),
        FundingData("other", D("0"), D("0"), D("0")),
    ]


def _set(evaluation: Evaluation, **fields) -> None:
    Evaluation.objects.filter(pk=evaluation.pk).update(**fields)


def _event(evaluation: Evaluation, action: str, when: datetime) -> None:
    event = EvaluationEvent.objects.create(evaluation=evaluation, action=action, revision=1)
    # created_at is auto_now_add: place the event in time afterwards.
    EvaluationEvent.objects.filter(pk=event.pk).update(created_at=when)


@pytest.fixture
def year_2021(dept_a, dept_b, staff_a, staff_b):
    """Department A: approved 100, draft 98 (errors), submitted 55; B: returned 72.5; C: nothing."""
    dept_c = Department.objects.create(name="昌吉州审计局")
    a1 = make_evaluation(dept_a, staff_a, project_name="A1")
    a2 = make_evaluation(dept_a, staff_a, project_name="A2", funding=_funding("100", "80"))
    a3 = make_evaluation(dept_a, staff_a, project_name="A3")
    b1 = make_evaluation(dept_b, staff_b, project_name="B1")
    b2 = make_evaluation(dept_b, staff_b, project_name="B2", year=2020)
    _set(a1, status=Status.APPROVED)
    _set(a3, status=Status.SUBMITTED, computed_total=D("55"))
    _set(b1, status=Status.RETURNED, computed_total=D("72.5"))
    _set(b2, status=Status.APPROVED)
    _event(a1, EventAction.SUBMITTED, datetime(2022, 3, 1, 9, 0, tzinfo=SHANGHAI))
    # 23:30 in Shanghai is still 1 March there (15:30 UTC): days are local days.
    _event(a3, EventAction.SUBMITTED, datetime(2022, 3, 1, 23, 30, tzinfo=SHANGHAI))
    _event(b1, EventAction.SUBMITTED, datetime(2022, 3, 2, 10, 0, tzinfo=SHANGHAI))
    _event(a1, EventAction.APPROVED, datetime(2022, 3, 3, 11, 0, tzinfo=SHANGHAI))
    _event(b1, EventAction.RETURNED, datetime(2022, 3, 4, 11, 0, tzinfo=SHANGHAI))
    _event(b2, EventAction.SUBMITTED, datetime(2021, 3, 4, 11, 0, tzinfo=SHANGHAI))
    return {"a1": a1, "a2": a2, "a3": a3, "b1": b1, "b2": b2, "dept_c": dept_c}


def _row(html: str, department: Department) -> str:
    match = re.search(rf'<tr[^>]*data-department="{department.pk}">(.*?)</tr>', html, re.S)
    assert match, department.name
    return match.group(1)


def _cell(row_html: str, css: str) -> str:
    match = re.search(rf'class="text-end {css}">(.*?)</td>', row_html, re.S)
    assert match, css
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def test_it_computes_the_figures_of_each_department(year_2021, finance, dept_a, dept_b):
    a2 = Evaluation.objects.get(pk=year_2021["a2"].pk)
    assert a2.computed_total == D("98.00")  # 8.00 for 80/100 executed + 90 of indicators
    assert a2.error_count > 0
    overview = dashboard_overview(finance)
    assert overview.year == 2021
    assert overview.years == [2021, 2020]
    rows = {row.name: row for row in overview.rows}
    assert list(rows) == sorted(rows)
    a, b, c = rows[dept_a.name], rows[dept_b.name], rows["昌吉州审计局"]
    assert (a.draft, a.submitted, a.returned, a.approved, a.forms) == (1, 1, 0, 1, 3)
    assert a.average_total == D("77.50")  # (100 + 55) / 2: a draft's total is no result
    assert a.execution_rate.quantize(D("0.0001")) == D("0.9167")  # (70 + 80 + 70) / (70 + 100 + 70)
    assert a.with_errors == 1
    assert a.pending and a.pending_reason == "1 张草稿"
    assert (b.draft, b.submitted, b.returned, b.approved) == (0, 0, 1, 0)
    assert b.average_total is None  # returned: not handed in
    assert b.execution_rate == D("1")
    assert b.pending and b.pending_reason == "尚未提交任何自评表"
    assert c.forms == 0 and c.average_total is None and c.execution_rate is None
    assert c.pending_reason == "尚无自评表"
    totals = overview.totals
    assert totals.forms == 4
    assert totals.average_total == D("77.50")  # (100 + 55) / 2: forms handed in only
    assert totals.execution_rate.quantize(D("0.0001")) == D("0.9355")  # 290 / 310
    assert [row.name for row in overview.pending] == [row.name for row in overview.rows]
    # Forms handed in only: the draft (98) and the returned form (72.5) are no results.
    assert overview.histogram == [
        ("<60", 1),
        ("60–70", 0),
        ("70–80", 0),
        ("80–90", 0),
        ("90–100", 1),
    ]


def test_it_counts_progress_per_local_day_cumulatively(year_2021, finance):
    overview = dashboard_overview(finance)
    assert overview.progress_unit == "day"
    assert [
        (
            p.start.isoformat(),
            p.submissions,
            p.approvals,
            p.cumulative_submissions,
            p.cumulative_approvals,
        )
        for p in overview.progress
    ] == [
        ("2022-03-01", 2, 0, 2, 0),
        ("2022-03-02", 1, 0, 3, 0),
        ("2022-03-03", 0, 1, 3, 1),
    ]


def test_it_groups_progress_per_week_over_a_long_period(dept_a, staff_a, finance):
    first = make_evaluation(dept_a, staff_a, project_name="W1")
    second = make_evaluation(dept_a, staff_a, project_name="W2")
    _event(first, EventAction.SUBMITTED, datetime(2022, 1, 3, 9, 0, tzinfo=SHANGHAI))  # Monday
    _event(second, EventAction.SUBMITTED, datetime(2022, 3, 10, 9, 0, tzinfo=SHANGHAI))  # Thursday
    _event(second, EventAction.APPROVED, datetime(2022, 3, 12, 9, 0, tzinfo=SHANGHAI))
    overview = dashboard_overview(finance, 2021)
    assert overview.progress_unit == "week"
    assert [
        (p.start.isoformat(), p.cumulative_submissions, p.cumulative_approvals)
        for p in overview.progress
    ] == [
        ("2022-01-03", 1, 0),
        ("2022-03-07", 2, 1),
    ]


def _on(day: str):
    """Run what follows at 10:00 (Shanghai) of ``day``: the history records that time."""
    return freeze_time(datetime.fromisoformat(f"{day}T10:00").replace(tzinfo=SHANGHAI))


@pytest.mark.parametrize("sign_off", [False, True], ids=["direct", "with_sign_off"])
def test_progress_counts_each_form_once_when_it_first_reached_the_bureau(
    sign_off, dept_a, staff_a, head_a, finance
):
    require_sign_off(2021, required=sign_off)
    first = due_evaluation(dept_a, staff_a, project_name="P1")
    second = due_evaluation(dept_a, staff_a, project_name="P2")
    waiting = due_evaluation(dept_a, staff_a, project_name="P3")

    def hand_in(evaluation: Evaluation) -> None:
        # With a sign-off the form reaches the bureau by the head's 部门审核通过.
        evaluation_submit(evaluation=evaluation, user=staff_a)
        if sign_off:
            evaluation_sign_off(evaluation=evaluation, user=head_a)

    with _on("2022-03-01"):
        hand_in(first)
        if sign_off:
            # Sent to the head and returned by them: it never reached the bureau then.
            evaluation_submit(evaluation=second, user=staff_a)
            evaluation_department_return(evaluation=second, user=head_a, reason="请补充说明")
            evaluation_submit(evaluation=waiting, user=staff_a)  # still with the head
    with _on("2022-03-02"):
        evaluation_return(evaluation=first, user=finance, reason="请补充佐证材料")
    with _on("2022-03-03"):
        hand_in(first)  # handed in again: counted on 03-01 only
        hand_in(second)
    with _on("2022-03-04"):
        evaluation_approve(evaluation=first, user=finance)
    assert Evaluation.objects.get(pk=waiting.pk).status == (
        Status.DEPARTMENT_REVIEW if sign_off else Status.DRAFT
    )
    overview = dashboard_overview(finance, 2021)
    assert [
        (p.start.isoformat(), p.submissions, p.approvals, p.cumulative_submissions)
        for p in overview.progress
    ] == [
        ("2022-03-01", 1, 0, 1),
        ("2022-03-03", 1, 0, 2),
        ("2022-03-04", 0, 1, 2),
    ]
    assert overview.progress[-1].cumulative_approvals == 1
    page = client_for(finance).get("/dashboard/?year=2021").content.decode()
    assert "2022-03-03 累计提交财政局: 2" in page and "2022-03-04 累计通过: 1" in page


def test_it_shows_finance_every_department(year_2021, client_finance, dept_a, dept_b):
    response = client_finance.get("/dashboard/")
    assert response.status_code == 200
    html = response.content.decode()
    row_a = _row(html, dept_a)
    assert [
        _cell(row_a, c) for c in ("num-draft", "num-submitted", "num-returned", "num-approved")
    ] == [
        "1",
        "1",
        "0",
        "1",
    ]
    assert _cell(row_a, "num-average") == "77.5"
    assert _cell(row_a, "num-rate") == "91.67%"
    assert _cell(row_a, "num-errors") == "1"
    assert _cell(_row(html, dept_b), "num-rate") == "100.00%"
    assert _cell(_row(html, year_2021["dept_c"]), "num-rate") == "—"
    # The department without forms says so in its own row (no second list of names).
    state = re.search(r"<td>(.*?)</td>\s*</tr>", _row(html, year_2021["dept_c"]) + "</tr>", re.S)
    assert state and "尚无自评表" in state.group(1)
    assert html.count("昌吉州审计局") == 1
    assert "<svg" in html and "&lt;60: 1" in html and "90–100: 1" in html


def test_it_shows_staff_their_own_department_only(year_2021, client_a, dept_a, dept_b):
    html = client_a.get("/dashboard/").content.decode()
    assert dept_a.name in html
    assert dept_b.name not in html and "昌吉州审计局" not in html
    assert _cell(_row(html, dept_a), "num-average") == "77.5"
    assert "&lt;60: 1" in html and "70–80: 0" in html  # B's 72.5 is not counted
    overview_2020 = client_a.get("/dashboard/?year=2020").content.decode()
    # As a word: the page's random CSRF token may contain the letters "B2".
    assert not re.search(r"(?<![A-Za-z0-9])B2(?![A-Za-z0-9])", overview_2020)
    assert _cell(_row(overview_2020, dept_a), "num-forms") == "0"


def test_it_selects_the_year(year_2021, client_finance, dept_b):
    html = client_finance.get("/dashboard/?year=2020").content.decode()
    row_b = _row(html, dept_b)
    assert _cell(row_b, "num-approved") == "1"
    assert _cell(row_b, "num-forms") == "1"
    # A malformed year is a bad request (400, never 404 or 500).
    assert client_finance.get("/dashboard/?year=abc").status_code == 400


def test_it_sends_anonymous_users_to_login(client):
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert client.get("/dashboard/export.xlsx").status_code == 302


def test_it_refuses_post(client_finance):
    assert client_finance.post("/dashboard/").status_code == 405


def test_it_shows_an_empty_overview(client_finance):
    response = client_finance.get("/dashboard/")
    assert response.status_code == 200
    assert "还没有任何自评表" in response.content.decode()


def test_it_uses_a_constant_number_of_queries(year_2021, finance, staff_b):
    dashboard_overview(finance)  # the membership lookup is cached on the user
    with CaptureQueriesContext(connection) as few:
        dashboard_overview(finance)
    for index in range(5):
        department = Department.objects.create(name=f"部门{index}")
        evaluation = make_evaluation(department, staff_b, project_name=f"P{index}")
        _event(evaluation, EventAction.SUBMITTED, datetime(2022, 4, 1 + index, tzinfo=SHANGHAI))
    with CaptureQueriesContext(connection) as many:
        overview = dashboard_overview(finance)
    assert len(overview.rows) == 8
    assert len(many.captured_queries) == len(few.captured_queries) <= 6


def test_it_exports_the_table_as_text_safe_xlsx(year_2021, client_finance, staff_a, dept_a):
    injected = Department.objects.create(name='=HYPERLINK("http://evil","x")')
    make_evaluation(injected, staff_a, project_name="X")
    response = client_finance.get("/dashboard/export.xlsx?year=2021")
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "attachment" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=3)}
    a = rows[dept_a.name]
    assert [cell.value for cell in a[1:6]] == [1, 1, 0, 1, 3]
    assert a[6].value == D("77.5") or float(a[6].value) == pytest.approx(77.5)
    assert float(a[9].value) == pytest.approx(220 / 240)
    assert a[10].value == 1
    evil = rows[injected.name]
    assert evil[0].data_type == "s"  # text, not a formula
    assert rows["合计"][5].value == 5


def test_it_exports_only_the_staff_department(year_2021, client_a, dept_a, dept_b):
    sheet = load_workbook(io.BytesIO(client_a.get("/dashboard/export.xlsx").content)).active
    names = [row[0].value for row in sheet.iter_rows(min_row=3)]
    assert names == [dept_a.name, "合计"]
