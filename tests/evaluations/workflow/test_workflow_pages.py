"""Workflow views: submit, review queue, return, approve, reopen, history — per role."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from evaluations.models import EvaluationEvent, EventAction, Notification, ReviewComment, Status
from evaluations.services import evaluation_write
from evaluations.workflow import evaluation_return, evaluation_submit
from tests.factories import make_evaluation

pytestmark = pytest.mark.django_db


@pytest.fixture
def evaluation(dept_a, staff_a):
    return make_evaluation(dept_a, staff_a)


@pytest.fixture
def submitted(evaluation, staff_a):
    evaluation_submit(evaluation=evaluation, user=staff_a)
    evaluation.refresh_from_db()
    return evaluation


def test_it_submits_from_the_confirmation_page(client_a, evaluation):
    page = client_a.get(f"/evaluations/{evaluation.pk}/submit/")
    assert "校验通过，没有错误和警告" in page.content.decode()
    response = client_a.post(f"/evaluations/{evaluation.pk}/submit/")
    assert response.status_code == 302
    evaluation.refresh_from_db()
    assert evaluation.status == Status.SUBMITTED


def test_it_lists_errors_and_refuses_to_submit(client_a, dept_a, staff_a):
    evaluation = make_evaluation(dept_a, staff_a, stated_total=Decimal("90"))
    page = client_a.get(f"/evaluations/{evaluation.pk}/submit/").content.decode()
    assert 'data-code="TOTAL_MISMATCH"' in page
    response = client_a.post(f"/evaluations/{evaluation.pk}/submit/")
    assert response.status_code == 200
    assert "还有 1 个错误" in response.content.decode()
    evaluation.refresh_from_db()
    assert evaluation.status == Status.DRAFT


@pytest.mark.parametrize("blank", ["level1", "level2"])
def test_it_refuses_to_submit_a_row_without_its_category(client_a, evaluation, blank):
    data = evaluation.as_form_data()
    setattr(data.indicators[2], blank, "")
    evaluation_write(evaluation=evaluation, data=data, user=None)
    page = client_a.get(f"/evaluations/{evaluation.pk}/submit/").content.decode()
    assert 'data-code="CATEGORY_MISSING"' in page
    response = client_a.post(f"/evaluations/{evaluation.pk}/submit/")
    assert "还有 1 个错误" in response.content.decode()
    evaluation.refresh_from_db()
    assert evaluation.status == Status.DRAFT


def test_it_requires_warnings_acknowledged_on_the_page(client_a, dept_a, staff_a):
    from tests.factories import clean_form_data

    data = clean_form_data()
    data.indicators[1].actual = "20次"
    evaluation = make_evaluation(dept_a, staff_a, indicators=data.indicators)
    response = client_a.post(f"/evaluations/{evaluation.pk}/submit/")
    assert "请逐条确认" in response.content.decode()
    evaluation.refresh_from_db()
    assert evaluation.status == Status.DRAFT
    response = client_a.post(
        f"/evaluations/{evaluation.pk}/submit/", {"comment-OVER_ACHIEVEMENT:1": "任务增加"}
    )
    assert response.status_code == 302
    evaluation.refresh_from_db()
    assert evaluation.status == Status.SUBMITTED
    event = EvaluationEvent.objects.get(evaluation=evaluation, action=EventAction.SUBMITTED)
    assert event.acknowledgements[0]["comment"] == "任务增加"


@pytest.mark.parametrize("who", ["client_b", "client_finance"])
def test_it_hides_the_submit_page_from_others(who, request, evaluation):
    client = request.getfixturevalue(who)
    assert client.get(f"/evaluations/{evaluation.pk}/submit/").status_code == 404
    assert client.post(f"/evaluations/{evaluation.pk}/submit/").status_code == 404
    evaluation.refresh_from_db()
    assert evaluation.status == Status.DRAFT


def test_it_shows_the_queue_to_finance_oldest_first(
    client_finance, dept_a, dept_b, staff_a, staff_b
):
    first = make_evaluation(dept_b, staff_b, project_name="先提交的项目")
    evaluation_submit(evaluation=first, user=staff_b)
    second = make_evaluation(dept_a, staff_a, project_name="后提交的项目")
    evaluation_submit(evaluation=second, user=staff_a)
    make_evaluation(dept_a, staff_a, project_name="还是草稿的项目")
    body = client_finance.get("/review/").content.decode()
    assert body.index("先提交的项目") < body.index("后提交的项目")
    assert "还是草稿的项目" not in body
    filtered = client_finance.get(f"/review/?department={dept_a.pk}").content.decode()
    assert "后提交的项目" in filtered and "先提交的项目" not in filtered


@pytest.mark.parametrize("who", ["client_a", "client_b", "client_admin"])
def test_it_hides_review_pages_from_non_finance(who, request, submitted):
    client = request.getfixturevalue(who)
    assert client.get("/review/").status_code == 404
    assert client.get(f"/review/{submitted.pk}/").status_code == 404
    assert client.post(f"/review/{submitted.pk}/approve/").status_code == 404
    assert client.post(f"/review/{submitted.pk}/return/", {"reason": "x"}).status_code == 404
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED


def test_it_redirects_anonymous_users_from_review_pages(submitted):
    client = Client()
    for url in ("/review/", f"/review/{submitted.pk}/", f"/evaluations/{submitted.pk}/history/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_it_allows_only_post_for_decisions(client_finance, submitted):
    # GET /approve/ is the confirmation page (tests/evaluations/workflow/test_review.py): it decides nothing.
    assert client_finance.get(f"/review/{submitted.pk}/approve/").status_code == 200
    assert client_finance.get(f"/review/{submitted.pk}/return/").status_code == 405
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED


def test_it_enforces_csrf_on_decisions(finance, submitted):
    client = Client(enforce_csrf_checks=True)
    client.force_login(finance)
    assert client.post(f"/review/{submitted.pk}/approve/").status_code == 403
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED


def test_it_returns_with_comments_on_rows(client_finance, submitted, staff_a):
    response = client_finance.post(
        f"/review/{submitted.pk}/return/",
        {
            "reason": "请补充成本测算",
            "comment-indicator-5": "测算依据不足",
            "comment-funding-total": "核对执行数",
        },
    )
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == Status.RETURNED
    comments = ReviewComment.objects.filter(evaluation=submitted).order_by("target")
    assert [(c.target, c.position, c.funding_kind, c.text) for c in comments] == [
        ("funding", None, "total", "核对执行数"),
        ("indicator", 5, "", "测算依据不足"),
    ]
    assert (
        Notification.objects.filter(user=staff_a, evaluation=submitted, read_at=None).count() == 1
    )


def test_it_refuses_a_return_without_reason_and_keeps_the_comments(client_finance, submitted):
    response = client_finance.post(
        f"/review/{submitted.pk}/return/", {"reason": " ", "comment-indicator-2": "x"}
    )
    assert response.status_code == 400
    assert "必须填写退回原因" in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED


def test_it_approves(client_finance, submitted):
    response = client_finance.post(f"/review/{submitted.pk}/approve/", {"confirm": "1"})
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == Status.APPROVED


def test_it_shows_changes_since_the_return(client_finance, submitted, staff_a, finance):
    evaluation_return(evaluation=submitted, user=finance, reason="请说明偏差")
    data = submitted.as_form_data()
    data.indicators[4].deviation = "按实际支出结算"
    evaluation_write(evaluation=submitted, data=data, user=staff_a)
    evaluation_submit(evaluation=submitted, user=staff_a)
    body = client_finance.get(f"/review/{submitted.pk}/").content.decode()
    assert "退回以来的修改" in body
    assert "第5行指标·偏差原因分析及改进措施" in body
    assert "按实际支出结算" in body


def test_it_lets_an_administrator_reopen_with_reason(client_admin, client_finance, submitted):
    client_finance.post(f"/review/{submitted.pk}/approve/", {"confirm": "1"})
    response = client_admin.post(f"/evaluations/{submitted.pk}/reopen/", {"reason": ""})
    assert "必须填写原因" in response.content.decode()
    response = client_admin.post(f"/evaluations/{submitted.pk}/reopen/", {"reason": "更正执行数"})
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == Status.DRAFT


@pytest.mark.parametrize("who", ["client_a", "client_finance"])
def test_it_hides_reopen_from_non_administrators(who, request, client_finance, submitted):
    client_finance.post(f"/review/{submitted.pk}/approve/", {"confirm": "1"})
    client = request.getfixturevalue(who)
    assert client.post(f"/evaluations/{submitted.pk}/reopen/", {"reason": "x"}).status_code == 404
    submitted.refresh_from_db()
    assert submitted.status == Status.APPROVED


def test_it_shows_the_history_newest_first(client_a, client_finance, submitted):
    client_finance.post(f"/review/{submitted.pk}/return/", {"reason": "请补充说明"})
    body = client_a.get(f"/evaluations/{submitted.pk}/history/").content.decode()
    assert (
        body.index('data-action="returned"')
        < body.index('data-action="submitted"')
        < body.index('data-action="created"')
    )
    assert "请补充说明" in body
    assert client_finance.get(f"/evaluations/{submitted.pk}/history/").status_code == 200


def test_it_hides_history_from_another_department(client_b, submitted):
    assert client_b.get(f"/evaluations/{submitted.pk}/history/").status_code == 404
