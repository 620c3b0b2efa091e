"""One place that scopes what a user may see: every lookup of a form or department starts here.

Who may do what is decided in ``evaluations.permissions``; these querysets follow the
``sees_all_departments`` predicate of ``departments.roles`` (finance and the administrator: every department;
department staff and heads: their own) and agree with its ``evaluations.view`` rule.

A department member may be limited to one 实施单位 of the department (限填实施单位,
``Membership.implementing_unit``): they see, write and sign off only that unit's forms and
due projects. A form's unit is its due project's 实施单位 when it has a due project with
one (the list held on the server), else the form's own 实施单位. Names of units are compared
as ``unit_key`` writes them: NFKC, without any whitespace, on both sides.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from departments.models import Department, Membership, Role
from departments.roles import in_a_department, membership_of, sees_all_departments

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    from evaluations.models import Evaluation


def unit_key(text: str | None) -> str:
    """A 实施单位 as compared: NFKC, without any whitespace ("实施单位　甲 " is "实施单位甲")."""
    return "".join(unicodedata.normalize("NFKC", text or "").split())


def membership_unit(membership: Membership | None) -> str:
    """The ``unit_key`` a department member is limited to; "" for everyone else."""
    if membership is None or membership.role == Role.FINANCE:
        return ""
    return unit_key(membership.implementing_unit)


def unit_limit(user: AbstractBaseUser | AnonymousUser) -> str:
    """The ``unit_key`` of the 实施单位 the user is limited to; "" when not limited."""
    return membership_unit(membership_of(user))


def form_unit(implementing_unit: str | None, due_unit: str | None = None) -> str:
    """The ``unit_key`` of a form: its due project's 实施单位 if that has one, else its own."""
    return unit_key(due_unit) or unit_key(implementing_unit)


def evaluation_unit(evaluation: Evaluation) -> str:
    """The ``unit_key`` of ``evaluation`` (``form_unit`` of its text and its due project)."""
    due = evaluation.due_project if evaluation.due_project_id is not None else None
    return form_unit(evaluation.implementing_unit, due.implementing_unit if due else None)


def membership_covers(membership: Membership | None, unit: str) -> bool:
    """True unless the membership is limited to another unit than ``unit`` (a ``unit_key``)."""
    limit = membership_unit(membership)
    return not limit or limit == unit


def covers_evaluation(user: AbstractBaseUser | AnonymousUser, evaluation: Evaluation) -> bool:
    """True unless the user is limited to another 实施单位 than the evaluation's."""
    membership = membership_of(user)
    # Only a limited user pays for the due project's unit.
    return not membership_unit(membership) or membership_covers(
        membership, evaluation_unit(evaluation)
    )


def of_own_unit(
    user: AbstractBaseUser | AnonymousUser,
    qs: QuerySet[Any],
    unit_field: str,
    due_unit_field: str | None = None,
) -> QuerySet[Any]:
    """``qs`` without the rows of other units when the user is limited to one.

    A row's unit is ``form_unit`` of ``unit_field`` and ``due_unit_field``. Names are
    compared after ``unit_key``, which SQL cannot do: one query for the ids of the unit.
    """
    limit = unit_limit(user)
    if not limit:
        return qs
    fields = [unit_field, due_unit_field] if due_unit_field else [unit_field]
    rows = qs.order_by().values_list("pk", *fields)
    return qs.filter(pk__in=[row[0] for row in rows if form_unit(*row[1:]) == limit])


def own_department_id(user: AbstractBaseUser | AnonymousUser) -> int | None:
    """The department whose forms a staff member or head sees; None for everyone else."""
    if not in_a_department(user):
        return None
    m = membership_of(user)
    return m.department_id if m is not None else None


def visible_departments(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Department]:
    """Departments the user may see: all for finance and administrators, else their own."""
    if sees_all_departments(user):
        return Department.objects.all()
    department_id = own_department_id(user)
    if department_id is None:
        return Department.objects.none()
    return Department.objects.filter(pk=department_id)
