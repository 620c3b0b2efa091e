"""The transition table of evaluations/workflow.py: every row, its refusals, repeats, recipients."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from campaigns.models import Campaign, DueProject
from evaluations import permissions, workflow
from evaluations.core.limits import COMMENT_MAX_LENGTH, REASON_MAX_LENGTH
from evaluations.models import (
    EvaluationEvent,
    EventAction,
    Notification,
    OutgoingMail,
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
    # The department's sign-off (the year's campaign requires it: see ``prepared``).
    EventAction.SENT_FOR_SIGN_OFF: ([], "staff_a", "head_a", TransitionInput()),
    EventAction.SIGNED_OFF: (
        [EventAction.SENT_FOR_SIGN_OFF],
        "head_a",
        "head_b",
        TransitionInput(),
    ),
    EventAction.DEPARTMENT_RETURNED: (
        [EventAction.SENT_FOR_SIGN_OFF],
        "head_a",
        "finance",
        TransitionInput("请补充"),
    ),
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
RUNNERS = {
    EventAction.SUBMITTED: "staff_a",
    EventAction.APPROVED: "finance",
    EventAction.SENT_FOR_SIGN_OFF: "staff_a",
}
SIGN_OFF_ACTIONS = {
    EventAction.SENT_FOR_SIGN_OFF,
    EventAction.SIGNED_OFF,
    EventAction.DEPARTMENT_RETURNED,
}
RECIPIENTS = {
    Audience.DEPARTMENT_STAFF: {"staff_a", "colleague_a"},
    Audience.DEPARTMENT_HEADS: {"head_a"},
    Audience.FINANCE: {"finance"},
}
PEOPLE = ("staff_a", "colleague_a", "staff_b", "head_a", "head_b", "finance", "admin_user")


@pytest.fixture
def people(request, db):
    return {name: request.getfixturevalue(name) for name in PEOPLE}


def require_sign_off(year: int = 2021, required: bool = True) -> Campaign:
    """The year's campaign, requiring the department's sign-off (or not)."""
    return Campaign.objects.create(
        year=year,
        title=f"{year}年度项目支出绩效自评",
        deadline=datetime.date(year + 1, 3, 31),
        requires_sign_off=required,
    )


def due_evaluation(department, user, **overrides):
    """A clean form of ``department`` on its year's due list (so it has no findings at all)."""
    evaluation = make_evaluation(department, user, **overrides)
    campaign = Campaign.objects.get(year=evaluation.year)
    evaluation.due_project = DueProject.objects.create(
        campaign=campaign, department=department, project_name=evaluation.project_name
    )
    evaluation.save(update_fields=["due_project"])
    return evaluation


def prepared(action, people, dept_a):
    """A form of department A in the first source state of ``action``'s row."""
    if action in SIGN_OFF_ACTIONS:
        require_sign_off()
        evaluation = due_evaluation(dept_a, people["staff_a"])
    else:
        evaluation = make_evaluation(dept_a, people["staff_a"])
    for step in CASES[action][0]:
        user = people[RUNNERS[step]]
        assert transition_run(TRANSITIONS[step], evaluation=evaluation, user=user)
    return evaluation


def test_it_has_a_row_for_every_state_change():
    assert set(TRANSITIONS) == set(CASES)
    for row in TRANSITIONS.values():
        assert row.rule in permissions.RULES
        assert row.notify and all(isinstance(a, Audience) for a in row.notify)
        assert row.target not in row.sources
        assert "%(status)s" in str(row.wrong_state)
        if row.reason is not None:
            assert row.reason.limit == REASON_MAX_LENGTH


def test_it_reads_as_the_documented_table():
    table = {
        a: (
            set(r.sources),
            r.target,
            r.rule,
            set(r.notify),
            r.sets,
            r.clears,
            r.reason is not None,
            r.checks,
        )
        for a, r in TRANSITIONS.items()
    }
    findings, row_comments = workflow.check_findings, workflow.check_row_comments
    assert table == {
        EventAction.SUBMITTED: (
            {Status.DRAFT, Status.RETURNED},
            Status.SUBMITTED,
            permissions.SUBMIT,
            {Audience.FINANCE},
            ("submitted_at",),
            (),
            False,
            (findings,),
        ),
        EventAction.SENT_FOR_SIGN_OFF: (
            {Status.DRAFT, Status.RETURNED},
            Status.DEPARTMENT_REVIEW,
            permissions.SUBMIT,
            {Audience.DEPARTMENT_HEADS},
            (),
            (),
            False,
            (workflow.check_has_head, findings),
        ),
        EventAction.SIGNED_OFF: (
            {Status.DEPARTMENT_REVIEW},
            Status.SUBMITTED,
            permissions.SIGN_OFF,
            {Audience.FINANCE},
            ("submitted_at",),
            (),
            False,
            (),
        ),
        EventAction.DEPARTMENT_RETURNED: (
            {Status.DEPARTMENT_REVIEW},
            Status.RETURNED,
            permissions.SIGN_OFF,
            {Audience.DEPARTMENT_STAFF},
            (),
            (),
            True,
            (row_comments,),
        ),
        EventAction.RETURNED: (
            {Status.SUBMITTED},
            Status.RETURNED,
            permissions.REVIEW,
            {Audience.DEPARTMENT_STAFF, Audience.DEPARTMENT_HEADS},
            (),
            (),
            True,
            (row_comments,),
        ),
        EventAction.APPROVED: (
            {Status.SUBMITTED},
            Status.APPROVED,
            permissions.REVIEW,
            {Audience.DEPARTMENT_STAFF},
            ("approved_at",),
            (),
            False,
            (),
        ),
        EventAction.REOPENED: (
            {Status.APPROVED},
            Status.DRAFT,
            permissions.REOPEN,
            {Audience.DEPARTMENT_STAFF},
            (),
            ("approved_at",),
            True,
            (),
        ),
    }
    # The department return is the bureau's return, by the head: the same reason rule.
    assert (
        TRANSITIONS[EventAction.DEPARTMENT_RETURNED].reason
        == TRANSITIONS[EventAction.RETURNED].reason
    )
    # The two rows behind the filler's one "submit" button each apply under a condition.
    assert [r.applies is not None for r in TRANSITIONS.values()] == [
        a in {EventAction.SUBMITTED, EventAction.SENT_FOR_SIGN_OFF} for a in TRANSITIONS
    ]


@pytest.mark.parametrize("action", list(CASES))
def test_it_runs_each_row(action, people, dept_a, django_capture_on_commit_callbacks):
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
    assert notified == {people[name] for a in row.notify for name in RECIPIENTS[a]}
    # The mail is stored with the step; handing it to the worker (and any background work
    # of the row) waits for the commit.
    assert len(callbacks) == 2  # the mail, and the announcement of the step
    queued = OutgoingMail.objects.latest("id")
    assert sorted(queued.recipients) == sorted(u.email for u in notified)


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
        (EventAction.SENT_FOR_SIGN_OFF, "只有本部门的填报人可以提交此表。"),
        (EventAction.SIGNED_OFF, "只有本部门的审核人可以执行此操作。"),
        (EventAction.DEPARTMENT_RETURNED, "只有本部门的审核人可以执行此操作。"),
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
        notify=(Audience.FINANCE,),
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


# --- the department's sign-off ----------------------------------------------------------


def test_it_picks_the_submit_row_by_the_years_campaign(people, dept_a):
    evaluation = make_evaluation(dept_a, people["staff_a"])
    assert workflow.submit_transition(evaluation) is workflow.SUBMIT  # no campaign
    require_sign_off(2022)  # another year's campaign does not count
    assert workflow.submit_transition(evaluation) is workflow.SUBMIT
    campaign = require_sign_off(2021, required=False)
    assert workflow.submit_transition(evaluation) is workflow.SUBMIT
    campaign.requires_sign_off = True
    campaign.save()
    assert workflow.submit_transition(evaluation) is workflow.SEND_FOR_SIGN_OFF


def test_it_sends_a_submission_to_the_head_when_the_campaign_requires_it(people, dept_a):
    require_sign_off()
    evaluation = due_evaluation(dept_a, people["staff_a"])
    assert workflow.evaluation_submit(evaluation=evaluation, user=people["staff_a"]) is True
    evaluation.refresh_from_db()
    assert (evaluation.status, evaluation.submitted_at) == (Status.DEPARTMENT_REVIEW, None)
    event = EvaluationEvent.objects.filter(evaluation=evaluation).latest("id")
    assert event.action == EventAction.SENT_FOR_SIGN_OFF
    # Only the department's head is told; the bureau does not see the form yet.
    notified = set(Notification.objects.filter(event=event).values_list("user", flat=True))
    assert notified == {people["head_a"].pk}
    # A second click is harmless.
    assert workflow.evaluation_submit(evaluation=evaluation, user=people["staff_a"]) is False
    assert EvaluationEvent.objects.filter(evaluation=evaluation).count() == 2


def test_it_submits_to_the_bureau_without_a_sign_off(people, dept_a):
    require_sign_off(required=False)
    evaluation = due_evaluation(dept_a, people["staff_a"])
    assert workflow.evaluation_submit(evaluation=evaluation, user=people["staff_a"]) is True
    evaluation.refresh_from_db()
    assert evaluation.status == Status.SUBMITTED
    assert evaluation.submitted_at is not None
    assert evaluation.events.latest("id").action == EventAction.SUBMITTED


@pytest.mark.parametrize(
    ("required", "row", "message"),
    [
        (True, workflow.SUBMIT, "本年度的自评表须先经本部门审核人审核，不能直接提交财政局。"),
        (False, workflow.SEND_FOR_SIGN_OFF, "本年度的自评任务不需要部门审核，请直接提交财政局。"),
    ],
)
def test_it_refuses_a_submit_row_that_does_not_apply(required, row, message, people, dept_a):
    # Nobody reaches the bureau around the head (or the head without a sign-off).
    require_sign_off(required=required)
    evaluation = make_evaluation(dept_a, people["staff_a"])
    with pytest.raises(TransitionError) as exc:
        transition_run(row, evaluation=evaluation, user=people["staff_a"])
    assert exc.value.message == message
    evaluation.refresh_from_db()
    assert (evaluation.status, evaluation.events.count()) == (Status.DRAFT, 1)


def test_it_checks_findings_before_sending_for_sign_off(people, dept_a):
    require_sign_off()
    evaluation = make_evaluation(dept_a, people["staff_a"], stated_total=Decimal("95"))
    with pytest.raises(TransitionError, match="还有 1 个错误") as exc:
        workflow.evaluation_submit(evaluation=evaluation, user=people["staff_a"])
    assert [f.code for f in exc.value.findings] == ["TOTAL_MISMATCH"]
    evaluation.refresh_from_db()
    assert evaluation.status == Status.DRAFT


def test_it_stores_the_heads_row_comments_as_the_bureaus(people, dept_a):
    evaluation = prepared(EventAction.DEPARTMENT_RETURNED, people, dept_a)
    comments = [
        {"target": "indicator", "position": 2, "text": "次数偏少"},
        {"target": "indicator", "position": 99, "text": "没有这一行"},
        {"target": "funding", "funding_kind": "total", "text": "执行数有误"},
    ]
    assert workflow.evaluation_department_return(
        evaluation=evaluation, user=people["head_a"], reason="请修改", comments=comments
    )
    evaluation.refresh_from_db()
    assert evaluation.status == Status.RETURNED
    stored = ReviewComment.objects.filter(evaluation=evaluation).order_by("id")
    assert [(c.target, c.position, c.funding_kind, c.label, c.text) for c in stored] == [
        ("indicator", 2, "", "监督检查次数", "次数偏少"),
        ("funding", None, "total", "年度资金总额", "执行数有误"),
    ]
    assert all(c.event.action == EventAction.DEPARTMENT_RETURNED for c in stored)
    # Overlong comments are refused as on the bureau's return.
    evaluation = due_evaluation(dept_a, people["staff_a"], project_name="另一个项目")
    workflow.evaluation_submit(evaluation=evaluation, user=people["staff_a"])
    too_long = [{"target": "indicator", "position": 1, "text": "长" * (COMMENT_MAX_LENGTH + 1)}]
    with pytest.raises(TransitionError, match="审核意见最多"):
        workflow.evaluation_department_return(
            evaluation=evaluation, user=people["head_a"], reason="x", comments=too_long
        )
    evaluation.refresh_from_db()
    assert evaluation.status == Status.DEPARTMENT_REVIEW


def test_it_lets_only_the_departments_head_decide(people, dept_a):
    evaluation = prepared(EventAction.SIGNED_OFF, people, dept_a)
    for name in ("staff_a", "colleague_a", "head_b", "finance", "admin_user"):
        with pytest.raises(TransitionError, match="只有本部门的审核人"):
            workflow.evaluation_sign_off(evaluation=evaluation, user=people[name])
        with pytest.raises(TransitionError, match="只有本部门的审核人"):
            workflow.evaluation_department_return(
                evaluation=evaluation, user=people[name], reason="x"
            )
    evaluation.refresh_from_db()
    assert (evaluation.status, evaluation.events.count()) == (Status.DEPARTMENT_REVIEW, 2)
    assert workflow.evaluation_sign_off(evaluation=evaluation, user=people["head_a"])
    evaluation.refresh_from_db()
    assert evaluation.status == Status.SUBMITTED and evaluation.submitted_at is not None
    # The bureau decides from here; the head's second click changes nothing.
    assert workflow.evaluation_sign_off(evaluation=evaluation, user=people["head_a"]) is False
    with pytest.raises(TransitionError, match="只有部门审核中的表可以退回"):
        workflow.evaluation_department_return(
            evaluation=evaluation, user=people["head_a"], reason="x"
        )


def test_it_tells_the_head_of_the_bureaus_return(people, dept_a):
    evaluation = prepared(EventAction.RETURNED, people, dept_a)
    assert workflow.evaluation_return(
        evaluation=evaluation, user=people["finance"], reason="请补充佐证"
    )
    event = evaluation.events.latest("id")
    notified = set(
        Notification.objects.filter(event=event).values_list("user__username", flat=True)
    )
    assert notified == {"alice", "carol", "hank"}  # the fillers and the head, not department B's


def test_it_refuses_a_sign_off_nobody_could_give(people, dept_a):
    # A department without an active head: the form would wait in 部门审核 for nobody.
    require_sign_off()
    evaluation = due_evaluation(dept_a, people["staff_a"])
    people["head_a"].is_active = False
    people["head_a"].save()
    with pytest.raises(TransitionError, match="本部门尚未设置部门审核人"):
        workflow.evaluation_submit(evaluation=evaluation, user=people["staff_a"])
    evaluation.refresh_from_db()
    assert (evaluation.status, evaluation.events.count()) == (Status.DRAFT, 1)
    people["head_a"].is_active = True
    people["head_a"].save()
    assert workflow.evaluation_submit(evaluation=evaluation, user=people["staff_a"])
