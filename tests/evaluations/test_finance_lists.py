"""Finance at 200 departments: sortable lists with dates, several
states at once, the resubmitted badge, search by 实施单位, the department picker and the
dashboard's single table; constant queries whatever the number of departments."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.models import Campaign, DueProject
from departments.models import Department
from evaluations.models import Evaluation, EvaluationEvent, EventAction, Status

pytestmark = pytest.mark.django_db

BASE = timezone.make_aware(datetime(2022, 3, 1, 9, 0))

# (project, department key, implementing unit, status, total, rate, submitted day, changed day)
ROWS = [
    ("丙项目", "b", "乙单位", Status.SUBMITTED, "88.50", "0.95", 3, 9),
    ("甲项目", "a", "甲单位", Status.DRAFT, "70.00", None, None, 4),
    ("乙项目", "a", "丙单位", Status.RETURNED, None, "0.50", 1, 7),
    ("丁项目", "b", "丁单位", Status.APPROVED, "95.25", "1.00", 2, 2),
    ("戊项目", "a", "农机推广站", Status.SUBMITTED, "60.00", "0.80", 5, 1),
]


def _at(day: int | None) -> datetime | None:
    return None if day is None else BASE + timedelta(days=day)


@pytest.fixture
def forms(dept_a, dept_b) -> dict[str, Evaluation]:
    departments = {"a": dept_a, "b": dept_b}
    made = {}
    for project, dept, unit, status, total, rate, submitted, _changed in ROWS:
        made[project] = Evaluation.objects.create(
            year=2021,
            department=departments[dept],
            project_name=project,
            implementing_unit=unit,
            status=status,
            computed_total=None if total is None else Decimal(total),
            computed_execution_rate=None if rate is None else Decimal(rate),
            submitted_at=_at(submitted),
        )
    # updated_at is auto_now: set it afterwards.
    for project, *_rest, changed in ROWS:
        Evaluation.objects.filter(pk=made[project].pk).update(updated_at=_at(changed))
    return made


def _order(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr data-evaluation="(\d+)"', html)]


def _expected(forms, key: str, descending: bool, *, only=None) -> list[int]:
    index = {"total": 4, "rate": 5, "submitted": 6, "changed": 7}
    names = {"department": None, "project": 0, "status": 3}
    rows = [r for r in ROWS if only is None or r[3] in only]

    def value(row):
        if key == "department":
            return forms[row[0]].department.name
        if key in names:
            return str(row[names[key]])
        raw = row[index[key]]
        if raw is None:
            return None
        return Decimal(raw) if key in ("total", "rate") else raw

    present = [r for r in rows if value(r) is not None]
    blank = [r for r in rows if value(r) is None]
    present.sort(key=value, reverse=descending)
    return [forms[r[0]].pk for r in present + blank]


KEYS = ["department", "project", "status", "total", "rate", "submitted", "changed"]


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("descending", [False, True])
def test_the_list_sorts_by_every_column(forms, client_finance, key, descending):
    param = f"-{key}" if descending else key
    html = client_finance.get(f"/evaluations/?o={param}").content.decode()
    order = _order(html)
    if key in ("department", "status"):
        # Ties (same department / state) keep the default order: compare the groups only.
        values = {
            "department": lambda e: e.department.name,
            "status": lambda e: e.status,
        }[key]
        by_pk = {e.pk: e for e in forms.values()}
        seen = [values(by_pk[pk]) for pk in order]
        assert seen == sorted(seen, reverse=descending)
    else:
        assert order == _expected(forms, key, descending)
    # The active header says how the table is sorted; its link reverses it.
    state = "descending" if descending else "ascending"
    header = re.search(
        rf'<th[^>]*aria-sort="{state}"[^>]*><a[^>]*sort-{key}[^>]*href="([^"]+)"', html
    )
    header = header or re.search(
        rf'<th[^>]*aria-sort="{state}"[^>]*><a[^>]*href="([^"]+)"[^>]*>', html
    )
    assert header, key
    assert ("o=" + (key if descending else f"-{key}")) in header.group(1)
    assert html.count("aria-sort=") == 1


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("descending", [False, True])
def test_the_review_queue_sorts_by_every_column(forms, client_finance, key, descending):
    param = f"-{key}" if descending else key
    html = client_finance.get(f"/review/?o={param}").content.decode()
    order = _order(html)
    if key in ("department", "status"):
        by_pk = {e.pk: e for e in forms.values()}
        attr = (lambda e: e.department.name) if key == "department" else (lambda e: e.status)
        seen = [attr(by_pk[pk]) for pk in order]
        assert seen == sorted(seen, reverse=descending)
        assert len(order) == 2
    else:
        assert order == _expected(forms, key, descending, only={Status.SUBMITTED})


def test_the_queue_defaults_to_the_oldest_submission(forms, client_finance):
    order = _order(client_finance.get("/review/").content.decode())
    assert order == [forms["丙项目"].pk, forms["戊项目"].pk]


def test_the_lists_show_when_each_form_was_submitted_and_changed(forms, client_finance):
    for url in ("/evaluations/", "/review/"):
        html = client_finance.get(url).content.decode()
        assert ">提交时间" in html and ">修改时间" in html
        row = re.search(
            rf'<tr data-evaluation="{forms["丙项目"].pk}">(.*?)</tr>', html, re.S
        ).group(1)
        submitted = timezone.localtime(_at(3)).strftime("%Y-%m-%d %H:%M")
        changed = timezone.localtime(_at(9)).strftime("%Y-%m-%d %H:%M")
        assert re.search(rf'class="[^"]*submitted-at"><time[^>]*>{submitted}</time>', row)
        assert re.search(rf'class="[^"]*changed-at"><time[^>]*>{changed}</time>', row)
    # Never submitted: a dash.
    html = client_finance.get("/evaluations/").content.decode()
    row = re.search(rf'<tr data-evaluation="{forms["甲项目"].pk}">(.*?)</tr>', html, re.S)
    assert re.search(r'submitted-at">—</td>', row.group(1))


def test_the_list_filters_by_several_states(forms, client_finance):
    html = client_finance.get("/evaluations/?status=submitted&status=returned").content.decode()
    names = {e.pk: e.project_name for e in forms.values()}
    assert sorted(names[pk] for pk in _order(html)) == sorted(["丙项目", "戊项目", "乙项目"])
    # Both boxes stay ticked; the pages keep both states.
    assert re.search(r'value="submitted"[^>]*checked', html)
    assert re.search(r'value="returned"[^>]*checked', html)
    assert not re.search(r'value="draft"[^>]*checked', html)
    one = client_finance.get("/evaluations/?status=approved").content.decode()
    assert _order(one) == [forms["丁项目"].pk]


@pytest.mark.parametrize(
    "query",
    [
        "status=²",
        "status=submitted&status=__proto__",
        "o=__proto__",
        "o=-",
        "o=department__name",
        "o=" + "x" * 5000,
        "year=²",
        "year=" + "9" * 5000,
        "department=" + "9" * 25,
        "department=-1",
        "page=" + "9" * 30,
        "page=²",
        "q=" + "长" * 5000,
        "resubmitted=²",
    ],
)
@pytest.mark.parametrize("url", ["/evaluations/", "/review/"])
def test_hostile_query_strings_never_break_the_lists(forms, client_finance, url, query):
    response = client_finance.get(f"{url}?{query}")
    assert response.status_code == 200


def test_a_bad_value_is_ignored_and_the_good_ones_still_apply(forms, client_finance):
    html = client_finance.get("/evaluations/?status=approved&o=__proto__").content.decode()
    assert _order(html) == [forms["丁项目"].pk]


def _return_and_resubmit(evaluation: Evaluation, action=EventAction.RETURNED) -> None:
    EvaluationEvent.objects.create(
        evaluation=evaluation,
        action=action,
        from_status=Status.SUBMITTED,
        to_status=Status.RETURNED,
        revision=1,
        reason="请补充",
    )


def test_forms_handed_in_again_after_a_return_are_marked(forms, client_finance):
    _return_and_resubmit(forms["丙项目"])  # submitted again: marked
    _return_and_resubmit(forms["乙项目"])  # still returned: not marked
    EvaluationEvent.objects.create(
        evaluation=forms["戊项目"], action=EventAction.SUBMITTED, revision=1
    )  # submitted, never returned: not marked
    for url in ("/evaluations/", "/review/"):
        html = client_finance.get(url).content.decode()
        marked = [
            int(pk)
            for pk, row in re.findall(r'<tr data-evaluation="(\d+)">(.*?)</tr>', html, re.S)
            if "退回后重新提交" in row
        ]
        assert marked == [forms["丙项目"].pk], url
    # The queue can show only those.
    html = client_finance.get("/review/?resubmitted=true").content.decode()
    assert _order(html) == [forms["丙项目"].pk]


def test_a_return_by_the_department_head_only_is_no_resubmission_to_the_bureau(
    forms, client_finance
):
    # 戊 was returned by its department's head only, then reached the bureau.
    _return_and_resubmit(forms["戊项目"], EventAction.DEPARTMENT_RETURNED)
    _return_and_resubmit(forms["丙项目"])  # returned by the bureau: marked
    for url in ("/evaluations/", "/review/"):
        html = client_finance.get(url).content.decode()
        row = re.search(rf'<tr data-evaluation="{forms["戊项目"].pk}">(.*?)</tr>', html, re.S)
        assert "退回后重新提交" not in row.group(1), url
    html = client_finance.get("/review/?resubmitted=true").content.decode()
    assert _order(html) == [forms["丙项目"].pk]
    # Waiting for the head again, the head's return makes it a resubmission (to the head).
    Evaluation.objects.filter(pk=forms["戊项目"].pk).update(status=Status.DEPARTMENT_REVIEW)
    html = client_finance.get("/evaluations/").content.decode()
    row = re.search(rf'<tr data-evaluation="{forms["戊项目"].pk}">(.*?)</tr>', html, re.S)
    assert "退回后重新提交" in row.group(1)


def test_search_finds_the_implementing_unit(forms, client_finance, client_a):
    for client in (client_finance, client_a):
        html = client.get("/evaluations/?q=农机推广").content.decode()
        assert _order(html) == [forms["戊项目"].pk]
        assert 'value="农机推广"' in html
    html = client_finance.get("/review/?q=农机推广").content.decode()
    assert _order(html) == [forms["戊项目"].pk]
    # The project name still matches.
    html = client_finance.get("/evaluations/?q=丁项").content.decode()
    assert _order(html) == [forms["丁项目"].pk]


def test_the_page_links_keep_sort_and_filters(dept_a, client_finance):
    Evaluation.objects.bulk_create(
        Evaluation(
            department=dept_a, year=2021, project_name=f"批量{i:03d}", status=Status.SUBMITTED
        )
        for i in range(60)
    )
    html = client_finance.get(
        "/evaluations/?status=submitted&status=draft&o=-project"
    ).content.decode()
    link = re.search(r'href="\?([^"]*page=2)"', html).group(1).replace("&amp;", "&")
    assert "status=submitted" in link and "status=draft" in link and "o=-project" in link
    page_two = client_finance.get("/evaluations/?" + link).content.decode()
    names = re.findall(r'<a href="/evaluations/\d+/">(批量\d+)</a>', page_two)
    assert names == [f"批量{i:03d}" for i in range(9, -1, -1)]


# --- the department picker ----------------------------------------------------------------


def _picker(html: str, name: str = "department") -> str:
    match = re.search(
        rf'<select[^>]*name="{name}"[^>]*data-department-picker[^>]*>(.*?)</select>', html, re.S
    )
    assert match, "no department picker"
    return match.group(0)


@pytest.mark.parametrize("url", ["/evaluations/", "/review/", "/exports/"])
def test_every_page_that_picks_a_department_has_the_picker(forms, client_finance, dept_a, url):
    html = client_finance.get(url).content.decode()
    select = _picker(html)
    select_id = re.search(r'id="([^"]+)"', select).group(1)
    assert re.search(rf'<label[^>]*for="{select_id}"[^>]*>主管部门</label>', html)
    assert f'<option value="{dept_a.pk}">{dept_a.name}</option>' in select
    assert "/static/js/department-picker.js" in html


def test_the_campaign_page_pickers(dept_a, client_finance):
    Campaign.objects.create(year=2021, title="2021年度自评", deadline=timezone.localdate())
    DueProject.objects.create(
        campaign=Campaign.objects.get(year=2021), department=dept_a, project_name="应评一"
    )
    html = client_finance.get("/campaigns/2021/").content.decode()
    assert html.count("data-department-picker") == 2


def test_the_plain_select_still_filters(forms, client_finance, dept_a, dept_b):
    """Without JavaScript the select submits ?department=<id>, as before."""
    html = client_finance.get(f"/evaluations/?department={dept_b.pk}").content.decode()
    assert sorted(_order(html)) == sorted([forms["丙项目"].pk, forms["丁项目"].pk])
    assert f'<option value="{dept_b.pk}" selected>' in _picker(html)
    html = client_finance.get(f"/review/?department={dept_a.pk}").content.decode()
    assert _order(html) == [forms["戊项目"].pk]
    assert f'<option value="{dept_a.pk}" selected>' in _picker(html)


def test_staff_get_no_department_picker(forms, client_a, dept_b):
    html = client_a.get(f"/evaluations/?department={dept_b.pk}").content.decode()
    assert "data-department-picker" not in html
    assert set(_order(html)) == {forms[p].pk for p in ("甲项目", "乙项目", "戊项目")}


# --- the dashboard ------------------------------------------------------------------------


@pytest.fixture
def big_year(dept_a, staff_a):
    """The 2021 campaign over 120 departments; A has every state, the rest nothing due."""
    campaign = Campaign.objects.create(
        year=2021, title="2021年度自评", deadline=timezone.localdate() - timedelta(2)
    )
    departments = Department.objects.bulk_create(
        Department(name=f"昌吉回族自治州第{i:03d}局") for i in range(120)
    )
    DueProject.objects.bulk_create(
        DueProject(campaign=campaign, department=d, project_name=f"{d.name}项目")
        for d in departments[:30]
    )
    done = departments[30]
    project = DueProject.objects.create(campaign=campaign, department=done, project_name="交齐")
    Evaluation.objects.create(
        year=2021, department=done, project_name="交齐", status=Status.APPROVED, due_project=project
    )
    return campaign, departments


def _dashboard_rows(html: str) -> list[str]:
    return re.findall(r'<tr[^>]*data-department="(\d+)"', html)


def test_the_dashboard_is_one_paginated_table_with_the_charts_above(big_year, client_finance):
    html = client_finance.get("/dashboard/?year=2021").content.decode()
    assert len(re.findall(r"<table[^>]*dashboard-table", html)) == 1
    assert "dashboard-pending-list" not in html and "尚未完成提交的部门" not in html
    assert len(_dashboard_rows(html)) == 50
    assert html.index("dashboard-charts") < html.index("dashboard-table")
    # No name is listed twice: a department on the page appears once.
    for name in re.findall(r"昌吉回族自治州第\d{3}局", html):
        assert html.count(name) == 1, name
    page_three = client_finance.get("/dashboard/?year=2021&page=3").content.decode()
    assert len(_dashboard_rows(page_three)) == 121 - 100


def test_the_dashboard_filters_incomplete_and_overdue(big_year, client_finance, dept_a):
    campaign, departments = big_year
    incomplete = client_finance.get("/dashboard/?year=2021&show=incomplete").content.decode()
    expected = {str(d.pk) for d in departments[:30]}
    assert set(_dashboard_rows(incomplete)) == expected
    overdue = client_finance.get("/dashboard/?year=2021&show=overdue").content.decode()
    assert set(_dashboard_rows(overdue)) == expected
    # An extended deadline takes a department out of 逾期 but not out of 未完成.
    from campaigns.models import DeadlineExtension

    DeadlineExtension.objects.create(
        campaign=campaign,
        department=departments[0],
        deadline=timezone.localdate() + timedelta(5),
        reason="延期",
    )
    overdue = client_finance.get("/dashboard/?year=2021&show=overdue").content.decode()
    assert str(departments[0].pk) not in _dashboard_rows(overdue)
    incomplete = client_finance.get("/dashboard/?year=2021&show=incomplete").content.decode()
    assert str(departments[0].pk) in _dashboard_rows(incomplete)


def test_the_dashboard_sorts(big_year, client_finance):
    html = client_finance.get("/dashboard/?year=2021&sort=name&dir=desc").content.decode()
    assert 'aria-sort="descending"' in html
    names = re.findall(r"昌吉回族自治州第(\d{3})局", html)
    assert names == sorted(names, reverse=True)


# --- constant queries ---------------------------------------------------------------------


def _populate(departments: int, forms_each: int = 2, start: int = 0) -> None:
    made = Department.objects.bulk_create(
        Department(name=f"昌吉回族自治州测试{i:03d}局") for i in range(start, start + departments)
    )
    Evaluation.objects.bulk_create(
        Evaluation(
            year=2021,
            department=d,
            project_name=f"项目{j}",
            implementing_unit="本级",
            status=[Status.SUBMITTED, Status.RETURNED][j % 2],
            computed_total=Decimal("80"),
            submitted_at=BASE,
        )
        for d in made
        for j in range(forms_each)
    )
    returned = Evaluation.objects.filter(status=Status.SUBMITTED)[: departments // 2]
    EvaluationEvent.objects.bulk_create(
        EvaluationEvent(evaluation=e, action=EventAction.RETURNED, revision=1) for e in returned
    )


PAGES = [
    "/evaluations/",
    "/evaluations/?o=-total&status=submitted&status=returned",
    "/evaluations/?o=changed&q=本级",
    "/review/",
    "/review/?o=-department&resubmitted=true",
    "/dashboard/?year=2021",
    "/dashboard/?year=2021&show=incomplete&sort=overdue&dir=desc",
    "/exports/",
]


def test_the_finance_pages_read_in_a_constant_number_of_queries(client_finance, finance):
    Campaign.objects.create(year=2021, title="2021", deadline=timezone.localdate())
    _populate(20)
    for url in PAGES:  # warm the per-user caches
        client_finance.get(url)
    counts = {}
    for url in PAGES:
        with CaptureQueriesContext(connection) as log:
            assert client_finance.get(url).status_code == 200
        counts[url] = len(log.captured_queries)
    _populate(180, forms_each=25, start=20)
    assert Department.objects.count() == 200
    for url in PAGES:
        with CaptureQueriesContext(connection) as log:
            assert client_finance.get(url).status_code == 200
        assert len(log.captured_queries) == counts[url], url


def test_the_bulk_export_takes_one_state_only(forms, client_finance):
    one = client_finance.get("/evaluations/?year=2021&status=submitted").content.decode()
    assert '<input type="hidden" name="status" value="submitted">' in one
    two = client_finance.get(
        "/evaluations/?year=2021&status=submitted&status=returned"
    ).content.decode()
    assert 'type="hidden" name="status"' not in two
    assert "批量导出只按一个状态筛选" in two
