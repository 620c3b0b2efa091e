"""What a stored form's signature block shows besides its own fields (``core.layout.Signature``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone

from departments.names import printed_name
from evaluations.core.layout import Signature
from evaluations.models import Evaluation, EvaluationEvent, EventAction, Status

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def person_name(user: AbstractBaseUser | None) -> str:
    """How a printed form names a user: their 姓名, or blank (a form never shows a login)."""
    return printed_name(user)


def _local_date(value: Any) -> Any:
    if value is None:
        return None
    return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()


def signature_of(evaluation: Evaluation) -> Signature:
    """The submission date, and for an approved form the bureau, approver and date.

    One query for an approved form (its latest approval's actor), none otherwise.
    """
    submitted = evaluation.status in (Status.SUBMITTED, Status.APPROVED)
    if evaluation.status != Status.APPROVED:
        return Signature(submitted_on=_local_date(evaluation.submitted_at) if submitted else None)
    event = (
        EvaluationEvent.objects.filter(evaluation=evaluation, action=EventAction.APPROVED)
        .select_related("actor")
        .order_by("-created_at", "-id")
        .first()
    )
    return Signature(
        submitted_on=_local_date(evaluation.submitted_at),
        approved=True,
        review_unit=settings.PDF_AUTHOR,
        approver=person_name(event.actor) if event is not None else "",
        approved_on=_local_date(evaluation.approved_at),
    )
