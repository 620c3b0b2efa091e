"""Read queries on evaluations, always scoped through departments.access."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from departments.access import of_own_unit, own_department_id, visible_departments
from departments.models import Department
from departments.roles import sees_all_departments
from evaluations.models import Evaluation, FundingRow, Indicator

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    User = AbstractBaseUser | AnonymousUser


def visible_evaluations(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Evaluation]:
    """Evaluations the user may see; every evaluation lookup in a view starts here.

    Agrees with the ``evaluations.view`` rule (``evaluations.permissions``): finance and the
    administrator see every department's forms, staff and heads their own (of their unit).
    """
    if sees_all_departments(user):
        return Evaluation.objects.all()
    department_id = own_department_id(user)
    if department_id is None:
        return Evaluation.objects.none()
    return of_own_unit(
        user,
        Evaluation.objects.filter(department_id=department_id),
        "implementing_unit",
        "due_project__implementing_unit",
    )


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
    allows, because it starts from ``visible_evaluations``.
    """
    qs = visible_evaluations(user).select_related("department", "updated_by")
    if with_rows:
        qs = qs.prefetch_related(
            Prefetch("funding_rows", queryset=FundingRow.objects.all()),
            Prefetch("indicators", queryset=Indicator.objects.order_by("position")),
            "due_project__targets",
        )
    return get_object_or_404(qs, pk=pk)
