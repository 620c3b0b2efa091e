"""One place that scopes what a user may see: every lookup of a form or department starts here.

Who may do what is decided in ``evaluations.permissions``; these querysets follow its
``sees_all_departments`` predicate (finance and the administrator: every department;
department staff and heads: their own) and agree with its ``evaluations.view`` rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from departments.models import Department, Membership

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    from evaluations.models import Evaluation


def membership_of(user: AbstractBaseUser | AnonymousUser) -> Membership | None:
    """Return the user's membership (cached on the user object), or None."""
    if not user.is_authenticated:
        return None
    if not hasattr(user, "_membership_cache"):
        user._membership_cache = (  # type: ignore[union-attr]
            Membership.objects.select_related("department").filter(user=user).first()
        )
    return user._membership_cache  # type: ignore[union-attr]


def _own_department_id(user: AbstractBaseUser | AnonymousUser) -> int | None:
    """The department whose forms a staff member or head sees; None for everyone else."""
    from evaluations.permissions import in_a_department

    if not in_a_department(user):
        return None
    m = membership_of(user)
    return m.department_id if m is not None else None


def visible_departments(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Department]:
    """Departments the user may see: all for finance and administrators, else their own."""
    from evaluations.permissions import sees_all_departments

    if sees_all_departments(user):
        return Department.objects.all()
    department_id = _own_department_id(user)
    if department_id is None:
        return Department.objects.none()
    return Department.objects.filter(pk=department_id)


def visible_evaluations(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Evaluation]:
    """Evaluations the user may see; every evaluation lookup in a view starts here."""
    from evaluations.models import Evaluation
    from evaluations.permissions import sees_all_departments

    if sees_all_departments(user):
        return Evaluation.objects.all()
    department_id = _own_department_id(user)
    if department_id is None:
        return Evaluation.objects.none()
    return Evaluation.objects.filter(department_id=department_id)
