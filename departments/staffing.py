"""Reads of the register: the people list and who fills in and signs off for each department."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _

from departments.models import Department, Membership, RegisterChange, Role

# The people list's orders: a key of the query string → what it sorts by. Accounts without a
# department (finance, the administrator) come last on every database.
PEOPLE_ORDERS: dict[str, list[Any]] = {
    "department": [
        F("membership__department__name").asc(nulls_last=True),
        "first_name",
        "username",
    ],
    "name": ["first_name", "username"],
    "username": ["username"],
    "role": ["membership__role", "membership__department__name", "username"],
    "last_login": ["-last_login", "username"],
}
# Role filter values beyond the memberships' roles.
ADMIN = "admin"
NO_ROLE = "none"


def people(
    *,
    search: str = "",
    department_id: int | None = None,
    role: str = "",
    active: bool | None = None,
    unnamed: bool = False,
    order: str = "department",
) -> QuerySet[Any]:
    """Every account with its membership and department, filtered and sorted."""
    qs = get_user_model().objects.select_related("membership__department")
    if search:
        qs = qs.filter(
            Q(first_name__icontains=search)
            | Q(username__icontains=search)
            | Q(membership__phone__icontains=search)
            | Q(email__icontains=search)
        )
    if department_id is not None:
        qs = qs.filter(membership__department_id=department_id)
    if role == ADMIN:
        qs = qs.filter(is_superuser=True)
    elif role == NO_ROLE:
        qs = qs.filter(membership__isnull=True)
    elif role:
        qs = qs.filter(membership__role=role)
    if active is not None:
        qs = qs.filter(is_active=active)
    if unnamed:
        qs = qs.filter(first_name="")
    return qs.order_by(*PEOPLE_ORDERS.get(order, PEOPLE_ORDERS["department"]), "pk")


def department_choices() -> list[tuple[int, str]]:
    """(id, code and name) of every department, for the pickers of the people page."""
    return [(d.pk, d.label) for d in Department.objects.order_by("name").only("name", "code")]


def unnamed_count() -> int:
    """Active accounts without a 姓名 (``User.first_name``): printed forms need one."""
    return get_user_model().objects.filter(is_active=True, first_name="").count()


def person_changes(person: Any) -> QuerySet[RegisterChange]:
    """The recorded changes of one account, newest first."""
    return RegisterChange.objects.filter(person=person).select_related("actor")


def department_changes(department: Department) -> QuerySet[RegisterChange]:
    """The recorded changes of one department, newest first."""
    return RegisterChange.objects.filter(department=department).select_related("actor")


@dataclass
class Staffing:
    """A department's active fillers (填报人) and heads (部门审核人)."""

    department: Department
    fillers: list[Any] = field(default_factory=list)
    heads: list[Any] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def staffing(departments: QuerySet[Department] | None = None) -> list[Staffing]:
    """Each department (all, or ``departments``) with its active fillers and heads, by name."""
    departments = Department.objects.all() if departments is None else departments
    rows = {d.pk: Staffing(d) for d in departments.order_by("name")}
    memberships = (
        Membership.objects.filter(
            department_id__in=list(rows),
            user__is_active=True,
            role__in=[Role.STAFF, Role.HEAD],
        )
        .select_related("user")
        .order_by("user__first_name", "user__username")
    )
    for m in memberships:
        row = rows[m.department_id]
        (row.fillers if m.role == Role.STAFF else row.heads).append(m.user)
    return list(rows.values())


def understaffed(departments: QuerySet[Department], *, needs_head: bool) -> list[Staffing]:
    """Departments without an active filler, or without a head when ``needs_head``; each
    row's ``missing`` says who is lacking ("没有填报人")."""
    rows = []
    for row in staffing(departments):
        row.missing = [
            str(text)
            for text, lacking in (
                (_("没有填报人"), not row.fillers),
                (_("没有部门审核人"), needs_head and not row.heads),
            )
            if lacking
        ]
        if row.missing:
            rows.append(row)
    return rows
