"""Workflow transitions (docs/domain.md): every allowed and refused step, for every role."""

from __future__ import annotations

from decimal import Decimal

import pytest

from evaluations.models import EvaluationEvent, EventAction, Notification, ReviewComment, Status
from evaluations.services import StaleEvaluationError, evaluation_score, evaluation_write
from evaluations.workflow import (
    TransitionError,
    evaluation_approve,
    evaluation_reopen,
    evaluation_return,
    evaluation_submit,
    warning_key,
)
from tests.factories import clean_form_data, make_evaluation

pytestmark = pytest.mark.django_db


def last_event(evaluation) -> EvaluationEvent:
    return EvaluationEvent.objects.filter(evaluation=evaluation).order_by("-id").first()


def set_status(evaluation, status: str) -> None:
    type(evaluation).objects.filter(pk=evaluation.pk).update(status=status)
    evaluation.refresh_from_db()


def test_it_has_no_findings_in_the_clean_fixture(dept_a, staff_a):
    evaluation = make_evaluation(dept_a, staff_a)
    assert evaluation_score(evaluation=evaluation).findings == []
    assert evaluation.computed_total == Decimal("100.00")


def test_it_submits_a_clean_draft(dept_a, staff_a, finance):
    evaluation = make_evaluation(dept_a, staff_a)
    assert evaluation_submit(evaluation=evaluation, user=staff_a) is True
    evaluation.refresh_from_db()
    assert evaluation.status == Status.SUBMITTED
    assert evaluation.submitted_at is not None
    event = last_event(evaluation)
    assert (event.action, event.from_status, event.to_status, event.actor) == (
        EventAction.SUBMITTED,
        Status.DRAFT,
        Status.SUBMITTED,
        staff_a,
    )
    assert list(
        Notification.objects.filter(evaluation=evaluation).values_list("user", flat=True)
    ) == [finance.pk]


def test_it_treats_a_repeated_submit_as_harmless(dept_a, staff_a):
    evaluation = make_evaluation(dept_a, staff_a)
    evaluation_submit(evaluation=evaluation, user=staff_a)
    count = EvaluationEvent.objects.count()
    assert evaluation_submit(evaluation=evaluation, user=staff_a) is False
    assert EvaluationEvent.objects.count() == count


@pytest.mark.parametrize("who", ["staff_b", "finance", "admin_user"])
def test_it_refuses_submit_by_anyone_but_the_department(who, request, dept_a, staff_a):
    evaluation = make_evaluation(dept_a, staff_a)
    user = request.getfixturevalue(who)
    with pytest.raises(TransitionError, match="只有本部门的填报人可以提交此表"):
        evaluation_submit(evaluation=evaluation, user=user)
    evaluation.refresh_from_db()
    assert evaluation.status == Status.DRAFT


def test_it_refuses_submit_with_errors_and_lists_them(dept_a, staff_a):
    evaluation = make_evaluation(dept_a, staff_a, stated_total=Decimal("95"))
    with pytest.raises(TransitionError, match="还有 1 个错误") as exc:
        evaluation_submit(evaluation=evaluation, user=staff_a)
    assert [f.code for f in exc.value.findings] == ["TOTAL_MISMATCH"]
    evaluation.refresh_from_db()
    assert evaluation.status == Status.DRAFT


def test_it_requires_each_warning_to_be_acknowledged(dept_a, staff_a):
    data = clean_form_data()
    data.indicators[1].actual = "20次"  # >= 30% over target: OVER_ACHIEVEMENT warning
    evaluation = make_evaluation(dept_a, staff_a, indicators=data.indicators)
    warnings = evaluation_score(evaluation=evaluation).warnings
    assert [w.code for w in warnings] == ["OVER_ACHIEVEMENT"]
    with pytest.raises(TransitionError, match="请逐条确认或说明以下 1 个警告"):
        evaluation_submit(evaluation=evaluation, user=staff_a)
    key = warning_key(warnings[0])
    assert evaluation_submit(
        evaluation=evaluation, user=staff_a, acknowledgements={key: "今年检查任务临时增加。"}
    )
    event = last_event(evaluation)
    assert event.acknowledgements[0]["code"] == "OVER_ACHIEVEMENT"
    assert event.acknowledgements[0]["comment"] == "今年检查任务临时增加。"


def test_it_returns_with_reason_and_row_comments(dept_a, staff_a, colleague_a, finance):
    evaluation = make_evaluation(dept_a, staff_a)
    evaluation_submit(evaluation=evaluation, user=staff_a)
    assert evaluation_return(
        evaluation=evaluation,
        user=finance,
        reason="成本指标说明不足",
        comments=[
            {"target": "indicator", "position": 5, "text": "请说明检查费用的测算依据"},
            {"target": "funding", "funding_kind": "total", "text": "执行数与决算不一致"},
            {"target": "indicator", "position": 2, "text": "   "},
        ],
    )
    evaluation.refresh_from_db()
    assert evaluation.status == Status.RETURNED
    event = last_event(evaluation)
    assert (event.action, event.reason, event.actor) == (
        EventAction.RETURNED,
        "成本指标说明不足",
        finance,
    )
    comments = list(ReviewComment.objects.filter(event=event).order_by("target"))
    assert [(c.target, c.position, c.funding_kind, c.label) for c in comments] == [
        ("funding", None, "total", "年度资金总额"),
        ("indicator", 5, "", "检查费用"),
    ]
    notified = set(Notification.objects.filter(event=event).values_list("user", flat=True))
    assert notified == {staff_a.pk, colleague_a.pk}


def test_it_requires_a_reason_to_return(dept_a, staff_a, finance):
    evaluation = make_evaluation(dept_a, staff_a)
    evaluation_submit(evaluation=evaluation, user=staff_a)
    with pytest.raises(TransitionError, match="必须填写退回原因"):
        evaluation_return(evaluation=evaluation, user=finance, reason="  ")
    evaluation.refresh_from_db()
    assert evaluation.status == Status.SUBMITTED


@pytest.mark.parametrize("who", ["staff_a", "staff_b"])
def test_it_refuses_return_and_approve_by_department_staff(who, request, dept_a, staff_a):
    evaluation = make_evaluation(dept_a, staff_a)
    evaluation_submit(evaluation=evaluation, user=staff_a)
    user = request.getfixturevalue(who)
    with pytest.raises(TransitionError, match="只有财政局审核人"):
        evaluation_return(evaluation=evaluation, user=user, reason="x")
    with pytest.raises(TransitionError, match="只有财政局审核人"):
        evaluation_approve(evaluation=evaluation, user=user)
    evaluation.refresh_from_db()
    assert evaluation.status == Status.SUBMITTED


@pytest.mark.parametrize("status", [Status.DRAFT, Status.APPROVED])
def test_it_refuses_return_unless_submitted(status, dept_a, staff_a, finance):
    evaluation = make_evaluation(dept_a, staff_a)
    set_status(evaluation, status)
    with pytest.raises(TransitionError, match="只有已提交的表可以退回"):
        evaluation_return(evaluation=evaluation, user=finance, reason="x")
    evaluation.refresh_from_db()
    assert evaluation.status == status


@pytest.mark.parametrize("status", [Status.DRAFT, Status.RETURNED])
def test_it_refuses_approve_unless_submitted(status, dept_a, staff_a, finance):
    evaluation = make_evaluation(dept_a, staff_a)
    set_status(evaluation, status)
    with pytest.raises(TransitionError, match="只有已提交的表可以审核通过"):
        evaluation_approve(evaluation=evaluation, user=finance)


def test_it_refuses_submit_of_an_approved_form(dept_a, staff_a):
    evaluation = make_evaluation(dept_a, staff_a)
    set_status(evaluation, Status.APPROVED)
    with pytest.raises(TransitionError, match="不能提交"):
        evaluation_submit(evaluation=evaluation, user=staff_a)


def test_it_resubmits_a_returned_form(dept_a, staff_a, finance):
    evaluation = make_evaluation(dept_a, staff_a)
    evaluation_submit(evaluation=evaluation, user=staff_a)
    evaluation_return(evaluation=evaluation, user=finance, reason="请补充")
    assert evaluation_submit(evaluation=evaluation, user=staff_a) is True
    evaluation.refresh_from_db()
    assert evaluation.status == Status.SUBMITTED
    assert last_event(evaluation).from_status == Status.RETURNED


def test_it_approves_and_repeating_is_harmless(dept_a, staff_a, finance):
    evaluation = make_evaluation(dept_a, staff_a)
    evaluation_submit(evaluation=evaluation, user=staff_a)
    assert evaluation_approve(evaluation=evaluation, user=finance) is True
    evaluation.refresh_from_db()
    assert evaluation.status == Status.APPROVED
    assert evaluation.approved_at is not None
    count = EvaluationEvent.objects.count()
    assert evaluation_approve(evaluation=evaluation, user=finance) is False
    assert EvaluationEvent.objects.count() == count
    # a return after approval is refused: approved forms are locked
    with pytest.raises(TransitionError):
        evaluation_return(evaluation=evaluation, user=finance, reason="x")


@pytest.mark.parametrize("who", ["staff_a", "finance"])
def test_it_lets_only_an_administrator_reopen(who, request, dept_a, staff_a, finance):
    evaluation = make_evaluation(dept_a, staff_a)
    evaluation_submit(evaluation=evaluation, user=staff_a)
    evaluation_approve(evaluation=evaluation, user=finance)
    with pytest.raises(TransitionError, match="只有系统管理员"):
        evaluation_reopen(evaluation=evaluation, user=request.getfixturevalue(who), reason="x")
    evaluation.refresh_from_db()
    assert evaluation.status == Status.APPROVED


def test_it_reopens_with_a_recorded_reason(dept_a, staff_a, finance, admin_user):
    evaluation = make_evaluation(dept_a, staff_a)
    evaluation_submit(evaluation=evaluation, user=staff_a)
    evaluation_approve(evaluation=evaluation, user=finance)
    with pytest.raises(TransitionError, match="必须填写原因"):
        evaluation_reopen(evaluation=evaluation, user=admin_user, reason="")
    assert evaluation_reopen(evaluation=evaluation, user=admin_user, reason="审计发现执行数有误")
    evaluation.refresh_from_db()
    assert evaluation.status == Status.DRAFT
    assert evaluation.approved_at is None
    event = last_event(evaluation)
    assert (event.action, event.reason, event.actor) == (
        EventAction.REOPENED,
        "审计发现执行数有误",
        admin_user,
    )


def test_it_records_old_and_new_values_of_every_edit(dept_a, staff_a):
    evaluation = make_evaluation(dept_a, staff_a)
    data = evaluation.as_form_data()
    data.indicators[0].actual = "1500户"
    data.indicators[0].score = Decimal("9.38")
    data.indicators[0].deviation = "部分农户未开工。"
    data.funding[0].executed = Decimal("69")
    data.stated_total = Decimal("99.24")
    evaluation_write(evaluation=evaluation, data=data, user=staff_a, expected_revision=1)
    evaluation.refresh_from_db()
    assert evaluation.revision == 2
    event = last_event(evaluation)
    assert event.action == EventAction.EDITED
    # Stored as field keys and values (no labels); the row by its key, not its position.
    row = {"section": "indicator", "row": evaluation.indicators.get(position=1).key}
    assert event.changes == [
        {"section": "header", "field": "stated_total", "old": "100", "new": "99.24"},
        {"section": "funding", "row": "total", "field": "executed", "old": "70", "new": "69"},
        {**row, "position": 1, "field": "actual", "old": "1600户", "new": "1500户"},
        {**row, "position": 1, "field": "score", "old": "10", "new": "9.38"},
        {**row, "position": 1, "field": "deviation", "old": "", "new": "部分农户未开工。"},
    ]
    assert [v.revision for v in evaluation.versions.all()] == [2, 1]


def test_it_refuses_a_save_based_on_a_stale_copy(dept_a, staff_a, colleague_a):
    evaluation = make_evaluation(dept_a, staff_a)
    first = evaluation.as_form_data()
    first.goal_actual = "甲的修改"
    second = evaluation.as_form_data()
    second.goal_actual = "乙的修改"
    evaluation_write(evaluation=evaluation, data=first, user=staff_a, expected_revision=1)
    copy = type(evaluation).objects.get(pk=evaluation.pk)
    with pytest.raises(StaleEvaluationError, match="alice"):
        evaluation_write(evaluation=copy, data=second, user=colleague_a, expected_revision=1)
    evaluation.refresh_from_db()
    assert evaluation.goal_actual == "甲的修改"
    assert evaluation.revision == 2


def test_it_recomputes_cached_figures_after_a_rule_change(dept_a, staff_a, settings):
    from io import StringIO

    from django.core.management import call_command

    data = clean_form_data()
    data.funding[0].executed = Decimal("49")  # 70% execution: the local cap allows at most 89
    data.funding[1].executed = Decimal("49")
    data.indicators[0].deviation = "部分资金未拨付。"
    evaluation = make_evaluation(dept_a, staff_a, funding=data.funding, indicators=data.indicators)
    assert evaluation.computed_total == Decimal("97.00")
    settings.SCORING_EXECUTION_RATE_CAP = True
    out = StringIO()
    call_command("recompute_scores", "--apply", stdout=out)
    evaluation.refresh_from_db()
    assert evaluation.computed_total == Decimal("89.00")
    assert "已重新计算 1 张自评表，其中 1 张的结果有变化" in out.getvalue()
