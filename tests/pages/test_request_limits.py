"""What a request may carry, error pages and caching, and every workflow step saying what it
did."""

from __future__ import annotations

import re

import pytest
from django.template import loader
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, path

from config import urls as config_urls
from evaluations.core.limits import COMMENT_MAX_LENGTH, REASON_MAX_LENGTH
from evaluations.models import Evaluation, EvaluationEvent, EventAction, ReviewComment, Status
from evaluations.services import StaleEvaluationError, evaluation_write
from evaluations.workflow import (
    TransitionError,
    evaluation_approve,
    evaluation_reopen,
    evaluation_return,
    evaluation_submit,
)
from tests.conftest import client_for
from tests.evaluations.test_evaluation_pages import post_data
from tests.factories import clean_form_data, make_evaluation

pytestmark = pytest.mark.django_db

STALE = "保存失败：此表已于"
NO_STORE = "private, no-store"


@pytest.fixture
def evaluation(dept_a, staff_a) -> Evaluation:
    return make_evaluation(dept_a, staff_a)


@pytest.fixture
def submitted(evaluation, staff_a) -> Evaluation:
    evaluation_submit(evaluation=evaluation, user=staff_a)
    evaluation.refresh_from_db()
    return evaluation


@pytest.fixture
def approved(submitted, finance) -> Evaluation:
    evaluation_approve(evaluation=submitted, user=finance)
    submitted.refresh_from_db()
    return submitted


def flashed(response) -> list[str]:
    """The messages the redirected-to page showed (follow=True), so each only once."""
    return [str(m) for m in response.context["messages"]]


def events(evaluation: Evaluation, action: str) -> int:
    return EvaluationEvent.objects.filter(evaluation=evaluation, action=action).count()


# --- a web save must say which revision it edits -------------------------------------


def test_it_refuses_a_web_save_without_a_revision(client_a, evaluation):
    data = evaluation.as_form_data()
    data.project_name = "没有版本号的保存"
    body = post_data(data)
    assert "revision" not in body
    response = client_a.post(f"/evaluations/{evaluation.pk}/edit/", body)
    assert response.status_code == 200
    page = response.content.decode()
    assert STALE in page and "您填写的内容仍保留在页面上" in page
    assert 'value="没有版本号的保存"' in page
    evaluation.refresh_from_db()
    assert (evaluation.project_name, evaluation.revision) == ("农村住房质量监督", 1)
    assert evaluation.versions.count() == 1


@pytest.mark.parametrize("revision", ["", " ", "abc", "²", "١", "1.0", "-1", "9" * 30, "9" * 5000])
def test_it_refuses_a_web_save_with_a_malformed_revision(client_a, evaluation, revision):
    data = evaluation.as_form_data()
    data.project_name = "版本号无效的保存"
    response = client_a.post(
        f"/evaluations/{evaluation.pk}/edit/", post_data(data, revision=revision)
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert STALE in page
    assert 'value="版本号无效的保存"' in page
    evaluation.refresh_from_db()
    assert (evaluation.project_name, evaluation.revision) == ("农村住房质量监督", 1)


def test_it_saves_with_the_right_revision(client_a, evaluation):
    data = evaluation.as_form_data()
    data.project_name = "正确版本号的保存"
    response = client_a.post(f"/evaluations/{evaluation.pk}/edit/", post_data(data, revision=1))
    assert response.status_code == 302
    evaluation.refresh_from_db()
    assert (evaluation.project_name, evaluation.revision) == ("正确版本号的保存", 2)


def test_it_refuses_a_service_write_whose_revision_is_unknown(evaluation, staff_a):
    data = evaluation.as_form_data()
    data.project_name = "不应保存"
    with pytest.raises(StaleEvaluationError):
        evaluation_write(evaluation=evaluation, data=data, user=staff_a, expected_revision=None)
    evaluation.refresh_from_db()
    assert (evaluation.project_name, evaluation.revision) == ("农村住房质量监督", 1)


def test_it_still_lets_the_importer_replace_a_form_without_a_revision(evaluation, staff_a):
    # The importer replaces the stored form on purpose and passes no revision.
    data = evaluation.as_form_data()
    data.project_name = "导入覆盖"
    evaluation_write(evaluation=evaluation, data=data, user=staff_a, action=EventAction.IMPORTED)
    evaluation.refresh_from_db()
    assert (evaluation.project_name, evaluation.revision) == ("导入覆盖", 2)


# --- hostile parameters -------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "year=²",
        "department=²",
        "department=" + "9" * 25,
        "year=" + "9" * 5000,
        "year=١٢",
        "page=²",
        "page=-1",
        "page=" + "9" * 30,
    ],
)
def test_it_ignores_malformed_review_queue_filters(client_finance, submitted, query):
    response = client_finance.get(f"/review/?{query}")
    assert response.status_code == 200
    assert submitted.project_name in response.content.decode()


def test_it_still_filters_the_review_queue(client_finance, submitted, dept_b):
    body = client_finance.get(f"/review/?year=2021&department={submitted.department_id}")
    assert submitted.project_name in body.content.decode()
    body = client_finance.get(f"/review/?department={dept_b.pk}").content.decode()
    assert submitted.project_name not in body
    body = client_finance.get("/review/?year=2020").content.decode()
    assert submitted.project_name not in body


def test_it_ignores_comments_on_rows_that_do_not_exist(client_finance, submitted):
    response = client_finance.post(
        f"/review/{submitted.pk}/return/",
        {
            "reason": "请补充",
            "comment-indicator-²": "上标数字",
            "comment-indicator-١": "阿拉伯数字",
            "comment-indicator-" + "9" * 25: "太大",
            "comment-indicator-0": "零",
            "comment-indicator-9": "第9行不存在",
            "comment-funding-<script>": "未知资金行",
            "comment-indicator-2": "第2行有效",
        },
    )
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == Status.RETURNED
    comments = ReviewComment.objects.filter(evaluation=submitted)
    assert [(c.target, c.position, c.text) for c in comments] == [("indicator", 2, "第2行有效")]


def test_it_keeps_reason_and_row_comments_when_a_return_is_refused(client_finance, submitted):
    response = client_finance.post(
        f"/review/{submitted.pk}/return/",
        {"reason": " ", "comment-indicator-2": "第二行意见", "comment-funding-total": "核对执行数"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "退回时必须填写退回原因。" in page
    assert ">\n第二行意见</textarea>" in page
    assert ">\n核对执行数</textarea>" in page
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED


def test_it_refuses_an_overlong_return_reason_and_keeps_it(client_finance, submitted):
    reason = "因" * (REASON_MAX_LENGTH + 1)
    comment = "意" * (COMMENT_MAX_LENGTH + 1)
    response = client_finance.post(
        f"/review/{submitted.pk}/return/",
        {"reason": reason, "comment-indicator-1": comment, "comment-indicator-3": "保留"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert f"最多 {REASON_MAX_LENGTH} 字（现有 {REASON_MAX_LENGTH + 1} 字）" in page
    # In the summary at the top, linked to the row's box.
    assert re.search(rf'<a [^>]*href="#[^"]+">第1行意见</a>：最多 {COMMENT_MAX_LENGTH} 字', page)
    assert reason in page and comment in page and ">\n保留</textarea>" in page
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED
    assert events(submitted, EventAction.RETURNED) == 0


def test_it_stores_a_return_without_control_characters(client_finance, submitted):
    response = client_finance.post(
        f"/review/{submitted.pk}/return/",
        {"reason": "请\x01补充\ufffe", "comment-indicator-1": "第\x07一行"},
    )
    assert response.status_code == 302
    event = EvaluationEvent.objects.get(evaluation=submitted, action=EventAction.RETURNED)
    assert event.reason == "请补充"
    assert ReviewComment.objects.get(evaluation=submitted).text == "第一行"


def test_it_refuses_an_overlong_warning_explanation_and_keeps_it(client_a, dept_a, staff_a):
    data = clean_form_data()
    data.indicators[1].actual = "20次"  # over-achievement: one warning
    evaluation = make_evaluation(dept_a, staff_a, indicators=data.indicators)
    explanation = "说" * (COMMENT_MAX_LENGTH + 1)
    response = client_a.post(
        f"/evaluations/{evaluation.pk}/submit/",
        {"comment-OVER_ACHIEVEMENT:1": explanation, "ack-²": "1", "comment-²": "x"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert f"最多 {COMMENT_MAX_LENGTH} 字" in page and explanation in page
    evaluation.refresh_from_db()
    assert evaluation.status == Status.DRAFT


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("year=²", "年度应为四位数字"),
        ("year=" + "9" * 5000, "年度应为四位数字"),
        ("year=2021&department=²", "主管部门参数无效"),
        ("year=2021&department=" + "9" * 25, "主管部门参数无效"),
        ("year=2021&status=junk", "状态参数无效"),
        ("", "请选择要导出的年度"),
    ],
)
def test_it_answers_400_to_malformed_export_parameters(client_finance, submitted, query, message):
    response = client_finance.get(f"/evaluations/export/xlsx/?{query}")
    assert response.status_code == 400
    page = response.content.decode()
    # The site's 400 page with the reason, not a bare line of text.
    assert message in page and "请求无效" in page and "返回自评表列表" in page


@pytest.mark.parametrize("year", ["abc", "²", "9" * 5000, "0"])
def test_it_answers_400_to_a_malformed_dashboard_year(client_finance, submitted, year):
    response = client_finance.get(f"/dashboard/?year={year}")
    assert response.status_code == 400
    page = response.content.decode()
    assert "请求无效" in page and "年度应为四位数字" in page


@pytest.mark.parametrize("copy_from", ["²", "١", "9" * 30, "-1", ""])
def test_it_answers_404_to_a_malformed_copy_source(client_a, copy_from):
    assert client_a.get(f"/evaluations/new/?copy_from={copy_from}").status_code == 404


# The crawl: every route, as every role, with every hostile parameter.

HOSTILE_QUERIES = [
    {"year": "²"},
    {"year": "9" * 5000},
    {"year": "2021", "department": "²"},
    {"year": "2021", "department": "9" * 25},
    {"department": "9" * 25},
    {"page": "-1"},
    {"page": "²"},
    {"page": str(10**30)},
    {"status": "<junk>\x00"},
    {"q": "\x00" + "长" * 10_000},
    {"copy_from": "²"},
    {"copy_from": "9" * 30},
    {"year": "2021", "sort": "²", "dir": "\x00", "show": "9" * 5000},
    {"year": "2021", "sort": "overdue", "dir": "desc", "show": "overdue", "q": "²"},
    {"next": "//evil.example/" + "x" * 5000, "inline": "²"},
]
# Routes that read no query string and are slow (a PDF per request): asked once per role.
QUERY_BLIND = {"evaluations:pdf", "evaluations:xlsx"}


def routes() -> list[tuple[str, str]]:
    """(route, name) of every URL pattern outside the admin."""

    def walk(patterns, prefix="", namespace=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern), p.namespace or namespace)
            elif isinstance(p, URLPattern):
                yield prefix + str(p.pattern), f"{namespace}:{p.name}" if namespace else p.name

    return [(r, n) for r, n in walk(get_resolver().url_patterns) if not r.startswith("admin/")]


def crawl_client(user) -> Client:
    client = client_for(user)
    client.raise_request_exception = False
    return client


@pytest.mark.slow
@pytest.mark.parametrize("role", ["finance", "staff_a", "admin_user"])
def test_it_never_answers_500_to_hostile_query_strings(role, request, submitted):
    import datetime

    from campaigns.models import Campaign

    # The year's campaign exists, so its pages and the dashboard's due-list view answer.
    Campaign.objects.create(year=2021, title="2021", deadline=datetime.date(2022, 3, 31))
    client = crawl_client(request.getfixturevalue(role))
    failures = []
    for route, name in routes():
        url = "/" + route.replace("<id:pk>", str(submitted.pk)).replace("<year:year>", "2021")
        url = url.replace("<id:file_pk>", "1")
        queries = HOSTILE_QUERIES[:1] if name in QUERY_BLIND else HOSTILE_QUERIES
        for query in queries:
            response = client.get(url, query)
            # 503 is the worker check's answer when no worker runs (none does in a test).
            if response.status_code >= 500 and not (
                name == "healthz_worker" and response.status_code == 503
            ):
                failures.append((name, {k: v[:20] for k, v in query.items()}, response.status_code))
    assert failures == []


URLENCODED = "application/x-www-form-urlencoded"


def hostile_posts(evaluation: Evaluation) -> dict[str, list[dict[str, str] | bytes]]:
    data = evaluation.as_form_data()
    edit = post_data(data, revision="²")
    return {
        f"/review/{evaluation.pk}/return/": [
            {"reason": "", "comment-indicator-²": "x"},
            {"reason": "x" * 5000, "comment-indicator-" + "9" * 5000: "x"},
            {"reason": "\x00", "comment-funding-total": "\x00" * 10},
            {"reason": "\ufffe", "comment-indicator-1": "\ufffe"},
            # Not UTF-8 at all (a lone surrogate as a browser would mangle it).
            b"reason=%00&comment-indicator-1=%ED%A0%80%FF%FE",
        ],
        f"/evaluations/{evaluation.pk}/submit/": [
            {"ack-²": "²", "comment-²": "x" * 5000},
            {"comment-OVER_ACHIEVEMENT:1": "\x00"},
        ],
        f"/evaluations/{evaluation.pk}/reopen/": [{"reason": "x" * 5000}, {"reason": "\x00"}],
        f"/evaluations/{evaluation.pk}/edit/": [
            edit,
            {**edit, "revision": "9" * 5000, "year": "9" * 5000, "ind-TOTAL_FORMS": "²"},
            {**edit, "ind-TOTAL_FORMS": str(10**30), "ind-0-ORDER": "²", "department": "9" * 25},
        ],
        "/evaluations/new/": [
            {**edit, "department": "²"},
            {**edit, "department": "9" * 25, "year": "²", "funding-total-executed": "9" * 5000},
        ],
        "/evaluations/score-preview/": [
            {**edit, "ind-TOTAL_FORMS": "²"},
            {
                **edit,
                "ind-0-weight": "9" * 5000,
                "ind-0-score": "NaN",
                "execution_weight": "Infinity",
            },
        ],
        "/evaluations/import/confirm/": [{"batch": "²"}, {"batch": "../../" + "9" * 5000}],
    }


@pytest.mark.parametrize("role", ["finance", "staff_a", "admin_user"])
def test_it_never_answers_500_to_hostile_workflow_posts(role, request, submitted):
    client = crawl_client(request.getfixturevalue(role))
    failures = []
    for url, bodies in hostile_posts(submitted).items():
        for body in bodies:
            if isinstance(body, bytes):
                response = client.post(url, body, content_type=URLENCODED)
            else:
                response = client.post(url, body)
            if response.status_code >= 500:
                failures.append((url, str(body)[:60], response.status_code))
    assert failures == []
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED  # no hostile body made a transition


# --- error pages and caching --------------------------------------------------------


def boom(request):
    raise RuntimeError("deliberate failure")


# This module is the URL configuration of the 500 test: the site plus one failing view.
urlpatterns = [path("boom/", boom), *config_urls.urlpatterns]


@override_settings(DEBUG=False)
def test_it_shows_a_chinese_404_in_the_site_layout(client_a):
    response = client_a.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "页面不存在" in page and "返回自评表列表" in page
    assert 'class="navbar-brand"' in page and "alice" in page  # the site's layout, signed in
    assert "Not Found" not in page


@override_settings(DEBUG=False)
def test_it_shows_the_chinese_404_for_another_departments_form(client_b, evaluation):
    response = client_b.get(f"/evaluations/{evaluation.pk}/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "页面不存在" in page
    assert "No Evaluation matches" not in page


@override_settings(DEBUG=False)
def test_it_shows_a_chinese_404_to_anonymous_visitors():
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


@override_settings(DEBUG=False)
def test_it_shows_a_chinese_403_with_the_reason(db, django_user_model):
    user = django_user_model.objects.create_user(username="nodept", password="x")
    response = client_for(user).get("/evaluations/new/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "无权访问" in page and "您的账号未分配部门，请联系管理员。" in page
    assert "403 Forbidden" not in page


@override_settings(DEBUG=False)
def test_it_shows_a_chinese_csrf_failure_page(staff_a, evaluation):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_a)
    response = client.post(f"/evaluations/{evaluation.pk}/submit/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "页面已过期，未能提交" in page and 'class="navbar-brand"' in page
    assert "CSRF verification failed" not in page
    evaluation.refresh_from_db()
    assert evaluation.status == Status.DRAFT


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_it_shows_a_chinese_500_page(client_a):
    client_a.raise_request_exception = False
    response = client_a.get("/boom/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "系统出错" in page and "错误已记录" in page
    assert "Server Error" not in page and "deliberate failure" not in page


def test_it_renders_the_500_page_without_any_context():
    # Django's server_error renders it so: no request, no context processors.
    page = loader.get_template("500.html").render()
    assert "系统出错" in page and "/static/css/app.css" in page


@pytest.mark.parametrize(
    "url",
    [
        "/evaluations/",
        "/evaluations/{pk}/",
        "/evaluations/{pk}/edit/",
        "/evaluations/{pk}/history/",
        "/evaluations/{pk}/pdf/",
        "/evaluations/{pk}/xlsx/",
        "/review/",
        "/dashboard/",
        "/dashboard/export.xlsx?year=2021",
        "/no-such-page/",
    ],
)
def test_it_forbids_caching_signed_in_pages_and_downloads(client_finance, evaluation, url):
    response = client_finance.get(url.format(pk=evaluation.pk))
    assert response.status_code in (200, 404)
    assert response["Cache-Control"] == NO_STORE


def test_it_keeps_a_views_own_no_store_header(db):
    # The login page's never_cache header is stricter than ours; it is left as it is.
    response = Client().get("/accounts/login/")
    assert (
        "no-store" in response["Cache-Control"] and "must-revalidate" in response["Cache-Control"]
    )


def test_it_leaves_anonymous_redirects_alone(db):
    response = Client().get("/evaluations/")
    assert response.status_code == 302
    assert NO_STORE not in response.get("Cache-Control", "")


# --- every transition says what it did ----------------------------------------------


def test_it_refuses_to_reopen_a_draft(client_admin, evaluation):
    response = client_admin.post(f"/evaluations/{evaluation.pk}/reopen/", {"reason": "试试"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "此表当前状态为“草稿”，只有已通过的表可以重新开放。" in page
    assert "已重新开放" not in page
    evaluation.refresh_from_db()
    assert evaluation.status == Status.DRAFT
    assert events(evaluation, EventAction.REOPENED) == 0


def test_it_says_on_the_reopen_page_that_a_draft_cannot_be_reopened(client_admin, evaluation):
    response = client_admin.get(f"/evaluations/{evaluation.pk}/reopen/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "只有已通过的表可以重新开放" in page
    assert 'name="reason"' not in page


@pytest.mark.parametrize("state", ["submitted", "returned"])
def test_it_refuses_to_reopen_a_form_that_is_not_approved(client_admin, submitted, finance, state):
    if state == "returned":
        evaluation_return(evaluation=submitted, user=finance, reason="请补充")
    response = client_admin.post(f"/evaluations/{submitted.pk}/reopen/", {"reason": "试试"})
    assert response.status_code == 400
    assert "只有已通过的表可以重新开放" in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == state
    assert events(submitted, EventAction.REOPENED) == 0


def test_it_says_so_when_a_form_is_reopened_twice(client_admin, approved):
    first = client_admin.post(
        f"/evaluations/{approved.pk}/reopen/", {"reason": "更正执行数"}, follow=True
    )
    assert first.redirect_chain[0][1] == 302
    assert flashed(first) == ["已重新开放，部门可以再次修改此表。"]
    second = client_admin.post(
        f"/evaluations/{approved.pk}/reopen/", {"reason": "更正执行数"}, follow=True
    )
    assert second.redirect_chain[0][1] == 302
    assert flashed(second) == ["此表已经重新开放过了（现为草稿），未重复操作。"]
    approved.refresh_from_db()
    assert approved.status == Status.DRAFT
    assert events(approved, EventAction.REOPENED) == 1


def test_it_refuses_a_reopen_of_a_draft_that_was_never_approved_in_the_service(
    evaluation, admin_user
):
    with pytest.raises(TransitionError, match="只有已通过的表可以重新开放"):
        evaluation_reopen(evaluation=evaluation, user=admin_user, reason="x")


def test_it_refuses_a_second_reopen_after_the_form_moved_on(approved, admin_user, staff_a, finance):
    assert evaluation_reopen(evaluation=approved, user=admin_user, reason="更正") is True
    assert evaluation_reopen(evaluation=approved, user=admin_user, reason="更正") is False
    evaluation_submit(evaluation=approved, user=staff_a)
    # Submitted again: a reopen now is no repeat, it is refused.
    with pytest.raises(TransitionError):
        evaluation_reopen(evaluation=approved, user=admin_user, reason="更正")


def test_it_refuses_an_overlong_reopen_reason_and_keeps_it(client_admin, approved):
    reason = "因" * (REASON_MAX_LENGTH + 1)
    response = client_admin.post(f"/evaluations/{approved.pk}/reopen/", {"reason": reason})
    assert response.status_code == 400
    page = response.content.decode()
    assert f"最多 {REASON_MAX_LENGTH} 字" in page and reason in page
    approved.refresh_from_db()
    assert approved.status == Status.APPROVED


def test_it_says_so_when_a_form_is_submitted_twice(client_a, evaluation):
    first = client_a.post(f"/evaluations/{evaluation.pk}/submit/", follow=True)
    assert flashed(first) == ["已提交财政局审核。提交后本部门不能再修改此表。"]
    second = client_a.post(f"/evaluations/{evaluation.pk}/submit/", follow=True)
    assert second.redirect_chain[0][1] == 302
    assert flashed(second) == ["此表已经提交过了，未重复提交。"]
    assert events(evaluation, EventAction.SUBMITTED) == 1


def test_it_refuses_to_submit_an_approved_form(client_a, approved):
    response = client_a.post(f"/evaluations/{approved.pk}/submit/")
    assert response.status_code == 200
    assert "此表当前状态为“已通过”，不能提交。" in response.content.decode()
    approved.refresh_from_db()
    assert approved.status == Status.APPROVED


def test_it_says_so_when_a_form_is_approved_twice(client_finance, submitted):
    confirmed = {"confirm": "1"}
    first = client_finance.post(f"/review/{submitted.pk}/approve/", confirmed, follow=True)
    assert flashed(first) == [f"已审核通过“{submitted.project_name}”。"]
    second = client_finance.post(f"/review/{submitted.pk}/approve/", confirmed, follow=True)
    assert second.redirect_chain[0][1] == 302
    assert flashed(second) == ["此表已经审核通过了，未重复操作。"]
    assert events(submitted, EventAction.APPROVED) == 1


def test_it_refuses_to_approve_a_draft(client_finance, evaluation):
    response = client_finance.post(
        f"/review/{evaluation.pk}/approve/", {"confirm": "1"}, follow=True
    )
    assert response.redirect_chain[0][1] == 302
    assert flashed(response) == ["此表当前状态为“草稿”，只有已提交的表可以审核通过。"]
    evaluation.refresh_from_db()
    assert evaluation.status == Status.DRAFT


def test_it_says_so_when_a_form_is_returned_twice(client_finance, submitted):
    first = client_finance.post(
        f"/review/{submitted.pk}/return/", {"reason": "请补充"}, follow=True
    )
    assert flashed(first) == [f"已退回“{submitted.project_name}”，部门将看到退回原因和意见。"]
    second = client_finance.post(
        f"/review/{submitted.pk}/return/", {"reason": "请补充"}, follow=True
    )
    assert second.redirect_chain[0][1] == 302
    assert flashed(second) == ["此表已经退回过了，未重复退回。"]
    assert events(submitted, EventAction.RETURNED) == 1


def test_it_refuses_to_return_a_draft(client_finance, evaluation):
    response = client_finance.post(f"/review/{evaluation.pk}/return/", {"reason": "请补充"})
    assert response.status_code == 400
    assert "只有已提交的表可以退回" in response.content.decode()
    evaluation.refresh_from_db()
    assert evaluation.status == Status.DRAFT
