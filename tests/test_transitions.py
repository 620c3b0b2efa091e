"""The transition table of evaluations/workflow.py: every row, its refusals, repeats, recipients."""

from __future__ import annotations

from decimal import Decimal

import pytest

from evaluations import permissions, workflow
from evaluations.core.limits import COMMENT_MAX_LENGTH, REASON_MAX_LENGTH
from evaluations.models import (
    EvaluationEvent,
    EventAction,
    Notification,
    ReviewComment,
    Status,
)
from evaluations.workflow import (
    TRANSITIONS,
    Audience,
    Transition,
    TransitionError,
    TransitionInput,
    transition_run,
)
from tests.factories import make_evaluation

pytestmark = pytest.mark.django_db

# Per action: the states the form goes through to reach the row's start (by earlier
# rows), who may run the row, who may not, and the input it needs.
CASES = {
    EventAction.SUBMITTED: ([], "staff_a", "finance", TransitionInput()),
    EventAction.RETURNED: (
        [EventAction.SUBMITTED],
        "finance",
        "staff_a",
        TransitionInput("请补充"),
    ),
    EventAction.APPROVED: ([EventAction.SUBMITTED], "finance", "admin_user", TransitionInput()),
    EventAction.REOPENED: (
        [EventAction.SUBMITTED, EventAction.APPROVED],
        "admin_user",
        "finance",
        TransitionInput("更正"),
    ),
}
RUNNERS = {EventAction.SUBMITTED: "staff_a", EventAction.APPROVED: "finance"}
RECIPIENTS = {
    Audience.DEPARTMENT_STAFF: {"staff_a", "colleague_a"},
    Audience.FINANCE: {"finance"},
}


@pytest.fixture
def people(request, staff_a, colleague_a, staff_b, finance, admin_user):
    return {
        name: request.getfixturevalue(name)
        for name in ("staff_a", "colleague_a", "staff_b", "finance", "admin_user")
    }


def prepared(action, people, dept_a):
    """A form of department A in the first source state of ``action``'s row."""
    evaluation = make_evaluation(dept_a, people["staff_a"])
    for step in CASES[action][0]:
        user = people[RUNNERS[step]]
        assert transition_run(TRANSITIONS[step], evaluation=evaluation, user=user)
    return evaluation


def test_it_has_a_row_for_every_state_change():
    assert set(TRANSITIONS) == set(CASES)
    for row in TRANSITIONS.values():
        assert row.rule in permissions.RULES
        assert row.target not in row.sources
        assert "%(status)s" in str(row.wrong_state)
        if row.reason is not None:
            assert row.reason.limit == REASON_MAX_LENGTH


def test_it_reads_as_the_documented_table():
    table = {
        a: (set(r.sources), r.target, r.rule, r.notify, r.sets, r.clears, r.reason is not None)
        for a, r in TRANSITIONS.items()
    }
    assert table == {
        EventAction.SUBMITTED: (
            {Status.DRAFT, Status.RETURNED},
            Status.SUBMITTED,
            permissions.SUBMIT,
            Audience.FINANCE,
            ("submitted_at",),
            (),
            False,
        ),
        EventAction.RETURNED: (
            {Status.SUBMITTED},
            Status.RETURNED,
            permissions.REVIEW,
            Audience.DEPARTMENT_STAFF,
            (),
            (),
            True,
        ),
        EventAction.APPROVED: (
            {Status.SUBMITTED},
            Status.APPROVED,
            permissions.REVIEW,
            Audience.DEPARTMENT_STAFF,
            ("approved_at",),
            (),
            False,
        ),
        EventAction.REOPENED: (
            {Status.APPROVED},
            Status.DRAFT,
            permissions.REOPEN,
            Audience.DEPARTMENT_STAFF,
            (),
            ("approved_at",),
            True,
        ),
    }


@pytest.mark.parametrize("action", list(CASES))
def test_it_runs_each_row(action, people, dept_a, mailoutbox, django_capture_on_commit_callbacks):
    row = TRANSITIONS[action]
    evaluation = prepared(action, people, dept_a)
    from_status = evaluation.status
    user = people[CASES[action][1]]
    for person in people.values():
        person.email = f"{person.username}@example.com"
        person.save()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert transition_run(row, evaluation=evaluation, user=user, given=CASES[action][3])
    assert evaluation.status == row.target  # the caller's copy, too
    evaluation.refresh_from_db()
    assert evaluation.status == row.target
    for name in row.sets:
        assert getattr(evaluation, name) is not None
    for name in row.clears:
        assert getattr(evaluation, name) is None
    event = EvaluationEvent.objects.filter(evaluation=evaluation).latest("id")
    assert (event.action, event.from_status, event.to_status, event.actor) == (
        action,
        from_status,
        row.target,
        user,
    )
    assert event.reason == (CASES[action][3].reason if row.reason else "")
    notified = {n.user for n in Notification.objects.filter(event=event)}
    assert notified == {people[name] for name in RECIPIENTS[row.notify]}
    assert len(callbacks) == 1  # the mail waits for the commit
    assert sorted(mailoutbox[-1].to) == sorted(u.email for u in notified)


@pytest.mark.parametrize("action", list(CASES))
def test_it_refuses_the_wrong_user_with_the_rows_message(action, people, dept_a):
    row = TRANSITIONS[action]
    evaluation = prepared(action, people, dept_a)
    before = (evaluation.status, EvaluationEvent.objects.count())
    wrong = people[CASES[action][2]]
    with pytest.raises(TransitionError) as exc:
        transition_run(row, evaluation=evaluation, user=wrong, given=CASES[action][3])
    assert exc.value.message == str(row.refused)
    evaluation.refresh_from_db()
    assert (evaluation.status, EvaluationEvent.objects.count()) == before


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (EventAction.SUBMITTED, "只有本部门的填报人可以提交此表。"),
        (EventAction.RETURNED, "只有财政局审核人可以执行此操作。"),
        (EventAction.APPROVED, "只有财政局审核人可以执行此操作。"),
        (EventAction.REOPENED, "只有系统管理员可以重新开放已通过的表。"),
    ],
)
def test_it_refuses_in_chinese(action, message):
    assert str(TRANSITIONS[action].refused) == message


@pytest.mark.parametrize("action", list(CASES))
def test_it_treats_a_repeat_as_harmless(action, people, dept_a):
    row = TRANSITIONS[action]
    evaluation = prepared(action, people, dept_a)
    user = people[CASES[action][1]]
    assert transition_run(row, evaluation=evaluation, user=user, given=CASES[action][3])
    count = EvaluationEvent.objects.count()
    assert transition_run(row, evaluation=evaluation, user=user, given=CASES[action][3]) is False
    assert EvaluationEvent.objects.count() == count


@pytest.mark.parametrize("action", list(CASES))
def test_it_refuses_every_state_outside_the_row(action, people, dept_a):
    row = TRANSITIONS[action]
    user = people[CASES[action][1]]
    for status in set(Status) - set(row.sources) - {row.target}:
        evaluation = make_evaluation(dept_a, people["staff_a"], project_name=f"项目{status}")
        type(evaluation).objects.filter(pk=evaluation.pk).update(status=status)
        with pytest.raises(TransitionError) as exc:
            transition_run(row, evaluation=evaluation, user=user, given=CASES[action][3])
        label = Status(status).label
        assert exc.value.message == str(row.wrong_state) % {"status": label}


def test_it_refuses_a_target_state_reached_another_way(people, dept_a):
    # A fresh draft was never reopened: reopening it is refused, not a harmless repeat.
    evaluation = make_evaluation(dept_a, people["staff_a"])
    with pytest.raises(TransitionError, match="只有已通过的表可以重新开放"):
        transition_run(
            TRANSITIONS[EventAction.REOPENED],
            evaluation=evaluation,
            user=people["admin_user"],
            given=TransitionInput("x"),
        )


@pytest.mark.parametrize("action", [a for a, r in TRANSITIONS.items() if r.reason is not None])
def test_it_requires_a_reason_within_its_limit(action, people, dept_a):
    row = TRANSITIONS[action]
    evaluation = prepared(action, people, dept_a)
    user = people[CASES[action][1]]
    with pytest.raises(TransitionError) as exc:
        transition_run(row, evaluation=evaluation, user=user, given=TransitionInput(" \x00 "))
    assert exc.value.message == str(row.reason.missing)
    too_long = "长" * (row.reason.limit + 1)
    with pytest.raises(TransitionError, match=f"最多 {row.reason.limit} 字"):
        transition_run(row, evaluation=evaluation, user=user, given=TransitionInput(too_long))
    evaluation.refresh_from_db()
    assert evaluation.status in row.sources


def test_it_checks_findings_before_submitting(people, dept_a):
    evaluation = make_evaluation(dept_a, people["staff_a"], stated_total=Decimal("95"))
    with pytest.raises(TransitionError, match="还有 1 个错误") as exc:
        workflow.evaluation_submit(evaluation=evaluation, user=people["staff_a"])
    assert [f.code for f in exc.value.findings] == ["TOTAL_MISMATCH"]


def test_it_stores_row_comments_and_skips_rows_that_do_not_exist(people, dept_a):
    evaluation = prepared(EventAction.RETURNED, people, dept_a)
    comments = [
        {"target": "indicator", "position": 2, "text": "次数偏少"},
        {"target": "indicator", "position": 99, "text": "没有这一行"},
        {"target": "funding", "funding_kind": "total", "text": "执行数有误"},
        {"target": "indicator", "position": 1, "text": "  "},
    ]
    assert workflow.evaluation_return(
        evaluation=evaluation, user=people["finance"], reason="请修改", comments=comments
    )
    stored = ReviewComment.objects.filter(evaluation=evaluation).order_by("id")
    assert [(c.target, c.position, c.funding_kind, c.label, c.text) for c in stored] == [
        ("indicator", 2, "", "监督检查次数", "次数偏少"),
        ("funding", None, "total", "年度资金总额", "执行数有误"),
    ]
    assert all(c.event.action == EventAction.RETURNED for c in stored)


def test_it_refuses_an_overlong_row_comment(people, dept_a):
    evaluation = prepared(EventAction.RETURNED, people, dept_a)
    comments = [{"target": "indicator", "position": 1, "text": "长" * (COMMENT_MAX_LENGTH + 1)}]
    with pytest.raises(TransitionError, match="审核意见最多"):
        workflow.evaluation_return(
            evaluation=evaluation, user=people["finance"], reason="x", comments=comments
        )
    evaluation.refresh_from_db()
    assert evaluation.status == Status.SUBMITTED


def test_it_runs_a_new_row_without_new_code(people, dept_a):
    # A later step (such as the department's sign-off) is a row: here a department
    # "withdraw" that reuses the rule, the row-comment check and the notification.
    withdraw = Transition(
        action=EventAction.RETURNED,
        sources=(Status.SUBMITTED,),
        target=Status.DRAFT,
        rule=permissions.SUBMIT,
        refused=TRANSITIONS[EventAction.SUBMITTED].refused,
        wrong_state=TRANSITIONS[EventAction.RETURNED].wrong_state,
        notify=Audience.FINANCE,
        reason=TRANSITIONS[EventAction.RETURNED].reason,
        clears=("submitted_at",),
        checks=(workflow.check_row_comments,),
    )
    evaluation = prepared(EventAction.RETURNED, people, dept_a)
    given = TransitionInput(
        "填错了", comments=[{"target": "indicator", "position": 1, "text": "改"}]
    )
    with pytest.raises(TransitionError):
        transition_run(withdraw, evaluation=evaluation, user=people["staff_b"], given=given)
    assert transition_run(withdraw, evaluation=evaluation, user=people["staff_a"], given=given)
    evaluation.refresh_from_db()
    assert (evaluation.status, evaluation.submitted_at) == (Status.DRAFT, None)
    assert ReviewComment.objects.filter(evaluation=evaluation).count() == 1
    assert set(
        Notification.objects.filter(evaluation=evaluation).values_list("user", flat=True)
    ) >= {people["finance"].pk}
