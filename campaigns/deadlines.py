"""Deadlines and overdue (逾期): the one place that decides when a due project is late.

A department's deadline is the latest extension granted to it in the campaign, else the
campaign's deadline (``Campaign.deadline_for``). A due project is overdue once that day has
passed (the deadline day itself is still in time) while it has no form handed to the bureau:
no form at all, or one in 草稿, 部门审核 or 已退回. The same rule is given three ways, for
Python (``is_overdue``), for a dictionary of deadlines read in one query
(``department_deadlines``) and for a queryset of forms (``with_overdue``).
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db.models import BooleanField, Case, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from campaigns.models import Campaign, DeadlineExtension
from evaluations.models import HANDED_IN, Status

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from evaluations.models import Evaluation

# A due project is done for the department once its form is with the bureau or approved
# (``evaluations.models.HANDED_IN``).
# Statuses of a form that still has to be submitted (草稿, 部门审核, 已退回; None, no form,
# also counts): everything else, so a status added later is "not handed in" by default.
NOT_HANDED_IN = tuple(status for status in Status if status not in HANDED_IN)


def today() -> datetime.date:
    """Today in the site's time zone (Asia/Shanghai): deadlines are local days."""
    return timezone.localdate()


def is_overdue(status: str | None, deadline: datetime.date | None, today: datetime.date) -> bool:
    """True when the deadline has passed and the project (``status`` None: no form) is not in."""
    if deadline is None or today <= deadline:
        return False
    return status not in HANDED_IN


def department_deadlines(campaign: Campaign) -> dict[int, datetime.date]:
    """The extended deadlines of the campaign by department id (one query; others: campaign's)."""
    latest: dict[int, datetime.date] = {}
    # Oldest first, so the latest extension of each department wins (as in deadline_for).
    for department_id, deadline in (
        DeadlineExtension.objects.filter(campaign=campaign)
        .order_by("created_at", "id")
        .values_list("department_id", "deadline")
    ):
        latest[department_id] = deadline
    return latest


def with_overdue(
    qs: QuerySet[Evaluation], *, on: datetime.date | None = None
) -> QuerySet[Evaluation]:
    """Annotate forms with ``deadline`` (their department's, for the campaign of their year)
    and ``is_overdue`` (the rule of ``is_overdue`` in SQL); no campaign: None and False."""
    on = on or today()
    extension = (
        DeadlineExtension.objects.filter(
            campaign__year=OuterRef("year"), department_id=OuterRef("department_id")
        )
        .order_by("-created_at", "-id")
        .values("deadline")[:1]
    )
    campaign = Campaign.objects.filter(year=OuterRef("year")).values("deadline")[:1]
    return qs.annotate(
        deadline=Coalesce(Subquery(extension), Subquery(campaign)),
    ).annotate(
        is_overdue=Case(
            When(Q(deadline__lt=on) & ~Q(status__in=HANDED_IN), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
        # Handed in, but on a (local) day after the department's deadline: 逾期提交.
        submitted_late=Case(
            When(
                Q(status__in=HANDED_IN, submitted_at__isnull=False)
                & Q(deadline__lt=TruncDate("submitted_at")),
                then=Value(True),
            ),
            default=Value(False),
            output_field=BooleanField(),
        ),
    )
