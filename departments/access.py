"""One place that decides what a user may see: every view scopes its queries here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from departments.models import Department, Membership, Role

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


def is_finance(user: AbstractBaseUser | AnonymousUser) -> bool:
    """True for finance bureau reviewers (and superusers, who act as finance)."""
    if not user.is_authenticated:
        return False
    if getattr(user, "is_superuser", False):
        return True
    m = membership_of(user)
    return m is not None and m.role == Role.FINANCE


def is_admin(user: AbstractBaseUser | AnonymousUser) -> bool:
    """True for administrators (Django superusers)."""
    return bool(user.is_authenticated and getattr(user, "is_superuser", False))


def visible_departments(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Department]:
    """Departments the user may see: all for finance, their own for staff, none otherwise."""
    if is_finance(user):
        return Department.objects.all()
    m = membership_of(user)
    if m is None or m.department_id is None:
        return Department.objects.none()
    return Department.objects.filter(pk=m.department_id)


def visible_evaluations(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Evaluation]:
    """Evaluations the user may see; every evaluation lookup in a view starts here."""
    from evaluations.models import Evaluation

    if is_finance(user):
        return Evaluation.objects.all()
    m = membership_of(user)
    if m is None or m.department_id is None:
        return Evaluation.objects.none()
    return Evaluation.objects.filter(department_id=m.department_id)
