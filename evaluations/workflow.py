"""The review workflow as a table: each transition is a row of data, one function runs them all.

    草稿 draft ──submit──▶ 已提交 submitted ──return──▶ 已退回 returned ──submit──▶ submitted
                           submitted ──approve──▶ 已通过 approved ──reopen (administrator)──▶ draft

A row says which action it records, from which states it starts and where it ends, which
rule of ``evaluations.permissions`` decides who may, what a refused user reads, whether a
reason is required (and how long it may be), which timestamps it sets or clears, who is
notified, and which extra checks run (submit: no errors, every warning acknowledged;
return: row comments). ``transition_run`` does the rest, in one transaction: lock the
form, check rule and state, run the checks, update, write the history entry and the row
comments, notify (mail once the transaction has committed).

A repeated transition (a double click, a second tab) is harmless: when the form already
is in the row's target state and its latest state change was this very action,
``transition_run`` returns False and writes nothing.

Adding the department sign-off (草稿 → 部门审核 → 已提交) means rows, not code: a
``Status`` and ``EventAction`` for the new state and steps, a rule (say
``evaluations.sign_off``) in ``evaluations.permissions``, then rows such as
``Transition(action=SIGN_OFF_PASSED, sources=(DEPARTMENT_REVIEW,), target=SUBMITTED,
rule=SIGN_OFF, notify=Audience.FINANCE, ...)`` and a department return that reuses
``check_row_comments``, with SUBMIT's target changed to the new state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from evaluations import permissions
from evaluations.core.limits import COMMENT_MAX_LENGTH, REASON_MAX_LENGTH
from evaluations.core.safetext import clean_text
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
    FINANCE = "finance"


def recipients(audience: Audience, evaluation: Evaluation) -> list[Any]:
    """The active users of ``audience`` for this evaluation."""
    if audience is Audience.FINANCE:
        return permissions.finance_users()
    return permissions.department_staff(evaluation)


@dataclass(frozen=True)
class ReasonRule:
    """A transition that needs a reason: what the reason is called, its limit, the refusal."""

    label: Promise
    limit: int
    missing: Promise


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
    """Refuse while the form has errors or an unacknowledged warning; record the warnings."""
    # Imported here: evaluations.services re-exports this module's public names.
    from evaluations.services import evaluation_score

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
    return Outcome(comments=rows)


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
    notify: Audience
    reason: ReasonRule | None = None
    # Timestamp fields of Evaluation set to now / cleared by this step.
    sets: tuple[str, ...] = ()
    clears: tuple[str, ...] = ()
    checks: tuple[Check, ...] = ()


SUBMIT = Transition(
    action=EventAction.SUBMITTED,
    sources=(Status.DRAFT, Status.RETURNED),
    target=Status.SUBMITTED,
    rule=permissions.SUBMIT,
    refused=gettext_lazy("只有本部门的填报人可以提交此表。"),
    wrong_state=gettext_lazy("此表当前状态为“%(status)s”，不能提交。"),
    notify=Audience.FINANCE,
    sets=("submitted_at",),
    checks=(check_findings,),
)
RETURN = Transition(
    action=EventAction.RETURNED,
    sources=(Status.SUBMITTED,),
    target=Status.RETURNED,
    rule=permissions.REVIEW,
    refused=gettext_lazy("只有财政局审核人可以执行此操作。"),
    wrong_state=gettext_lazy("此表当前状态为“%(status)s”，只有已提交的表可以退回。"),
    notify=Audience.DEPARTMENT_STAFF,
    reason=ReasonRule(
        label=gettext_lazy("退回原因"),
        limit=REASON_MAX_LENGTH,
        missing=gettext_lazy("退回时必须填写退回原因。"),
    ),
    checks=(check_row_comments,),
)
APPROVE = Transition(
    action=EventAction.APPROVED,
    sources=(Status.SUBMITTED,),
    target=Status.APPROVED,
    rule=permissions.REVIEW,
    refused=gettext_lazy("只有财政局审核人可以执行此操作。"),
    wrong_state=gettext_lazy("此表当前状态为“%(status)s”，只有已提交的表可以审核通过。"),
    notify=Audience.DEPARTMENT_STAFF,
    sets=("approved_at",),
)
REOPEN = Transition(
    action=EventAction.REOPENED,
    sources=(Status.APPROVED,),
    target=Status.DRAFT,
    rule=permissions.REOPEN,
    refused=gettext_lazy("只有系统管理员可以重新开放已通过的表。"),
    wrong_state=gettext_lazy("此表当前状态为“%(status)s”，只有已通过的表可以重新开放。"),
    notify=Audience.DEPARTMENT_STAFF,
    reason=ReasonRule(
        label=gettext_lazy("原因"),
        limit=REASON_MAX_LENGTH,
        missing=gettext_lazy("重新开放时必须填写原因。"),
    ),
    clears=("approved_at",),
)

TRANSITIONS: dict[str, Transition] = {t.action: t for t in (SUBMIT, RETURN, APPROVE, REOPEN)}


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
        # Mail only once the transition is committed; a rolled-back step sends nothing.
        transaction.on_commit(lambda: send_mail(subject, body, None, emails, fail_silently=True))


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
        reason = ""
        if transition.reason is not None:
            rule = transition.reason
            reason = workflow_text(given.reason, limit=rule.limit, what=str(rule.label))
            if not reason:
                raise TransitionError(str(rule.missing))
        outcome = Outcome()
        for check in transition.checks:
            found = check(ev, given)
            outcome.acknowledgements += found.acknowledgements
            outcome.comments += found.comments

        from_status = ev.status
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
    # The caller's copy shows the new state, as if it had been reloaded.
    evaluation.status = ev.status
    for name in (*transition.sets, *transition.clears):
        setattr(evaluation, name, getattr(ev, name))
    return True


# --- the services: the names views and tests call ----------------------------------------


def evaluation_submit(
    *,
    evaluation: Evaluation,
    user: AbstractBaseUser,
    acknowledgements: dict[str, str] | None = None,
) -> bool:
    """Submit a draft or returned form to the finance bureau; returns False if already submitted.

    Refused while the form has error findings; every warning must be acknowledged
    (``acknowledgements`` maps warning_key → an optional explanation).
    """
    given = TransitionInput(acknowledgements=acknowledgements or {})
    return transition_run(SUBMIT, evaluation=evaluation, user=user, given=given)


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


def evaluation_approve(*, evaluation: Evaluation, user: AbstractBaseUser) -> bool:
    """Approve a submitted form, locking it; False if already approved."""
    return transition_run(APPROVE, evaluation=evaluation, user=user)


def evaluation_reopen(*, evaluation: Evaluation, user: AbstractBaseUser, reason: str) -> bool:
    """Reopen an approved form as a draft (administrators only, with a reason).

    Returns False when the form was reopened already and has not changed state since
    (a second click); any other form that is not approved is refused (TransitionError).
    """
    given = TransitionInput(reason=reason)
    return transition_run(REOPEN, evaluation=evaluation, user=user, given=given)
