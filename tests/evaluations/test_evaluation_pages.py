"""Entry pages per role: list, create, edit, copy to next year, detail and live scoring."""

from __future__ import annotations

import importlib
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from lxml import html as lxml_html

from evaluations.core.evaluation_data import FormData
from evaluations.importer.service import import_file
from evaluations.models import Evaluation, Status
from evaluations.templatetags.evaluation_format import points
from tests.conftest import PASSWORD, client_for, sample_path
from tests.factories import clean_form_data, make_evaluation

pytestmark = pytest.mark.django_db


def post_data(form: FormData, **extra: Any) -> dict[str, str]:
    """The entry page's POST body for a FormData (as the browser would send it)."""

    def text(value: Any) -> str:
        return "" if value is None else str(value)

    data = {
        "year": text(form.year),
        "project_name": form.project_name,
        "implementing_unit": form.implementing_unit,
        "goal_target": form.goal_target,
        "goal_actual": form.goal_actual,
        "execution_weight": text(form.execution_weight),
        "stated_execution_score": text(form.execution_score),
        "stated_total": text(form.stated_total),
        "ind-TOTAL_FORMS": str(len(form.indicators)),
        "ind-INITIAL_FORMS": "0",
        "ind-MIN_NUM_FORMS": "0",
        "ind-MAX_NUM_FORMS": "1000",
    }
    for row in form.funding:
        for column in ("initial_budget", "annual_budget", "executed"):
            data[f"funding-{row.kind}-{column}"] = text(getattr(row, column))
    for i, ind in enumerate(form.indicators):
        for name in ("level1", "level2", "name", "target", "actual", "deviation"):
            data[f"ind-{i}-{name}"] = getattr(ind, name)
        data[f"ind-{i}-weight"] = text(ind.weight)
        data[f"ind-{i}-score"] = text(ind.score)
        data[f"ind-{i}-ORDER"] = str(i + 1)
    data.update({k: str(v) for k, v in extra.items()})
    return data


@pytest.fixture
def evaluation(dept_a, staff_a) -> Evaluation:
    return make_evaluation(dept_a, staff_a)


@pytest.fixture
def evaluation_b(dept_b, staff_b) -> Evaluation:
    return make_evaluation(dept_b, staff_b, project_name="民政救助资金")


# --- sign-in and methods -------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/evaluations/",
        "/evaluations/new/",
        "/evaluations/1/",
        "/evaluations/1/edit/",
        "/evaluations/import/",
    ],
)
def test_it_sends_anonymous_users_to_sign_in(path):
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_refuses_anonymous_score_previews():
    response = Client().post("/evaluations/score-preview/", {})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("path", ["/evaluations/score-preview/", "/evaluations/import/confirm/"])
def test_it_answers_get_on_post_endpoints_with_405(client_a, path):
    assert client_a.get(path).status_code == 405


def test_it_refuses_other_methods_on_pages(client_a, evaluation):
    assert client_a.delete(f"/evaluations/{evaluation.pk}/edit/").status_code == 405
    assert client_a.post(f"/evaluations/{evaluation.pk}/").status_code == 405
    assert client_a.post("/evaluations/").status_code == 405


def test_it_checks_csrf_on_every_post(staff_a, evaluation):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_a)
    body = post_data(clean_form_data(project_name="CSRF"))
    for path in (
        "/evaluations/new/",
        f"/evaluations/{evaluation.pk}/edit/",
        "/evaluations/score-preview/",
        "/evaluations/import/",
        "/evaluations/import/confirm/",
    ):
        assert client.post(path, body).status_code == 403, path
    assert not Evaluation.objects.filter(project_name="CSRF").exists()


# --- list ----------------------------------------------------------------------------------


def test_it_lists_only_the_staff_members_department(client_a, evaluation, evaluation_b):
    page = client_a.get("/evaluations/").content.decode()
    assert evaluation.project_name in page
    assert evaluation_b.project_name not in page
    # Staff do not get a department filter.
    assert 'name="department"' not in page


def test_it_lists_everything_for_finance_with_department_filter(
    client_finance, evaluation, evaluation_b, dept_b
):
    page = client_finance.get("/evaluations/").content.decode()
    assert evaluation.project_name in page and evaluation_b.project_name in page
    assert 'name="department"' in page
    page = client_finance.get(f"/evaluations/?department={dept_b.pk}").content.decode()
    assert evaluation_b.project_name in page
    assert evaluation.project_name not in page


def test_it_tells_an_account_without_a_role_to_ask_for_one(evaluation, client_finance):
    # A directory account's first sign-in creates it without department or role.
    no_role = get_user_model().objects.create_user(username="newcomer", password=PASSWORD)
    page = client_for(no_role).get("/evaluations/").content.decode()
    assert "您的账号还没有分配部门和角色" in page
    assert "还没有可以查看的自评表" in page
    assert "可以新建一张" not in page
    assert evaluation.project_name not in page
    # Anyone with a role is not told so.
    assert "还没有分配部门和角色" not in client_finance.get("/evaluations/").content.decode()


def test_it_ignores_the_department_filter_for_staff(client_a, evaluation, dept_b, evaluation_b):
    page = client_a.get(f"/evaluations/?department={dept_b.pk}").content.decode()
    assert evaluation_b.project_name not in page


def test_it_shows_cached_figures_in_each_row(client_a, dept_a, staff_a):
    data = clean_form_data(project_name="执行不足项目")
    data.funding[0].executed = Decimal("57.55")
    data.funding[1].executed = Decimal("57.55")
    make_evaluation(dept_a, staff_a, project_name="执行不足项目", funding=data.funding)
    page = client_a.get("/evaluations/").content.decode()
    assert "82.21%" in page  # 57.55 / 70
    row = page[page.index("执行不足项目") :]
    row = row[: row.index("</tr>")]
    assert "草稿" in row
    assert "100" in row  # stated total
    assert "98.22" in row  # computed: 8.22 + 90
    # Errors: stated execution score and total differ from the rules. Warnings: the missing
    # reason for the execution rate (EXECUTION_UNEXPLAINED), and every indicator at full
    # marks with 82.21% spent (RECHECK_FULL_MARKS, re-check rule 3).
    assert 'text-bg-danger" title="错误">2<' in row
    assert 'text-bg-warning" title="提示">2<' in row


def _stated_and_computed(page: str, evaluation: Evaluation) -> tuple[str, str]:
    """The list row's 总分（填写） and 总分（计算） cells of ``evaluation``."""
    tree = lxml_html.fromstring(page)
    headers = [th.text_content().strip() for th in tree.xpath("//table//thead//th")]
    column = headers.index("总分（填写）")
    cells = tree.xpath(f'//tr[@data-evaluation="{evaluation.pk}"]/td')
    return cells[column].text_content().strip(), cells[column + 1].text_content().split()[0]


def test_the_list_shows_a_stated_total_only_where_one_was_typed(client_a, dept_a, staff_a):
    # On the web no total is ever typed: the form states what the rules compute.
    client_a.post("/evaluations/new/", post_data(clean_form_data(project_name="网页填报")))
    web = Evaluation.objects.get(project_name="网页填报")
    assert web.totals_computed and web.stated_total == web.computed_total == Decimal("100.00")
    # A file states its own total, right or wrong (sample 003).
    import_file(data=sample_path("003").read_bytes(), name="003.txt", department=dept_a)
    imported = Evaluation.objects.exclude(pk=web.pk).order_by("pk")
    stated = [e for e in imported if e.stated_total is not None]
    wrong = next(e for e in stated if e.stated_total != e.computed_total)
    right = next(e for e in stated if e.stated_total == e.computed_total)
    assert not wrong.totals_computed and not right.totals_computed
    page = client_a.get("/evaluations/").content.decode()
    assert _stated_and_computed(page, web) == ("—", "100")
    assert _stated_and_computed(page, right)[0] == points(right.stated_total)
    assert _stated_and_computed(page, wrong) == (
        points(wrong.stated_total),
        points(wrong.computed_total),
    )
    # Saved on the web, the imported form states the computed total from then on.
    body = post_data(wrong.as_form_data(), revision=wrong.revision, adopt_total="1")
    for i, row in enumerate(wrong.as_form_data().indicators):
        body[f"ind-{i}-key"] = row.key
    client_a.post(f"/evaluations/{wrong.pk}/edit/", body)
    wrong.refresh_from_db()
    assert wrong.totals_computed and wrong.stated_total == wrong.computed_total
    page = client_a.get("/evaluations/").content.decode()
    assert _stated_and_computed(page, wrong)[0] == "—"


def test_the_migration_marks_the_totals_of_forms_last_written_on_the_web(client_a, dept_a):
    migration = importlib.import_module("evaluations.migrations.0008_totals_computed")
    client_a.post("/evaluations/new/", post_data(clean_form_data(project_name="网页填报")))
    import_file(data=sample_path("000").read_bytes(), name="000.txt", department=dept_a)
    web = Evaluation.objects.get(project_name="网页填报")
    imported, edited = Evaluation.objects.exclude(pk=web.pk).order_by("pk")[:2]
    # Imported, then saved on the web: its current version is the web form's.
    body = post_data(edited.as_form_data(), revision=edited.revision)
    for i, row in enumerate(edited.as_form_data().indicators):
        body[f"ind-{i}-key"] = row.key
    body["ind-0-deviation"] = "补充说明。"
    client_a.post(f"/evaluations/{edited.pk}/edit/", body)
    assert Evaluation.objects.get(pk=edited.pk).revision == edited.revision + 1
    Evaluation.objects.update(totals_computed=False)  # as before the migration
    migration.mark_computed(django_apps, None)
    assert Evaluation.objects.get(pk=web.pk).totals_computed
    assert Evaluation.objects.get(pk=edited.pk).totals_computed
    assert not Evaluation.objects.get(pk=imported.pk).totals_computed


def test_it_filters_by_year_status_and_name(client_a, dept_a, staff_a):
    make_evaluation(dept_a, staff_a, project_name="甲项目", year=2020)
    make_evaluation(dept_a, staff_a, project_name="乙项目", year=2021)
    approved = make_evaluation(dept_a, staff_a, project_name="丙项目", year=2021)
    Evaluation.objects.filter(pk=approved.pk).update(status=Status.APPROVED)

    page = client_a.get("/evaluations/?year=2020").content.decode()
    assert "甲项目" in page and "乙项目" not in page
    page = client_a.get("/evaluations/?status=approved").content.decode()
    assert "丙项目" in page and "乙项目" not in page
    page = client_a.get("/evaluations/?q=乙").content.decode()
    assert "乙项目" in page and "甲项目" not in page and "丙项目" not in page


def test_it_paginates_by_fifty(client_a, dept_a):
    Evaluation.objects.bulk_create(
        Evaluation(department=dept_a, year=2021, project_name=f"项目{i:03d}") for i in range(60)
    )
    page = client_a.get("/evaluations/").content.decode()
    assert "项目049" in page and "项目050" not in page
    assert "第 1 / 2 页" in page
    page = client_a.get("/evaluations/?page=2").content.decode()
    assert "项目050" in page and "项目059" in page


def _bulk(department, count: int, start: int = 0) -> None:
    Evaluation.objects.bulk_create(
        Evaluation(
            department=department,
            year=2021,
            project_name=f"批量项目{i:05d}",
            computed_total=Decimal("90"),
            computed_execution_rate=Decimal("0.9"),
            error_count=1,
        )
        for i in range(start, start + count)
    )


class QueryLog:
    """Every SQL statement run inside the block (immune to Django's per-request log reset)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, execute, sql, params, many, context):  # noqa: ANN001
        self.statements.append(sql)
        return execute(sql, params, many, context)

    def __enter__(self) -> QueryLog:
        self._wrapper = connection.execute_wrapper(self)
        self._wrapper.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._wrapper.__exit__(*exc)


@pytest.mark.parametrize("client_name", ["client_a", "client_finance"])
def test_it_lists_5000_with_as_many_queries_as_5(request, client_name, dept_a, dept_b):
    client = request.getfixturevalue(client_name)
    _bulk(dept_a, 5)
    _bulk(dept_b, 5, start=5)
    with QueryLog() as small:
        assert client.get("/evaluations/").status_code == 200
    _bulk(dept_a, 4995, start=10)
    _bulk(dept_b, 100, start=6000)
    with QueryLog() as large:
        response = client.get("/evaluations/")
    assert response.status_code == 200
    assert response.content.decode().count("批量项目") == 50
    assert len(small.statements) >= 3  # session/user, years, count, page at least
    assert len(large.statements) == len(small.statements)
    # The department comes with the evaluations, not one query per row.
    assert not any("departments_department" in q and "LIMIT 21" in q for q in large.statements)


def test_it_answers_the_list_with_a_fixed_number_of_queries(client_a, dept_a):
    _bulk(dept_a, 30)
    with QueryLog() as queries:
        client_a.get("/evaluations/")
    # 9: the open campaign's lookup for the 待填报 list (none here; with one, see
    # tests/campaigns/test_due_forms.py); 10: the user's unread reminders (campaigns/_reminders.html);
    # 11: the user's finished exports not yet seen (the menu's badge, exports/context_processors);
    # 12: the badges of the page's rows (逾期, 退回后重新提交: evaluations/filters.with_badges).
    assert 3 <= len(queries.statements) <= 12


# --- create --------------------------------------------------------------------------------


def test_it_shows_a_blank_form_with_the_staff_members_department(client_a, dept_a):
    page = client_a.get("/evaluations/new/").content.decode()
    assert "项目支出绩效自评表" in page
    assert dept_a.name in page
    assert 'name="department"' not in page  # fixed for staff
    assert 'name="funding-total-annual_budget"' in page
    assert 'value="10"' in page  # execution weight default
    assert 'name="ind-0-level1"' in page
    assert '<option value="产出指标" selected>' in page
    assert "evaluation-form.js" in page
    assert "<script>" not in page  # CSP: no inline scripts


def test_it_lets_finance_choose_the_department(client_finance, dept_a, dept_b):
    page = client_finance.get("/evaluations/new/").content.decode()
    assert 'name="department"' in page
    assert dept_a.name in page and dept_b.name in page
    body = post_data(clean_form_data(project_name="财政代填"), department=dept_b.pk)
    response = client_finance.post("/evaluations/new/", body)
    assert response.status_code == 302
    assert Evaluation.objects.get(project_name="财政代填").department == dept_b


def test_it_requires_finance_to_choose_a_department(client_finance, dept_a):
    response = client_finance.post("/evaluations/new/", post_data(clean_form_data()))
    assert response.status_code == 200
    assert "请选择主管部门" in response.content.decode()
    assert not Evaluation.objects.exists()


def test_it_creates_in_the_staff_members_own_department(client_a, staff_a, dept_a, dept_b):
    # A posted department is ignored for staff.
    body = post_data(clean_form_data(project_name="新项目"), department=dept_b.pk)
    response = client_a.post("/evaluations/new/", body)
    evaluation = Evaluation.objects.get(project_name="新项目")
    assert response.status_code == 302
    assert response["Location"] == f"/evaluations/{evaluation.pk}/edit/"
    assert evaluation.department == dept_a
    assert evaluation.created_by == staff_a
    assert evaluation.status == Status.DRAFT
    assert evaluation.indicators.count() == 8
    assert evaluation.funding_rows.count() == 4
    assert evaluation.computed_total == Decimal("100.00")
    assert evaluation.error_count == 0


def test_it_goes_to_the_detail_page_on_save_and_view(client_a):
    body = post_data(clean_form_data(project_name="看详情"), next="detail")
    response = client_a.post("/evaluations/new/", body)
    evaluation = Evaluation.objects.get(project_name="看详情")
    assert response["Location"] == f"/evaluations/{evaluation.pk}/"


def test_it_saves_a_draft_with_scoring_errors(client_a):
    data = clean_form_data(project_name="有错误的草稿")
    data.indicators[0].score = Decimal("12")  # above its weight of 10
    response = client_a.post("/evaluations/new/", post_data(data), follow=True)
    evaluation = Evaluation.objects.get(project_name="有错误的草稿")
    # Totals are never typed on the web: the form states what the rules compute.
    assert evaluation.stated_total == evaluation.computed_total == Decimal("102.00")
    assert evaluation.stated_execution_score == Decimal("10.00")
    assert evaluation.error_count == 1  # SCORE_EXCEEDS_WEIGHT
    page = response.content.decode()
    assert "已保存" in page
    assert "得分 12.00 超出范围" in page  # shown next to the row


def test_it_computes_execution_figures_on_the_server(client_a):
    data = clean_form_data(project_name="算分")
    data.funding[0].executed = Decimal("57.55")
    body = post_data(data)
    # Whatever a browser might send for computed figures is not a field of the form.
    body["computed_total"] = "1"
    body["computed_execution_rate"] = "1"
    client_a.post("/evaluations/new/", body)
    evaluation = Evaluation.objects.get(project_name="算分")
    assert evaluation.computed_execution_rate == Decimal("0.822100")
    assert evaluation.computed_execution_score == Decimal("8.22")
    assert evaluation.computed_total == Decimal("98.22")
    assert evaluation.stated_total == Decimal("98.22")


def test_it_keeps_everything_typed_when_an_input_is_malformed(client_a):
    data = clean_form_data(project_name="保留输入")
    body = post_data(data)
    body["ind-3-weight"] = "十分"
    body["funding-total-executed"] = "57.55元"  # 万元 is the field's unit: 元 is refused
    body["ind-5-deviation"] = "原因：天气"
    response = client_a.post("/evaluations/new/", body)
    assert response.status_code == 200
    assert not Evaluation.objects.exists()
    page = response.content.decode()
    assert "未保存" in page
    assert 'value="十分"' in page
    assert 'value="57.55元"' in page
    assert "原因：天气" in page
    assert 'value="保留输入"' in page
    assert "改造农村住房户数</textarea>" in page
    assert 'value="&gt;=95%"' in page
    assert page.count("is-invalid") >= 2


def test_it_requires_a_project_name_and_keeps_the_rest(client_a):
    body = post_data(clean_form_data(project_name=""))
    response = client_a.post("/evaluations/new/", body)
    page = response.content.decode()
    assert response.status_code == 200
    assert "请填写项目名称" in page
    assert 'value="实施单位甲"' in page
    assert "监督检查次数</textarea>" in page
    assert not Evaluation.objects.exists()


def test_it_requires_a_name_for_a_row_with_content(client_a):
    body = post_data(clean_form_data(project_name="缺指标名"))
    body["ind-2-name"] = ""
    page = client_a.post("/evaluations/new/", body).content.decode()
    assert "请填写三级指标名称" in page
    assert not Evaluation.objects.exists()


def test_it_drops_blank_and_deleted_rows_and_follows_the_order(client_a):
    data = clean_form_data(project_name="行顺序")
    body = post_data(data)
    body["ind-0-ORDER"] = "9"  # first row moved to the end
    body["ind-1-DELETE"] = "1"  # second row removed
    total = len(data.indicators)
    body["ind-TOTAL_FORMS"] = str(total + 1)
    body[f"ind-{total}-level1"] = "产出指标"  # an added row left empty
    client_a.post("/evaluations/new/", body)
    evaluation = Evaluation.objects.get(project_name="行顺序")
    names = list(evaluation.indicators.order_by("position").values_list("name", flat=True))
    expected = [i.name for i in data.indicators]
    assert names == expected[2:] + expected[:1]


def test_it_reports_a_duplicate_project_on_the_page(client_a, evaluation):
    body = post_data(clean_form_data(project_name=evaluation.project_name))
    response = client_a.post("/evaluations/new/", body)
    assert response.status_code == 200
    assert "已有同名项目" in response.content.decode()
    assert Evaluation.objects.count() == 1


# --- edit ----------------------------------------------------------------------------------


def test_it_shows_the_stored_values_on_the_edit_page(client_a, evaluation):
    page = client_a.get(f"/evaluations/{evaluation.pk}/edit/").content.decode()
    assert f'value="{evaluation.project_name}"' in page
    assert 'name="revision" value="1"' in page
    assert 'value="70"' in page  # 70.0000 shown as typed
    assert 'value="&lt;=21.50万元"' in page
    assert 'data-form-index="7"' in page and 'data-form-index="8"' not in page
    assert ">100.00<" in page  # computed total


def test_it_saves_edits_and_keeps_values(client_a, staff_a, colleague_a, evaluation):
    data = evaluation.as_form_data()
    data.project_name = "改过的名称"
    data.indicators[0].actual = "1500户"
    data.indicators[0].score = Decimal("9.38")
    data.indicators[0].deviation = "部分农户外出务工，明年提前摸底。"
    client = Client()
    client.force_login(colleague_a)
    response = client.post(f"/evaluations/{evaluation.pk}/edit/", post_data(data, revision=1))
    assert response.status_code == 302
    evaluation.refresh_from_db()
    assert evaluation.project_name == "改过的名称"
    assert evaluation.revision == 2
    assert evaluation.updated_by == colleague_a
    first = evaluation.indicators.get(position=1)
    assert (first.actual, first.score) == ("1500户", Decimal("9.38"))
    assert first.deviation == "部分农户外出务工，明年提前摸底。"
    page = client.get(f"/evaluations/{evaluation.pk}/edit/").content.decode()
    assert 'value="1500户"' in page and 'value="9.38"' in page
    assert "部分农户外出务工，明年提前摸底。" in page


def test_it_refuses_a_stale_copy_and_keeps_the_typed_values(client_a, evaluation, staff_a):
    data = evaluation.as_form_data()
    data.project_name = "第一次保存"
    client_a.post(f"/evaluations/{evaluation.pk}/edit/", post_data(data, revision=1))
    data.project_name = "过期副本"
    response = client_a.post(f"/evaluations/{evaluation.pk}/edit/", post_data(data, revision=1))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="过期副本"' in page
    assert "保存失败" in page
    evaluation.refresh_from_db()
    assert evaluation.project_name == "第一次保存"


@pytest.mark.parametrize("status", [Status.SUBMITTED, Status.APPROVED])
def test_it_redirects_locked_forms_to_the_detail_page(client_a, evaluation, status):
    Evaluation.objects.filter(pk=evaluation.pk).update(status=status)
    response = client_a.get(f"/evaluations/{evaluation.pk}/edit/")
    assert response.status_code == 302
    assert response["Location"] == f"/evaluations/{evaluation.pk}/"
    data = evaluation.as_form_data()
    data.project_name = "不该保存"
    client_a.post(f"/evaluations/{evaluation.pk}/edit/", post_data(data, revision=1))
    evaluation.refresh_from_db()
    assert evaluation.project_name != "不该保存"


def test_it_lets_returned_forms_be_edited(client_a, evaluation):
    Evaluation.objects.filter(pk=evaluation.pk).update(status=Status.RETURNED)
    page = client_a.get(f"/evaluations/{evaluation.pk}/edit/")
    assert page.status_code == 200
    assert "保存草稿" in page.content.decode()


# --- scoping (another department's form is a 404) ------------------------------------------


@pytest.mark.parametrize(
    "path", ["/evaluations/{pk}/", "/evaluations/{pk}/edit/", "/evaluations/new/?copy_from={pk}"]
)
def test_it_hides_other_departments_forms(client_b, evaluation, path):
    assert client_b.get(path.format(pk=evaluation.pk)).status_code == 404


def test_it_refuses_posting_to_another_departments_form(client_b, evaluation):
    data = evaluation.as_form_data()
    data.project_name = "越权修改"
    response = client_b.post(f"/evaluations/{evaluation.pk}/edit/", post_data(data, revision=1))
    assert response.status_code == 404
    evaluation.refresh_from_db()
    assert evaluation.project_name != "越权修改"


def test_it_answers_404_for_a_malformed_copy_source(client_a):
    assert client_a.get("/evaluations/new/?copy_from=abc").status_code == 404


def test_it_lets_finance_and_admin_see_every_form(client_finance, client_admin, evaluation):
    for client in (client_finance, client_admin):
        page = client.get(f"/evaluations/{evaluation.pk}/").content.decode()
        assert evaluation.project_name in page


def test_it_refuses_users_without_a_department(db, django_user_model):
    user = django_user_model.objects.create_user(username="nobody", password="x-pass-123456")
    client = Client()
    client.force_login(user)
    assert client.get("/evaluations/new/").status_code == 403
    assert client.get("/evaluations/import/").status_code == 403
    page = client.get("/evaluations/").content.decode()
    assert "您的账号还没有分配部门和角色" in page
    assert "还没有可以查看的自评表。" in page
    assert "可以新建一张" not in page


# --- copy to next year ---------------------------------------------------------------------


def test_it_prefills_next_year_from_an_earlier_form(client_a, evaluation):
    page = client_a.get(f"/evaluations/new/?copy_from={evaluation.pk}").content.decode()
    assert 'name="year" value="2022"' in page
    assert f'value="{evaluation.project_name}"' in page
    assert 'value="实施单位甲"' in page
    assert "保障居民住房质量安全。" in page  # goal target kept
    assert "完成全部监督检查任务。" not in page  # what was achieved is blank
    assert 'value="=1600户"' in page  # targets kept
    assert 'value="1600户"' not in page  # actuals blank
    assert 'name="funding-total-annual_budget" value="70"' in page
    assert 'name="funding-total-executed" inputmode' in page  # executed blank (no value)
    assert 'name="ind-0-weight" value="10"' in page
    assert 'name="ind-0-score" inputmode' in page  # score blank
    assert 'name="revision"' in page and 'name="revision" value' not in page
    assert "以 2021 年度" in page


def test_it_links_copy_from_the_detail_page(client_a, evaluation):
    page = client_a.get(f"/evaluations/{evaluation.pk}/").content.decode()
    assert f"/evaluations/new/?copy_from={evaluation.pk}" in page
    assert "以此为基础新建下一年度" in page


# --- detail --------------------------------------------------------------------------------


def test_it_shows_the_official_layout(client_a, evaluation):
    page = client_a.get(f"/evaluations/{evaluation.pk}/").content.decode()
    for label in (
        "项目名称",
        "主管部门",
        "实施单位",
        "年初预算数",
        "全年预算数",
        "全年执行数",
        "年度总体目标",
        "一级指标",
        "二级指标",
        "三级指标",
        "总分",
    ):
        assert label in page
    assert "（2021年度）" in page
    assert "70.00" in page  # money with two decimals
    assert "100.00%" in page
    assert 'rowspan="5" class="merged">产出指标' in page  # five 产出 rows merged
    assert 'rowspan="2" class="merged">数量指标' in page
    assert f"/evaluations/{evaluation.pk}/edit/" in page
    assert "未发现问题" in page


def test_it_marks_findings_next_to_their_rows(client_a, dept_a, staff_a):
    data = clean_form_data(project_name="有问题")
    data.indicators[2].score = Decimal("11")
    evaluation = make_evaluation(dept_a, staff_a, project_name="有问题", indicators=data.indicators)
    page = client_a.get(f"/evaluations/{evaluation.pk}/").content.decode()
    assert 'id="indicator-3" class="has-findings has-error"' in page
    assert 'href="#finding-row-3"' in page
    assert "第 3 行（工程质量达标率）" in page
    assert "得分 11.00 超出范围" in page


def test_it_hides_the_edit_button_of_locked_forms(client_a, evaluation):
    Evaluation.objects.filter(pk=evaluation.pk).update(status=Status.SUBMITTED)
    page = client_a.get(f"/evaluations/{evaluation.pk}/").content.decode()
    assert f"/evaluations/{evaluation.pk}/edit/" not in page
    assert "已提交" in page


# --- live scoring --------------------------------------------------------------------------


def test_it_scores_the_posted_form(client_a):
    data = clean_form_data()
    data.funding[0].executed = Decimal("57.55")
    body = post_data(data)
    # Rows shown in another order than their form numbers: findings point at form numbers.
    body["ind-2-score"] = "11"
    body["ind-2-ORDER"] = "1"
    body["ind-0-ORDER"] = "3"
    response = client_a.post("/evaluations/score-preview/", body)
    assert response.status_code == 200
    result = response.json()
    assert result["execution_rate"] == "82.21%"
    assert result["execution_score"] == "8.22"
    assert result["computed_total"] == "99.22"  # 8.22 + 90 + 1 extra point
    assert result["weight_sum"] == "100"
    exceeds = [f for f in result["findings"] if f["code"] == "SCORE_EXCEEDS_WEIGHT"]
    assert len(exceeds) == 1
    assert exceeds[0]["row"] == 2
    assert exceeds[0]["indicator"] == 0
    assert "超出范围" in exceeds[0]["message"]
    funding = [f for f in result["findings"] if f["funding"] == "total"]
    assert funding and funding[0]["row"] is None


def test_it_scores_leniently_and_reports_malformed_fields(client_a):
    body = post_data(clean_form_data())
    body["ind-0-weight"] = "abc"
    body["project_name"] = ""
    result = client_a.post("/evaluations/score-preview/", body).json()
    assert result["weight_sum"] == "90"  # the malformed weight counts as blank
    assert "ind-0-weight" in result["field_errors"]
    assert "project_name" not in result["field_errors"]  # not yet filled in is no error here
    # The malformed weight is not given: no weight-sum finding drawn from it.
    assert not any(f["code"] == "WEIGHTS_NOT_100" for f in result["findings"])


def test_it_writes_nothing_when_scoring(client_a):
    client_a.post("/evaluations/score-preview/", post_data(clean_form_data()))
    assert not Evaluation.objects.exists()


# --- rows without their categories ---------------------------------------------------------


@pytest.mark.parametrize("blank", ["level1", "level2"])
def test_a_typed_row_without_a_category_is_a_category_missing_error(client_a, evaluation, blank):
    data = evaluation.as_form_data()
    setattr(data.indicators[1], blank, "")
    body = post_data(data, revision=1)
    # The live check the edit page calls while typing.
    answer = client_a.post(
        "/evaluations/score-preview/", {**body, "evaluation_id": evaluation.pk}
    ).json()
    assert [(f["code"], f["severity"], f["row"]) for f in answer["findings"]] == [
        ("CATEGORY_MISSING", "error", 1)
    ]
    # Saving keeps what was typed and counts the error.
    response = client_a.post(f"/evaluations/{evaluation.pk}/edit/", body, follow=True)
    assert "自动校验发现 1 个错误" in response.content.decode()
    evaluation.refresh_from_db()
    assert getattr(evaluation.indicators.get(position=2), blank) == ""
    assert evaluation.error_count == 1
    label = {"level1": "一级指标", "level2": "二级指标"}[blank]
    page = client_a.get(f"/evaluations/{evaluation.pk}/edit/").content.decode()
    assert f"未选择{label}，请选择后再提交。" in page
