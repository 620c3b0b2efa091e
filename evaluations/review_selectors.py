"""Read queries of the review workflow: the queue, history, changes since a return, comments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy

from evaluations.history import EVIDENCE_SECTION, describe_change, diff_snapshots
from evaluations.mapping import snapshot
from evaluations.models import (
    Evaluation,
    EvaluationEvent,
    EvaluationVersion,
    EventAction,
    Notification,
    ReviewComment,
    Status,
)
from evaluations.selectors import visible_evaluations

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def sign_off_queue(*, user: AbstractBaseUser) -> QuerySet[Evaluation]:
    """Forms in 部门审核 the user may see, longest waiting first (a head: their department's)."""
    return (
        visible_evaluations(user)
        .filter(status=Status.DEPARTMENT_REVIEW)
        .select_related("department", "updated_by")
        .defer("goal_target", "goal_actual")
        .order_by("updated_at", "pk")
    )


# A form goes back to its filler by the bureau's return or by the department head's.
RETURN_ACTIONS = (EventAction.RETURNED, EventAction.DEPARTMENT_RETURNED)
# The bureau's own returns: only after one is a form the bureau reviews again resubmitted to
# it (a return by the department's head stays inside the department).
BUREAU_RETURNS = (EventAction.RETURNED,)
# Who returned a form, by the return's action, as the review page names them.
RETURNED_BY = {
    EventAction.RETURNED: gettext_lazy("财政局"),
    EventAction.DEPARTMENT_RETURNED: gettext_lazy("部门审核人"),
}
# The filler's submission: to the bureau, or to the department's head first. These events
# carry the acknowledged warnings with their explanations (EvaluationEvent.acknowledgements).
SUBMIT_ACTIONS = (EventAction.SUBMITTED, EventAction.SENT_FOR_SIGN_OFF)


def evaluation_history(*, evaluation: Evaluation) -> QuerySet[EvaluationEvent]:
    """The evaluation's history, newest first, with actors and row comments."""
    return (
        EvaluationEvent.objects.filter(evaluation=evaluation)
        .select_related("actor")
        .prefetch_related("comments")
        .order_by("-created_at", "-id")
    )


def last_return(
    evaluation: Evaluation, actions: tuple[str, ...] = RETURN_ACTIONS
) -> EvaluationEvent | None:
    """The most recent return of this evaluation among ``actions`` (default: the bureau's or
    the head's), if any."""
    return (
        EvaluationEvent.objects.filter(evaluation=evaluation, action__in=actions)
        .select_related("actor")
        .order_by("-created_at", "-id")
        .first()
    )


def last_submission(evaluation: Evaluation) -> EvaluationEvent | None:
    """The filler's most recent submission of this evaluation (to the bureau or the head)."""
    return (
        EvaluationEvent.objects.filter(evaluation=evaluation, action__in=SUBMIT_ACTIONS)
        .order_by("-created_at", "-id")
        .first()
    )


def evaluation_explanations(*, evaluation: Evaluation) -> dict[str, dict[str, Any]]:
    """The warnings acknowledged at the latest submission, by warning key.

    Each is the stored acknowledgement: {"key", "code", "indicator", "message", "comment"};
    an empty comment is a tick without an explanation. Empty when never submitted.
    """
    event = last_submission(evaluation)
    if event is None:
        return {}
    return {
        a["key"]: a
        for a in event.acknowledgements or []
        if isinstance(a, dict) and isinstance(a.get("key"), str)
    }


def evaluation_changes_since_return(
    *, evaluation: Evaluation, actions: tuple[str, ...] = RETURN_ACTIONS
) -> dict[str, Any] | None:
    """What changed since the last return among ``actions``, or None if there was none.

    ``returned`` is that return, ``by`` who returned it (财政局 or 部门审核人); ``changes``
    are shown as they are: {"label", "old", "new"} each.
    """
    event = last_return(evaluation, actions)
    if event is None:
        return None
    version = (
        EvaluationVersion.objects.filter(evaluation=evaluation, revision__lte=event.revision)
        .order_by("-revision")
        .first()
    )
    if version is None:
        return None
    current = snapshot(evaluation.as_form_data(), with_keys=True)
    changes = diff_snapshots(version.data, current)
    # Evidence files are not part of the snapshot: their additions and removals since the
    # return come from the history (EvaluationEvent.changes of section "evidence").
    later = EvaluationEvent.objects.filter(
        evaluation=evaluation, created_at__gte=event.created_at
    ).exclude(pk=event.pk)
    for later_event in later.order_by("created_at", "id"):
        changes.extend(c for c in later_event.changes if c.get("section") == EVIDENCE_SECTION)
    return {
        "returned": event,
        "by": RETURNED_BY[EventAction(event.action)],
        "changes": [describe_change(c) for c in changes],
        "comments": list(event.comments.all()),
    }


def last_approval(evaluation: Evaluation) -> EvaluationEvent | None:
    """The approval of an approved evaluation (with the bureau's comment, if any), else None."""
    if evaluation.status != Status.APPROVED:
        return None
    return (
        EvaluationEvent.objects.filter(evaluation=evaluation, action=EventAction.APPROVED)
        .select_related("actor")
        .order_by("-created_at", "-id")
        .first()
    )


def evaluation_open_comments(*, evaluation: Evaluation) -> dict[str, Any]:
    """What the reviewer told the department about the form as it stands.

    While the form is back with the department: the last return ("event") with its row
    comments by indicator position, funding kind and evidence file. Once approved: the
    approval ("approval"), whose reason is the bureau's optional comment.
    """
    none: dict[str, Any] = {
        "event": None,
        "indicator": {},
        "funding": {},
        "evidence": {},
        "approval": None,
    }
    if evaluation.status == Status.APPROVED:
        return {**none, "approval": last_approval(evaluation)}
    if evaluation.status != Status.RETURNED:
        return none
    event = last_return(evaluation)
    if event is None:
        return none
    comments = list(ReviewComment.objects.filter(event=event))
    return {
        **none,
        "event": event,
        "indicator": {c.position: c for c in comments if c.position is not None},
        "funding": {c.funding_kind: c for c in comments if c.funding_kind},
        "evidence": {c.evidence_id: c for c in comments if c.evidence_id is not None},
    }


def unread_evaluation_ids(*, user: AbstractBaseUser) -> set[int]:
    """Evaluations with unread notifications for this user (one query)."""
    return set(
        Notification.objects.filter(user=user, read_at__isnull=True).values_list(
            "evaluation_id", flat=True
        )
    )


def unread_notifications(*, user: AbstractBaseUser) -> QuerySet[Notification]:
    """The user's unread notifications of forms they may open, newest first."""
    return (
        Notification.objects.filter(
            user=user, read_at__isnull=True, evaluation__in=visible_evaluations(user)
        )
        .select_related("evaluation", "event", "event__actor")
        .order_by("-created_at")
    )
