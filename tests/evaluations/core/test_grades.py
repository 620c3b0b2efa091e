"""Grades (优/良/中/差) at every boundary, beside the total on every page and rendering, on
the dashboard, and the year's results for publication (决算公开)."""

from __future__ import annotations

import subprocess
from decimal import Decimal
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from lxml import html as lxml_html
from openpyxl import load_workbook

from departments.models import Department
from evaluations.core import layout as L
from evaluations.core.grades import GRADE_KEYS, grade, grade_key, grade_ranges
from evaluations.core.scoring import evaluate
from evaluations.dashboard import dashboard_overview
from evaluations.models import Evaluation, Status
from evaluations.rules import current_rules
from exports import results
from exports.compose import evaluation_context
from tests.conftest import client_for
from tests.factories import clean_form_data, make_evaluation

D = Decimal


@pytest.mark.parametrize(
    ("total", "expected"),
    [
        ("100", "优"),
        ("90", "优"),
        ("90.00", "优"),
        ("89.99", "良"),
        ("80", "良"),
        ("79.99", "中"),
        ("60", "中"),
        ("59.99", "差"),
        ("0", "差"),
        (None, None),
    ],
)
def test_it_grades_every_boundary(total, expected):
    assert grade(None if total is None else D(total)) == expected


def test_the_ranges_agree_with_the_grade():
    assert [key for key, _low, _high in grade_ranges()] == list(GRADE_KEYS)
    for key, low, high in grade_ranges():
        if low is not None:
            assert grade_key(low) == key
        if high is not None:
            assert grade_key(high - D("0.01")) == key


# --- beside the total --------------------------------------------------------------------


def _good_form():
    """A form whose computed total is 85 (良) while it states 92 (a grade of 优 if stated)."""
    form = clean_form_data(project_name="良好项目")
    form.indicators[6].score = D("0")  # weight 15
    form.stated_total = D("92")
    return form


@pytest.fixture
def good(dept_a, staff_a) -> Evaluation:
    form = _good_form()
    evaluation = make_evaluation(
        dept_a, staff_a, project_name=form.project_name, indicators=form.indicators
    )
    Evaluation.objects.filter(pk=evaluation.pk).update(
        stated_total=D("92"), status=Status.SUBMITTED
    )
    evaluation.refresh_from_db()
    assert evaluation.computed_total == D("85.00")
    return evaluation


def test_the_layout_grades_the_computed_total_not_the_stated_one():
    form = _good_form()
    result = evaluate(form, current_rules())
    total = L.form_layout(form, result).parts[L.TOTAL].rows[0].cells
    assert [(c.col, c.colspan, c.text) for c in total] == [
        (1, 6, "总分"),
        (7, 1, "100"),
        (8, 1, "92"),
        (9, 1, "等级：良"),
    ]
    assert total[3].field == L.GRADE_FIELD and total[3].value == "良"
    # Without the grade (the entry form), the total spans both columns as printed.
    bare = L.form_layout(form, result, with_grade=False).parts[L.TOTAL].rows[0].cells
    assert [(c.col, c.colspan) for c in bare] == [(1, 6), (7, 1), (8, 2)]
    # Nothing computed, nothing graded.
    unscored = L.form_layout(form).parts[L.TOTAL].rows[0].cells
    assert unscored[3].text == "" and unscored[3].value is None


def _grade_cell(page: str) -> str:
    tree = lxml_html.fromstring(page)
    cells = tree.xpath('//table[@id="official-table"]//td[@data-field="grade"]')
    assert len(cells) == 1
    return cells[0].text_content().strip()


def test_it_shows_the_grade_on_the_detail_and_review_pages(good, client_a, client_finance):
    assert _grade_cell(client_a.get(f"/evaluations/{good.pk}/").content.decode()) == "等级：良"
    review = client_finance.get(f"/review/{good.pk}/").content.decode()
    assert _grade_cell(review) == "等级：良"


def test_the_entry_form_shows_no_grade(dept_a, staff_a, client_a):
    draft = make_evaluation(dept_a, staff_a)
    page = client_a.get(f"/evaluations/{draft.pk}/edit/").content.decode()
    assert 'data-field="grade"' not in page and "等级：" not in page


def _badges(page: str) -> list[str]:
    tree = lxml_html.fromstring(page)
    return [b.text_content().strip() for b in tree.xpath('//span[contains(@class, "grade")]')]


def test_it_shows_the_grade_on_the_list_and_the_review_queue(good, client_a, client_finance):
    assert _badges(client_a.get("/evaluations/?year=2021").content.decode()) == ["良"]
    assert _badges(client_finance.get("/review/").content.decode()) == ["良"]


def test_it_prints_the_grade_in_the_pdf(good, client_a, tmp_path):
    response = client_a.get(f"/evaluations/{good.pk}/pdf/")
    assert response.status_code == 200
    path = tmp_path / "form.pdf"
    path.write_bytes(
        b"".join(response.streaming_content) if response.streaming else response.content
    )
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "".join(text.split()).count("等级：良") == 1


def test_it_writes_the_grade_in_the_excel_sheet(good, client_a):
    response = client_a.get(f"/evaluations/{good.pk}/xlsx/")
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.content)).worksheets[0]
    found = [c for row in sheet.iter_rows() for c in row if c.value == "等级：良"]
    assert len(found) == 1
    # Beside the total (85 computed, 92 stated: the grade is of the computed total).
    assert sheet.cell(found[0].row, found[0].column - 1).value == 92


# --- the dashboard -------------------------------------------------------------------------


def _with_totals(
    department, user, totals: list[str | None], status=Status.APPROVED, prefix: str = ""
):
    forms = []
    for index, total in enumerate(totals):
        name = f"{prefix or department.name}{index}"
        evaluation = make_evaluation(department, user, project_name=name)
        Evaluation.objects.filter(pk=evaluation.pk).update(
            computed_total=None if total is None else D(total), status=status
        )
        forms.append(evaluation)
    return forms


def _recheck(evaluation, finance, total: str, *, poor: bool = False, status: str = "done"):
    from rechecks.models import Recheck

    return Recheck.objects.create(
        evaluation=evaluation,
        status=status,
        method="by_hand",
        picked_by=finance,
        total=D(total),
        quality_poor=poor,
    )


def test_the_dashboard_counts_forms_and_rechecks_per_grade(
    dept_a, dept_b, staff_a, staff_b, finance, client_finance
):
    a = _with_totals(dept_a, staff_a, ["100", "90", "89.99", "60"])
    b = _with_totals(dept_b, staff_b, ["59.99", None, "80"])
    make_evaluation(dept_b, staff_b, project_name="去年", year=2020)  # another year
    _recheck(a[0], finance, "92")
    _recheck(a[1], finance, "75", poor=True)  # 90 → 75: more than 10 points apart
    _recheck(b[0], finance, "58")
    _recheck(b[2], finance, "10", poor=True, status="in_progress")  # not done: not counted
    overview = dashboard_overview(finance, 2021)
    assert overview.grades == [("优", 2), ("良", 2), ("中", 1), ("差", 1)]
    assert overview.recheck_grades == [("优", 1), ("良", 0), ("中", 1), ("差", 1)]
    assert [(row.name, row.rechecked, row.quality_poor) for row in overview.quality_poor] == [
        (dept_a.name, 2, 1)
    ]
    page = client_finance.get("/dashboard/?year=2021").content.decode()
    tree = lxml_html.fromstring(page)
    table = tree.xpath('//table[@id="grade-distribution"]/tbody/tr')
    assert [
        (tr.get("data-grade"), *[td.text_content() for td in tr.xpath("./td")]) for tr in table
    ] == [("优", "2", "1"), ("良", "2", "0"), ("中", "1", "1"), ("差", "1", "1")]
    poor = [li.text_content() for li in tree.xpath('//ul[@class="quality-poor-list"]/li')]
    assert poor == [f"{dept_a.name}：已复核 2 张，其中 1 张自评质量差"]


def test_the_dashboard_grades_and_distributes_only_forms_handed_in(
    dept_a, staff_a, finance, client_finance
):
    _with_totals(dept_a, staff_a, ["95", "85"], prefix="已通过")
    _with_totals(dept_a, staff_a, ["65"], status=Status.SUBMITTED, prefix="已提交")
    # Not handed in: an empty draft (total 0), one at the head's sign-off, a returned one.
    _with_totals(dept_a, staff_a, ["0", "92"], status=Status.DRAFT, prefix="草稿")
    _with_totals(dept_a, staff_a, ["50"], status=Status.DEPARTMENT_REVIEW, prefix="部门审核")
    _with_totals(dept_a, staff_a, ["70"], status=Status.RETURNED, prefix="已退回")
    overview = dashboard_overview(finance, 2021)
    assert overview.grades == [("优", 1), ("良", 1), ("中", 1), ("差", 0)]
    assert overview.histogram == [
        ("<60", 0),
        ("60–70", 1),
        ("70–80", 0),
        ("80–90", 1),
        ("90–100", 1),
    ]
    # The department's average counts the same forms: (95 + 85 + 65) / 3.
    (row,) = [r for r in overview.rows if r.department_id == dept_a.pk]
    assert row.average_total == Decimal("81.67")
    page = client_finance.get("/dashboard/?year=2021").content.decode()
    table = lxml_html.fromstring(page).xpath('//table[@id="grade-distribution"]/tbody/tr')
    assert [(tr.get("data-grade"), tr.xpath("./td")[0].text_content()) for tr in table] == [
        ("优", "1"),
        ("良", "1"),
        ("中", "1"),
        ("差", "0"),
    ]


def _list_row(page: str, evaluation: Evaluation):
    rows = lxml_html.fromstring(page).xpath(f'//tr[@data-evaluation="{evaluation.pk}"]')
    assert len(rows) == 1
    return rows[0]


@pytest.mark.parametrize("status", [Status.DRAFT, Status.DEPARTMENT_REVIEW, Status.RETURNED])
def test_a_form_not_handed_in_shows_no_grade_anywhere(status, dept_a, staff_a, client_a, good):
    empty = make_evaluation(dept_a, staff_a, project_name="空白草稿", indicators=[])
    Evaluation.objects.filter(pk=empty.pk).update(status=status)
    empty.refresh_from_db()
    assert empty.computed_total is not None and grade(empty.computed_total) == "差"
    page = client_a.get("/evaluations/?year=2021").content.decode()
    assert not _list_row(page, empty).xpath('.//span[contains(@class, "grade")]')
    assert "差" not in _list_row(page, empty).text_content()
    # The submitted form beside it keeps its grade.
    assert _list_row(page, good).xpath('.//span[contains(@class, "grade")]')[0].text == "良"
    detail = client_a.get(f"/evaluations/{empty.pk}/").content.decode()
    assert 'data-field="grade"' not in detail and "等级：" not in detail
    sheet = load_workbook(BytesIO(client_a.get(f"/evaluations/{empty.pk}/xlsx/").content))
    texts = [c.value for row in sheet.worksheets[0].iter_rows() for c in row]
    assert not [t for t in texts if isinstance(t, str) and t.startswith("等级")]
    # The PDF prints from the same layout.
    printed = evaluation_context(empty)["layout"]
    assert not [c for c in printed.cells() if c.field == L.GRADE_FIELD]
    assert [c for c in evaluation_context(good)["layout"].cells() if c.field == L.GRADE_FIELD]


def test_the_dashboard_keeps_its_query_count_with_many_departments(
    dept_a, staff_a, staff_b, finance
):
    _with_totals(dept_a, staff_a, ["95", "85"])
    dashboard_overview(finance, 2021)  # the membership lookup is cached on the user
    with CaptureQueriesContext(connection) as few:
        dashboard_overview(finance, 2021)
    for index in range(12):
        department = Department.objects.create(name=f"部门{index:02}")
        forms = _with_totals(department, staff_b, ["70", "55"])
        _recheck(forms[0], finance, "50", poor=True)
    with CaptureQueriesContext(connection) as many:
        overview = dashboard_overview(finance, 2021)
    assert len(overview.quality_poor) == 12
    assert overview.grades == [("优", 1), ("良", 1), ("中", 12), ("差", 12)]
    # As before the grades: the distribution rides on the histogram's query.
    assert len(many.captured_queries) == len(few.captured_queries) <= 6


# --- the results for publication (决算公开) -------------------------------------------------


def _results(client, year: int = 2021):
    response = client.get(f"/dashboard/results.xlsx?year={year}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    return load_workbook(BytesIO(response.content)).worksheets[0]


def test_it_exports_the_years_results_for_publication(
    dept_a, dept_b, staff_a, staff_b, finance, client_finance
):
    make_evaluation(
        dept_a, staff_a, project_name="=HYPERLINK(1)", funding=clean_form_data().funding
    )
    Evaluation.objects.filter(project_name="=HYPERLINK(1)").update(
        status=Status.APPROVED, computed_total=D("89.99"), computed_execution_rate=D("0.95")
    )
    (b,) = _with_totals(dept_b, staff_b, ["59.99"])
    _recheck(b, finance, "60")
    # Not final: left out.
    _with_totals(dept_b, staff_b, ["99"], status=Status.SUBMITTED, prefix="待审")
    sheet = _results(client_finance)
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "2021年度项目支出绩效自评结果（决算公开）"
    assert rows[1] == [
        "序号",
        "主管部门",
        "项目名称",
        "全年预算数（万元）",
        "全年执行数（万元）",
        "执行率",
        "自评得分",
        "自评等级",
        "复核得分",
        "复核等级",
    ]
    names = sorted([dept_a.name, dept_b.name])
    body = rows[2:]
    assert [row[1] for row in body] == names
    by_department = {row[1]: row for row in body}
    a = by_department[dept_a.name]
    assert a == [a[0], dept_a.name, "=HYPERLINK(1)", 70, 70, 0.95, 89.99, "良", None, None]
    bb = by_department[dept_b.name]
    assert bb[2:] == [f"{dept_b.name}0", 70, 70, bb[5], 59.99, "差", 60, "中"]
    assert sorted(row[0] for row in body) == [1, 2]
    # A name that looks like a formula stays text.
    cell = next(c for row in sheet.iter_rows() for c in row if c.value == "=HYPERLINK(1)")
    assert cell.data_type == "s"


def test_the_results_read_a_constant_number_of_queries(dept_a, staff_a, finance):
    _with_totals(dept_a, staff_a, ["95"])
    list(results.result_rows(finance, 2021))  # the membership lookup is cached on the user
    with CaptureQueriesContext(connection) as few:
        rows = list(results.result_rows(finance, 2021))
    assert len(rows) == 1
    for index in range(10):
        department = Department.objects.create(name=f"部门{index:02}")
        forms = _with_totals(department, staff_a, ["70", "85"])
        _recheck(forms[0], finance, "80")
    with CaptureQueriesContext(connection) as many:
        rows = list(results.result_rows(finance, 2021))
    assert len(rows) == 21
    assert len(many.captured_queries) == len(few.captured_queries) == 1
    assert sum(1 for row in rows if row.recheck_grade == "良") == 10


@pytest.mark.parametrize("who", ["staff_a", "head_a", "admin_user"])
def test_the_results_are_for_finance_only(who, request, dept_a, staff_a):
    _with_totals(dept_a, staff_a, ["95"])
    client = client_for(request.getfixturevalue(who))
    assert client.get("/dashboard/results.xlsx?year=2021").status_code == 404
    page = client.get("/dashboard/?year=2021").content.decode()
    assert "/dashboard/results.xlsx" not in page


def test_finance_finds_the_results_on_the_dashboard_and_may_not_post(
    dept_a, staff_a, client_finance
):
    _with_totals(dept_a, staff_a, ["95"])
    page = client_finance.get("/dashboard/?year=2021").content.decode()
    assert "/dashboard/results.xlsx?year=2021" in page
    assert client_finance.post("/dashboard/results.xlsx?year=2021").status_code == 405
    assert client_finance.get("/dashboard/results.xlsx?year=x").status_code == 400
