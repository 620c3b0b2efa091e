"""The roles, as ``rules`` predicates on the user alone: who is finance, staff, a head, admin.

The rights built from them (what a role may do to a form) are ``evaluations.permissions``;
these sit with the departments because the scoping querysets of ``departments.access``
and the form's selectors both follow ``sees_all_departments`` and ``in_a_department``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import rules

from departments.models import Membership, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    User = AbstractBaseUser | AnonymousUser


def membership_of(user: User) -> Membership | None:
    """Return the user's membership (cached on the user object), or None."""
    if not user.is_authenticated:
        return None
    if not hasattr(user, "_membership_cache"):
        user._membership_cache = (  # type: ignore[union-attr]
            Membership.objects.select_related("department").filter(user=user).first()
        )
    return user._membership_cache  # type: ignore[union-attr]


@rules.predicate
def is_admin(user: User) -> bool:
    """The system administrator: a signed-in Django superuser (not, by that, finance)."""
    return bool(user.is_authenticated and getattr(user, "is_superuser", False))


@rules.predicate
def is_finance(user: User) -> bool:
    """A finance bureau reviewer: a finance membership (being a superuser is not enough)."""
    m = membership_of(user)
    return m is not None and m.role == Role.FINANCE


def role_in_department(user: User, role: str, department_id: int | None = None) -> bool:
    """The user holds ``role`` in a department (in ``department_id`` when given)."""
    m = membership_of(user)
    if m is None or m.role != role or m.department_id is None:
        return False
    return department_id is None or m.department_id == department_id


@rules.predicate
def is_department_staff(user: User) -> bool:
    """Staff of some department: a staff membership with a department."""
    return role_in_department(user, Role.STAFF)


@rules.predicate
def is_head(user: User) -> bool:
    """The head (部门审核人) of some department: a head membership with a department."""
    return role_in_department(user, Role.HEAD)


@rules.predicate
def has_membership(user: User) -> bool:
    """Any role at all: staff, head or finance."""
    return membership_of(user) is not None


# Finance and the administrator see every department; staff and heads see their own.
sees_all_departments = is_finance | is_admin
# Staff or head of some department: they see that department's forms.
in_a_department = is_department_staff | is_head
