"""Read queries on evaluations, always scoped through departments.access."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from campaigns.deadlines import with_overdue
from departments.access import visible_departments, visible_evaluations
from departments.models import Department
from evaluations.models import Evaluation, FundingRow, Indicator
from evaluations.permissions import sees_all_departments

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    User = AbstractBaseUser | AnonymousUser


@dataclass(frozen=True)
class ListFilters:
    """The list page's filters; None or "" means "any"."""

    year: int | None = None
    status: str = ""
    department_id: int | None = None
    query: str = ""


def evaluation_list(*, user: User, filters: ListFilters | None = None) -> QuerySet[Evaluation]:
    """Evaluations the user may see, filtered, with their department joined in one query."""
    filters = filters or ListFilters()
    qs = visible_evaluations(user).select_related("department")
    if filters.year:
        qs = qs.for_year(filters.year)
    if filters.status:
        qs = qs.filter(status=filters.status)
    # Staff only ever see their own department; the filter only means something to those
    # who see them all.
    if filters.department_id and sees_all_departments(user):
        qs = qs.for_department(filters.department_id)
    if filters.query:
        qs = qs.filter(project_name__icontains=filters.query.strip())
    # The long goal texts are not shown in lists.
    qs = qs.defer("goal_target", "goal_actual")
    # 逾期 badge: the department's deadline and the overdue rule in the same query.
    qs = with_overdue(qs)
    return qs.order_by("-year", "department__name", "project_name", "pk")


def evaluation_years(*, user: User) -> list[int]:
    """Distinct years of the evaluations the user may see, newest first."""
    return list(
        visible_evaluations(user).order_by("-year").values_list("year", flat=True).distinct()
    )


def departments_for(*, user: User) -> QuerySet[Department]:
    """Departments the user may see, by name (finance and administrators: all; staff: theirs)."""
    return visible_departments(user).order_by("name")


def evaluation_get(*, user: User, pk: int, with_rows: bool = False) -> Evaluation:
    """One evaluation the user may see, or 404 (also for another department's form).

    The only way a view fetches one form: it answers exactly the forms ``evaluations.view``
    allows, because it starts from ``departments.access.visible_evaluations``.
    """
    qs = visible_evaluations(user).select_related("department", "updated_by")
    if with_rows:
        qs = qs.prefetch_related(
            Prefetch("funding_rows", queryset=FundingRow.objects.all()),
            Prefetch("indicators", queryset=Indicator.objects.order_by("position")),
        )
    return get_object_or_404(qs, pk=pk)
