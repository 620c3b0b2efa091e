"""Writes of campaigns: edits, open/close, deadline extensions, the due list from last year."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet

from campaigns.models import Campaign, DeadlineExtension, DueProject, DueTarget
from departments.models import Department
from evaluations.models import Evaluation, Status

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from campaigns.forms import CampaignForm


def campaign_update(*, form: CampaignForm) -> Campaign:
    """Save a valid campaign form; a notice file it replaced or cleared is deleted once
    the change is committed (a rolled-back edit keeps the old file, which is still in use)."""
    with transaction.atomic():
        previous = (
            Campaign.objects.select_for_update()
            .filter(pk=form.instance.pk)
            .values_list("notice_file", flat=True)
            .first()
        )
        campaign = form.save()
        if previous and previous != campaign.notice_file.name:
            storage = campaign.notice_file.storage
            transaction.on_commit(lambda: storage.delete(previous), robust=True)
    return campaign


@transaction.atomic
def campaign_set_open(*, campaign: Campaign, is_open: bool) -> bool:
    """Open or close a campaign; False when it already was (repeating is harmless)."""
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if locked.is_open == is_open:
        return False
    locked.is_open = is_open
    locked.save(update_fields=["is_open", "updated_at"])
    campaign.is_open = is_open
    return True


def deadline_extend(
    *,
    campaign: Campaign,
    department: Department,
    deadline: datetime.date,
    reason: str,
    user: AbstractBaseUser,
) -> DeadlineExtension:
    """Grant one department a later deadline: a new history row (the latest one applies)."""
    extension = DeadlineExtension(
        campaign=campaign, department=department, deadline=deadline, reason=reason, created_by=user
    )
    extension.full_clean()
    extension.save()
    return extension


def _previous_year_forms(*, campaign: Campaign) -> QuerySet:
    """Last year's approved forms whose department has no due project of that name yet."""
    listed = DueProject.objects.filter(
        campaign=campaign,
        department_id=OuterRef("department_id"),
        project_name=OuterRef("project_name"),
    )
    return Evaluation.objects.filter(year=campaign.year - 1, status=Status.APPROVED).exclude(
        Exists(listed)
    )


def due_list_previous_year_count(*, campaign: Campaign) -> int:
    """How many projects "沿用上年项目" would add (one query)."""
    forms = _previous_year_forms(campaign=campaign)
    return forms.values("department_id", "project_name").distinct().count()


def due_list_previous_year_candidates(*, campaign: Campaign, indicators: bool = False) -> list:
    """Last year's approved forms not on the list yet, one per department and name."""
    forms = (
        _previous_year_forms(campaign=campaign)
        .select_related("department")
        .order_by("department__name", "project_name", "pk")
    )
    if indicators:
        forms = forms.prefetch_related("indicators")
    seen: set[tuple[int, str]] = set()
    candidates = []
    for form in forms:
        key = (form.department_id, form.project_name)
        if key in seen or not key[1].strip():
            continue
        seen.add(key)
        candidates.append(form)
    return candidates


@transaction.atomic
def due_list_from_previous_year(*, campaign: Campaign) -> int:
    """One due project per approved form of last year, its indicators as targets; idempotent.

    Returns how many projects were created: a project already on the list (same department
    and name) is left as it is, so a second run creates nothing.
    """
    Campaign.objects.select_for_update().filter(pk=campaign.pk).exists()
    created = 0
    targets: list[DueTarget] = []
    for form in due_list_previous_year_candidates(campaign=campaign, indicators=True):
        project = DueProject.objects.create(
            campaign=campaign,
            department=form.department,
            implementing_unit=form.implementing_unit,
            project_name=form.project_name,
        )
        created += 1
        targets.extend(
            DueTarget(
                project=project,
                position=position,
                level1=indicator.level1,
                level2=indicator.level2,
                name=indicator.name,
                target=indicator.target,
                weight=indicator.weight,
            )
            for position, indicator in enumerate(
                sorted(form.indicators.all(), key=lambda i: i.position), start=1
            )
        )
    DueTarget.objects.bulk_create(targets, batch_size=500)
    return created
