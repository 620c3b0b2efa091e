"""The review workflow as a table: each transition is a row of data, one function runs them all.

    草稿 draft ──submit──▶ 已提交 submitted ──return──▶ 已退回 returned ──submit──▶ submitted
                           submitted ──approve──▶ 已通过 approved ──reopen (administrator)──▶ draft

When the year's campaign requires the department's own sign-off (``Campaign.requires_sign_off``),
the filler's submission stops with the department's head (部门审核人) first:

    草稿/已退回 ──send for sign-off──▶ 部门审核 department_review ──sign off──▶ 已提交
                                      部门审核 ──department return──▶ 已退回

A row says which action it records, from which states it starts and where it ends, which
rule of ``evaluations.permissions`` decides who may, what a refused user reads, whether a
reason is required (and how long it may be) or an optional comment taken (an approval's),
which timestamps it sets or clears, who is notified, which extra checks run (submit: no
errors, every warning acknowledged; return: row comments), and, for rows that share one
button, when the row applies to a form (the filler's "submit" is SUBMIT without a sign-off
and SEND_FOR_SIGN_OFF with one; ``submit_transition`` picks it). ``transition_run`` does
the rest, in one transaction: lock the form, check rule, state and condition, run the
checks, update, write the history entry and the row comments, notify (mail once the
transaction has committed), and announce the step once it has committed
(``evaluations.signals.evaluation_transitioned``): what other apps do then (the exports app
renders an approved form's PDF) is theirs to subscribe to, not a row's to call.

A repeated transition (a double click, a second tab) is harmless: when the form already
is in the row's target state and its latest state change was this very action,
``transition_run`` returns False and writes nothing.

The department sign-off was added as rows: a ``Status`` and three ``EventAction`` values,
the rule ``evaluations.sign_off``, an audience for the heads, and the rows SEND_FOR_SIGN_OFF,
SIGN_OFF and DEPARTMENT_RETURN below; the only new code is the row's ``applies``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from functools import partial
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaigns.models import Campaign
from common.safetext import clean_text
from departments.names import display_name
from evaluations import permissions
from evaluations.core.limits import COMMENT_MAX_LENGTH, REASON_MAX_LENGTH
from evaluations.core.scoring import EXPLANATION_REQUIRED
from evaluations.mail import mail_queue
from evaluations.models import (
    CommentTarget,
    Evaluation,
    EvaluationEvent,
    EventAction,
    FundingKind,
    Notification,
    ReviewComment,
    Status,
)
from evaluations.services import evaluation_recompute, evaluation_score
from evaluations.signals import evaluation_transitioned

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.utils.functional import Promise


class TransitionError(Exception):
    """A transition that is not allowed now, for this user; the message is for the user."""

    def __init__(self, message: str, findings: list | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.findings = findings or []


def warning_key(finding: Any) -> str:
    """A stable key for one warning of a form, used to acknowledge it on submission."""
    where = finding.indicator if finding.indicator is not None else (finding.funding or "form")
    return f"{finding.code}:{where}"


# --- the parts of a row ------------------------------------------------------------------


class Audience(Enum):
    """Who is told about a transition (a notification, and a mail where they have an address)."""

    DEPARTMENT_STAFF = "department_staff"
    DEPARTMENT_HEADS = "department_heads"
    FINANCE = "finance"


def recipients(audiences: tuple[Audience, ...], evaluation: Evaluation) -> list[Any]:
    """The active users of ``audiences`` for this evaluation, each once."""
    found: dict[int, Any] = {}
    for audience in audiences:
        if audience is Audience.FINANCE:
            users = permissions.finance_users()
        elif audience is Audience.DEPARTMENT_HEADS:
            users = permissions.department_heads(evaluation)
        else:
            users = permissions.department_staff(evaluation)
        for user in users:
            found.setdefault(user.pk, user)
    return list(found.values())


@dataclass(frozen=True)
class Condition:
    """When a row applies to a form, and what is read when it does not."""

    holds: Callable[[Evaluation], bool]
    otherwise: Promise


def requires_sign_off(evaluation: Evaluation) -> bool:
    """True when the campaign of the evaluation's year requires the department's sign-off."""
    return Campaign.objects.filter(year=evaluation.year, requires_sign_off=True).exists()


def sign_off_not_required(evaluation: Evaluation) -> bool:
    """True when the form goes straight to the bureau (no campaign requires the sign-off)."""
    return not requires_sign_off(evaluation)


@dataclass(frozen=True)
class ReasonRule:
    """A transition that needs a reason: what the reason is called, its limit, the refusal."""

    label: Promise
    limit: int
    missing: Promise


@dataclass(frozen=True)
class CommentRule:
    """A transition that takes an optional comment, stored as its reason: name and limit."""

    label: Promise
    limit: int


@dataclass
class TransitionInput:
    """What the user sent with a transition; each row reads only what it needs."""

    reason: str | None = ""
    # warning_key → an optional explanation (submit).
    acknowledgements: dict[str, str] = field(default_factory=dict)
    # {"target": "indicator"|"funding", "position": int | None, "funding_kind": str,
    # "text": str} (return).
    comments: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Outcome:
    """What a check adds to the history entry: acknowledged warnings, row comments."""

    acknowledgements: list[dict[str, Any]] = field(default_factory=list)
    # Unsaved; the event they belong to is filled in once it exists.
    comments: list[ReviewComment] = field(default_factory=list)


Check = Callable[[Evaluation, TransitionInput], Outcome]


def workflow_text(text: str | None, *, limit: int, what: str) -> str:
    """A reason or comment as stored: control characters removed, trimmed, within ``limit``."""
    text = clean_text(text or "").strip()
    if len(text) > limit:
        raise TransitionError(
            _("%(what)s最多 %(limit)d 字（现有 %(count)d 字），请删减后再提交。")
            % {"what": what, "limit": limit, "count": len(text)}
        )
    return text


def check_findings(evaluation: Evaluation, given: TransitionInput) -> Outcome:
    """Refuse while the form has errors or an unacknowledged warning; record the warnings.

    A changed or missing approved target (EXPLANATION_REQUIRED) needs a written reason, not
    only a tick.
    """
    result = evaluation_score(evaluation=evaluation)
    if result.errors:
        raise TransitionError(
            _("此表还有 %(n)d 个错误，请修改后再提交。") % {"n": len(result.errors)},
            findings=list(result.errors),
        )
    acknowledged = given.acknowledgements or {}
    pending = [w for w in result.warnings if warning_key(w) not in acknowledged]
    if pending:
        raise TransitionError(
            _("请逐条确认或说明以下 %(n)d 个警告后再提交。") % {"n": len(pending)},
            findings=pending,
        )
    # A change of an approved target is what auditors look for: it needs a reason, not a tick.
    unexplained = [
        w
        for w in result.warnings
        if w.code in EXPLANATION_REQUIRED
        and not str(acknowledged.get(warning_key(w)) or "").strip()
    ]
    if unexplained:
        raise TransitionError(
            _("以下 %(n)d 处与批复绩效目标不同，请逐条填写调整原因后再提交。")
            % {"n": len(unexplained)},
            findings=unexplained,
        )
    return Outcome(
        acknowledgements=[
            {
                "key": warning_key(w),
                "code": w.code,
                "indicator": w.indicator,
                "message": str(w.message),
                "comment": workflow_text(
                    acknowledged.get(warning_key(w)), limit=COMMENT_MAX_LENGTH, what=_("说明")
                ),
            }
            for w in result.warnings
        ]
    )


def check_row_comments(evaluation: Evaluation, given: TransitionInput) -> Outcome:
    """Comments on single rows: each within its limit; rows that no longer exist are skipped."""
    comments = given.comments or []
    texts = [
        workflow_text(c.get("text"), limit=COMMENT_MAX_LENGTH, what=_("审核意见")) for c in comments
    ]
    data = evaluation.as_form_data()
    rows = []
    for c, text in zip(comments, texts, strict=True):
        if not text:
            continue
        if c.get("target") == CommentTarget.INDICATOR:
            position = c.get("position")
            # Rows that do not exist (any more) have nothing to attach a comment to.
            if not isinstance(position, int) or not 1 <= position <= len(data.indicators):
                continue
            rows.append(
                ReviewComment(
                    evaluation=evaluation,
                    target=CommentTarget.INDICATOR,
                    position=position,
                    label=data.indicators[position - 1].name[:500],
                    text=text,
                )
            )
        elif (
            c.get("target") == CommentTarget.FUNDING and c.get("funding_kind") in FundingKind.values
        ):
            rows.append(
                ReviewComment(
                    evaluation=evaluation,
                    target=CommentTarget.FUNDING,
                    funding_kind=c["funding_kind"],
                    label=str(FundingKind(c["funding_kind"]).label),
                    text=text,
                )
            )
        elif c.get("target") == CommentTarget.EVIDENCE and isinstance(c.get("evidence"), int):
            # Only a file of this form: a posted id of another form's file is ignored.
            file = evaluation.evidence.filter(pk=c["evidence"]).first()
            if file is None:
                continue
            rows.append(
                ReviewComment(
                    evaluation=evaluation,
                    target=CommentTarget.EVIDENCE,
                    evidence=file,
                    label=file.original_name[:500],
                    text=text,
                )
            )
    return Outcome(comments=rows)


def check_has_head(evaluation: Evaluation, given: TransitionInput) -> Outcome:
    """Refuse a sign-off nobody could give: the department has no active head."""
    if not permissions.department_heads(evaluation):
        raise TransitionError(_("本部门尚未设置部门审核人，无法提交部门审核，请联系系统管理员。"))
    return Outcome()


# --- the table ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    """One step of the workflow, as data."""

    action: EventAction
    sources: tuple[Status, ...]
    target: Status
    # A rule name of evaluations.permissions, asked with (user, evaluation).
    rule: str
    # What a user the rule refuses reads.
    refused: Promise
    # What anyone reads when the form is in none of ``sources`` (``%(status)s``: its state).
    wrong_state: Promise
    # Who is told (each user once).
    notify: tuple[Audience, ...]
    reason: ReasonRule | None = None
    # An optional comment instead (recorded as the event's reason, shown and mailed as one).
    comment: CommentRule | None = None
    # Timestamp fields of Evaluation set to now / cleared by this step.
    sets: tuple[str, ...] = ()
    clears: tuple[str, ...] = ()
    checks: tuple[Check, ...] = ()
    # None: the row applies to every form; else only to forms the condition holds for.
    applies: Condition | None = None


RETURN_REASON = ReasonRule(
    label=gettext_lazy("退回原因"),
    limit=REASON_MAX_LENGTH,
    missing=gettext_lazy("退回时必须填写退回原因。"),
)

SUBMIT = Transition(
    action=EventAction.SUBMITTED,
    sources=(Status.DRAFT, Status.RETURNED),
    target=Status.SUBMITTED,
    rule=permissions.SUBMIT,
    refused=gettext_lazy("只有本部门的填报人可以提交此表。"),
    wrong_state=gettext_lazy("此表当前状态为“%(status)s”，不能提交。"),
    notify=(Audience.FINANCE,),
    sets=("submitted_at",),
    checks=(check_findings,),
    applies=Condition(
        holds=sign_off_not_required,
        otherwise=gettext_lazy("本年度的自评表须先经本部门审核人审核，不能直接提交财政局。"),
    ),
)
# The filler's submission when the campaign requires the department's sign-off.
SEND_FOR_SIGN_OFF = Transition(
    action=EventAction.SENT_FOR_SIGN_OFF,
    sources=(Status.DRAFT, Status.RETURNED),
    target=Status.DEPARTMENT_REVIEW,
    rule=permissions.SUBMIT,
    refused=gettext_lazy("只有本部门的填报人可以提交此表。"),
    wrong_state=gettext_lazy("此表当前状态为“%(status)s”，不能提交。"),
    notify=(Audience.DEPARTMENT_HEADS,),
    checks=(check_has_head, check_findings),
    applies=Condition(
        holds=requires_sign_off,
        otherwise=gettext_lazy("本年度的自评任务不需要部门审核，请直接提交财政局。"),
    ),
)
# The head passes the form on to the bureau: from here on it is submitted as without a sign-off.
SIGN_OFF = Transition(
    action=EventAction.SIGNED_OFF,
    sources=(Status.DEPARTMENT_REVIEW,),
    target=Status.SUBMITTED,
    rule=permissions.SIGN_OFF,
    refused=gettext_lazy("只有本部门的审核人可以执行此操作。"),
    wrong_state=gettext_lazy("此表当前状态为“%(status)s”，只有部门审核中的表可以审核通过。"),
    notify=(Audience.FINANCE,),
    sets=("submitted_at",),
)
# The head returns the form to its filler, exactly as the bureau does.
DEPARTMENT_RETURN = Transition(
    action=EventAction.DEPARTMENT_RETURNED,
    sources=(Status.DEPARTMENT_REVIEW,),
    target=Status.RETURNED,
    rule=permissions.SIGN_OFF,
    refused=gettext_lazy("只有本部门的审核人可以执行此操作。"),
    wrong_state=gettext_lazy("此表当前状态为“%(status)s”，只有部门审核中的表可以退回。"),
    notify=(Audience.DEPARTMENT_STAFF,),
    reason=RETURN_REASON,
    checks=(check_row_comments,),
)
RETURN = Transition(
    action=EventAction.RETURNED,
    sources=(Status.SUBMITTED,),
    target=Status.RETURNED,
    rule=permissions.REVIEW,
    refused=gettext_lazy("只有财政局审核人可以执行此操作。"),
    wrong_state=gettext_lazy("此表当前状态为“%(status)s”，只有已提交的表可以退回。"),
    # The bureau's return goes back to the filler; the head sees it too.
    notify=(Audience.DEPARTMENT_STAFF, Audience.DEPARTMENT_HEADS),
    reason=RETURN_REASON,
    checks=(check_row_comments,),
)
APPROVE = Transition(
    action=EventAction.APPROVED,
    sources=(Status.SUBMITTED,),
    target=Status.APPROVED,
    rule=permissions.REVIEW,
    refused=gettext_lazy("只有财政局审核人可以执行此操作。"),
    wrong_state=gettext_lazy("此表当前状态为“%(status)s”，只有已提交的表可以审核通过。"),
    notify=(Audience.DEPARTMENT_STAFF,),
    # The bureau's optional comment for the department.
    comment=CommentRule(label=gettext_lazy("审核意见"), limit=REASON_MAX_LENGTH),
    sets=("approved_at",),
)
REOPEN = Transition(
    action=EventAction.REOPENED,
    sources=(Status.APPROVED,),
    target=Status.DRAFT,
    rule=permissions.REOPEN,
    refused=gettext_lazy("只有系统管理员可以重新开放已通过的表。"),
    wrong_state=gettext_lazy("此表当前状态为“%(status)s”，只有已通过的表可以重新开放。"),
    notify=(Audience.DEPARTMENT_STAFF,),
    reason=ReasonRule(
        label=gettext_lazy("原因"),
        limit=REASON_MAX_LENGTH,
        missing=gettext_lazy("重新开放时必须填写原因。"),
    ),
    clears=("approved_at",),
)

TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (SUBMIT, SEND_FOR_SIGN_OFF, SIGN_OFF, DEPARTMENT_RETURN, RETURN, APPROVE, REOPEN)
}
# The rows behind the filler's one "submit" button; exactly one applies to a form.
SUBMIT_ROWS: tuple[Transition, ...] = (SUBMIT, SEND_FOR_SIGN_OFF)
# The actions that hand a form to the bureau (已提交): the filler's direct submission and the
# head's sign-off. Read from the table, so another path to the bureau counts as well.
REACHES_BUREAU: tuple[str, ...] = tuple(
    t.action for t in TRANSITIONS.values() if t.target == Status.SUBMITTED
)
# The actions that approve a form (已通过).
APPROVES: tuple[str, ...] = tuple(
    t.action for t in TRANSITIONS.values() if t.target == Status.APPROVED
)


def submit_transition(evaluation: Evaluation) -> Transition:
    """The row the filler's "submit" runs on ``evaluation``: to the bureau or to the head."""
    for row in SUBMIT_ROWS:
        if row.applies is None or row.applies.holds(evaluation):
            return row
    return SUBMIT  # not reached: the conditions of SUBMIT_ROWS cover every form


# --- the driver --------------------------------------------------------------------------


def _lock(evaluation: Evaluation) -> Evaluation:
    return (
        Evaluation.objects.select_for_update(of=("self",))
        .select_related("department")
        .get(pk=evaluation.pk)
    )


def last_transition(evaluation: Evaluation) -> str | None:
    """The action of the evaluation's latest state change (edits and imports excluded)."""
    return (
        EvaluationEvent.objects.filter(evaluation=evaluation, action__in=list(TRANSITIONS))
        .order_by("-created_at", "-id")
        .values_list("action", flat=True)
        .first()
    )


def _notify(event: EvaluationEvent, users: list[Any]) -> None:
    Notification.objects.bulk_create(
        [Notification(user=u, evaluation=event.evaluation, event=event) for u in users]
    )
    emails = [u.email for u in users if u.email]
    if emails:
        subject = _("绩效自评表“%(name)s”：%(action)s") % {
            "name": event.evaluation.project_name,
            "action": event.get_action_display(),
        }
        body = subject + ("\n\n" + event.reason if event.reason else "")
        if event.actor is not None:
            body += "\n\n" + _("经办人：%(person)s") % {"person": display_name(event.actor)}
        # Stored with the transition (a rolled-back step sends nothing) and sent by the task
        # worker after commit: no request waits on the mail server.
        mail_queue(subject=subject, body=body, recipients=emails)


def _announce(transition: Transition, evaluation_id: int, from_status: str, to_status: str) -> None:
    """Tell the subscribers that the step has happened (evaluations/signals.py)."""
    # send_robust: a subscriber that raises is logged by Django, and the others still run.
    evaluation_transitioned.send_robust(
        sender=Transition,
        evaluation_id=evaluation_id,
        action=transition.action,
        from_status=from_status,
        to_status=to_status,
    )


# What recording the rule-set version on leaving the department may change.
_SCORED_FIELDS = (
    "scoring_rules_version_id",
    "computed_execution_rate",
    "computed_execution_score",
    "computed_total",
    "error_count",
    "warning_count",
)


def transition_run(
    transition: Transition,
    *,
    evaluation: Evaluation,
    user: AbstractBaseUser,
    given: TransitionInput | None = None,
) -> bool:
    """Run one row of the table on ``evaluation``: True if done, False on a true repeat.

    Raises TransitionError (message for the user) when the rule refuses the user, when the
    form is in none of the row's source states, or when a reason or a check fails.
    """
    given = given or TransitionInput()
    with transaction.atomic():
        ev = _lock(evaluation)
        if not permissions.allowed(transition.rule, user, ev):
            raise TransitionError(str(transition.refused))
        if ev.status == transition.target and last_transition(ev) == transition.action:
            return False
        if ev.status not in transition.sources:
            raise TransitionError(transition.wrong_state % {"status": ev.get_status_display()})
        if transition.applies is not None and not transition.applies.holds(ev):
            raise TransitionError(str(transition.applies.otherwise))
        reason = ""
        if transition.reason is not None:
            rule = transition.reason
            reason = workflow_text(given.reason, limit=rule.limit, what=str(rule.label))
            if not reason:
                raise TransitionError(str(rule.missing))
        elif transition.comment is not None:
            comment = transition.comment
            reason = workflow_text(given.reason, limit=comment.limit, what=str(comment.label))
        outcome = Outcome()
        for check in transition.checks:
            found = check(ev, given)
            outcome.acknowledgements += found.acknowledgements
            outcome.comments += found.comments

        from_status = ev.status
        if ev.is_editable and transition.target not in (Status.DRAFT, Status.RETURNED):
            # Leaving the department's hands: the form records the rule-set version it was
            # checked with and keeps it (evaluations/rules.py).
            evaluation_recompute(evaluation=ev)
        ev.status = transition.target
        now = timezone.now()
        for name in transition.sets:
            setattr(ev, name, now)
        for name in transition.clears:
            setattr(ev, name, None)
        ev.save(update_fields=["status", *transition.sets, *transition.clears, "updated_at"])
        event = EvaluationEvent.objects.create(
            evaluation=ev,
            action=transition.action,
            actor=user,
            from_status=from_status,
            to_status=ev.status,
            revision=ev.revision,
            reason=reason,
            acknowledgements=outcome.acknowledgements,
        )
        for comment in outcome.comments:
            comment.event = event
        ReviewComment.objects.bulk_create(outcome.comments)
        _notify(event, recipients(transition.notify, ev))
        # robust: a failure to announce is logged, never raised into the committed step.
        transaction.on_commit(
            partial(_announce, transition, ev.pk, from_status, ev.status), robust=True
        )
    # The caller's copy shows the new state, as if it had been reloaded.
    evaluation.status = ev.status
    for name in (*transition.sets, *transition.clears, *_SCORED_FIELDS):
        setattr(evaluation, name, getattr(ev, name))
    return True


# --- the services: the names views and tests call ----------------------------------------


def evaluation_submit(
    *,
    evaluation: Evaluation,
    user: AbstractBaseUser,
    acknowledgements: dict[str, str] | None = None,
) -> bool:
    """Submit a draft or returned form; returns False if already submitted.

    It goes to the finance bureau, or to the department's head first when the year's
    campaign requires the sign-off (``submit_transition``). Refused while the form has
    error findings; every warning must be acknowledged (``acknowledgements`` maps
    warning_key → an optional explanation).
    """
    given = TransitionInput(acknowledgements=acknowledgements or {})
    row = submit_transition(evaluation)
    return transition_run(row, evaluation=evaluation, user=user, given=given)


def evaluation_sign_off(*, evaluation: Evaluation, user: AbstractBaseUser) -> bool:
    """The department's head passes a form in 部门审核 on to the bureau; False if done already."""
    return transition_run(SIGN_OFF, evaluation=evaluation, user=user)


def evaluation_department_return(
    *,
    evaluation: Evaluation,
    user: AbstractBaseUser,
    reason: str,
    comments: list[dict[str, Any]] | None = None,
) -> bool:
    """The department's head returns a form in 部门审核 to its filler; False if done already.

    ``reason`` and ``comments`` as for ``evaluation_return``.
    """
    given = TransitionInput(reason=reason, comments=comments or [])
    return transition_run(DEPARTMENT_RETURN, evaluation=evaluation, user=user, given=given)


def evaluation_return(
    *,
    evaluation: Evaluation,
    user: AbstractBaseUser,
    reason: str,
    comments: list[dict[str, Any]] | None = None,
) -> bool:
    """Return a submitted form to its department with a reason; False if already returned.

    ``comments`` are {"target": "indicator"|"funding", "position": int | None,
    "funding_kind": str, "text": str} attached to individual rows.
    """
    given = TransitionInput(reason=reason, comments=comments or [])
    return transition_run(RETURN, evaluation=evaluation, user=user, given=given)


def evaluation_approve(*, evaluation: Evaluation, user: AbstractBaseUser, reason: str = "") -> bool:
    """Approve a submitted form, locking it; False if already approved.

    ``reason`` is the bureau's optional comment, shown to the department and mailed.
    """
    given = TransitionInput(reason=reason)
    return transition_run(APPROVE, evaluation=evaluation, user=user, given=given)


def evaluation_reopen(*, evaluation: Evaluation, user: AbstractBaseUser, reason: str) -> bool:
    """Reopen an approved form as a draft (administrators only, with a reason).

    Returns False when the form was reopened already and has not changed state since
    (a second click); any other form that is not approved is refused (TransitionError).
    """
    given = TransitionInput(reason=reason)
    return transition_run(REOPEN, evaluation=evaluation, user=user, given=given)
