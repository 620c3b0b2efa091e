"""Reads of campaigns: the open campaign, the due list with the state of each form."""

from __future__ import annotations

import datetime

from django.db.models import Count, Q, QuerySet

from campaigns.models import Campaign, DeadlineExtension, DueProject
from departments.models import department_label


def open_campaign(*, year: int | None = None) -> Campaign | None:
    """The open campaign of ``year``, or (without a year) the latest open one."""
    campaigns = Campaign.objects.filter(is_open=True)
    if year is not None:
        campaigns = campaigns.filter(year=year)
    return campaigns.order_by("-year").first()


def campaign_projects(
    *, campaign: Campaign, department_id: int | None = None, search: str = ""
) -> QuerySet[DueProject]:
    """The due list with each project's department, form (status) and target count.

    One query however many projects: the form comes by ``select_related`` over the
    one-to-one, the targets as a count.
    """
    projects = (
        campaign.projects.select_related("department", "evaluation")
        .annotate(target_count=Count("targets"))
        .order_by("department__name", "project_name", "pk")
    )
    if department_id is not None:
        projects = projects.filter(department_id=department_id)
    search = search.strip()
    if search:
        projects = projects.filter(
            Q(project_name__icontains=search)
            | Q(project_code__icontains=search)
            | Q(implementing_unit__icontains=search)
            | Q(department__name__icontains=search)
        )
    return projects


def campaign_departments(*, campaign: Campaign) -> list[tuple[int, str, int]]:
    """(id, code and name, due projects) of each department on the campaign's list."""
    rows = (
        campaign.projects.values("department_id", "department__name", "department__code")
        .annotate(n=Count("id"))
        .order_by("department__name")
    )
    return [
        (
            r["department_id"],
            department_label(r["department__name"], r["department__code"]),
            r["n"],
        )
        for r in rows
    ]


def campaign_extensions(*, campaign: Campaign) -> list[DeadlineExtension]:
    """Every extension of the campaign, by department, newest first within one."""
    return list(
        campaign.extensions.select_related("department", "created_by").order_by(
            "department__name", "-created_at", "-id"
        )
    )


def current_deadlines(*, campaign: Campaign) -> dict[int, datetime.date]:
    """Department id → its deadline where an extension applies (the latest one wins)."""
    deadlines: dict[int, datetime.date] = {}
    for extension in campaign.extensions.order_by("created_at", "id").only(
        "department_id", "deadline"
    ):
        deadlines[extension.department_id] = extension.deadline
    return deadlines


def campaign_years() -> set[int]:
    """The years that have a campaign (one query): for ``year_has_campaign`` in long loops."""
    return set(Campaign.objects.values_list("year", flat=True))
