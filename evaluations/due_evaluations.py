"""Forms that start from their due project (应评项目): the 待填报 list, "开始填报", due matching.

A due project of the year's campaign carries the names, the budget figures and the
approved targets (批复绩效目标). Starting its form copies them into a new form (the
targets as ``approved_target`` / ``approved_weight`` so a later change raises
TARGET_CHANGED), adds last year's indicators where the project ran last year, and the
signature block from the user's profile. One form per due project, ever.
"""

from __future__ import annotations

import datetime
import unicodedata
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from campaigns.deadlines import is_overdue, today
from campaigns.models import Campaign, DueProject
from departments.access import membership_covers, of_own_unit, unit_key
from departments.models import Department
from departments.roles import membership_of
from evaluations import permissions
from evaluations.core.approvals import with_approved_targets
from evaluations.core.evaluation_data import ApprovedTarget, FormData, FundingData, IndicatorData
from evaluations.core.fields import FundingKind
from evaluations.core.scoring import with_computed_totals
from evaluations.models import Evaluation, EventAction, Status
from evaluations.rules import rules_for_year
from evaluations.services import evaluation_create
from evaluations.signature import person_name

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

# Last year's forms that count as "the project ran last year".
_LAST_YEAR_STATUSES = (Status.APPROVED, Status.SUBMITTED)


def _norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text or "").split())


def _row_id(level1: str, level2: str, name: str) -> tuple[str, str, str]:
    return (_norm(level1), _norm(level2), _norm(name))


# --- who may start ------------------------------------------------------------------------


def may_start(user: AbstractBaseUser, project: DueProject) -> bool:
    """Staff of the project's department; a filler limited to one 实施单位 only for that unit."""
    if not permissions.is_department_staff(user):
        return False
    membership = membership_of(user)
    assert membership is not None
    if membership.department_id != project.department_id:
        return False
    return membership_covers(membership, unit_key(project.implementing_unit))


def profile_signature(user: AbstractBaseUser) -> dict[str, str]:
    """The signature block's defaults from the user's profile: 填报人 and 联系电话."""
    membership = membership_of(user)
    return {
        "filler_name": person_name(user),
        "filler_phone": membership.phone if membership is not None else "",
    }


# --- the 待填报 list ---------------------------------------------------------------------


@dataclass(frozen=True)
class DueRow:
    """One due project on the staff's start page with the state of its form."""

    project: DueProject
    evaluation: Evaluation | None
    overdue: bool

    @property
    def state(self) -> str:
        if self.evaluation is None:
            return _("未开始")
        return self.evaluation.get_status_display()


@dataclass(frozen=True)
class DueList:
    campaign: Campaign
    deadline: datetime.date
    rows: list[DueRow]

    @property
    def overdue_count(self) -> int:
        return sum(1 for row in self.rows if row.overdue)


def due_list_for(*, user: AbstractBaseUser, campaign: Campaign | None) -> DueList | None:
    """The campaign's due projects of the user's department (or unit), with their forms.

    None for users outside a department or without a campaign. Three queries: the
    membership (cached), the department's deadline and the projects with their forms (one
    more for a user limited to one 实施单位).
    """
    if campaign is None or not permissions.in_a_department(user):
        return None
    membership = membership_of(user)
    assert membership is not None and membership.department is not None
    projects = of_own_unit(
        user,
        campaign.projects.filter(department=membership.department).select_related("evaluation"),
        "implementing_unit",
    )
    deadline = campaign.deadline_for(membership.department)
    on = today()
    rows = []
    for project in projects.order_by("project_name", "pk"):
        evaluation = getattr(project, "evaluation", None)
        status = evaluation.status if evaluation is not None else None
        rows.append(DueRow(project, evaluation, is_overdue(status, deadline, on)))
    return DueList(campaign, deadline, rows)


# --- starting a form ----------------------------------------------------------------------


def last_year_form(project: DueProject) -> Evaluation | None:
    """The project's form of the year before (approved preferred, then submitted).

    Same department, and the same name or the same due project code.
    """
    same = Q(project_name=project.project_name)
    if project.project_code:
        same |= Q(due_project__project_code=project.project_code)
    candidates = Evaluation.objects.filter(
        same,
        department_id=project.department_id,
        year=project.campaign.year - 1,
        status__in=_LAST_YEAR_STATUSES,
    ).prefetch_related("indicators", "funding_rows")
    forms = sorted(candidates, key=lambda e: (e.status != Status.APPROVED, -e.pk))
    return forms[0] if forms else None


def approved_targets_of(project: DueProject) -> list[ApprovedTarget]:
    """The project's approved targets, in their order."""
    return [
        ApprovedTarget(
            level1=t.level1, level2=t.level2, name=t.name, target=t.target, weight=t.weight
        )
        for t in project.targets.order_by("position", "pk")
    ]


def approved_rows(project: DueProject) -> list[IndicatorData]:
    """The project's approved targets as indicator rows (approved values set)."""
    return [
        IndicatorData(
            level1=t.level1,
            level2=t.level2,
            name=t.name,
            target=t.target,
            weight=t.weight,
            approved_target=t.target,
            approved_weight=t.weight,
        )
        for t in approved_targets_of(project)
    ]


def due_form_data(
    project: DueProject, *, user: AbstractBaseUser, last_year: Evaluation | None
) -> FormData:
    """The start of the project's form: names, budget, approved targets, last year's rows."""
    indicators = approved_rows(project)
    covered = {_row_id(i.level1, i.level2, i.name) for i in indicators}
    unit_head = ""
    if last_year is not None:
        before = last_year.as_form_data()
        unit_head = before.unit_head
        for ind in before.indicators:
            if _row_id(ind.level1, ind.level2, ind.name) in covered:
                continue
            indicators.append(
                IndicatorData(
                    level1=ind.level1,
                    level2=ind.level2,
                    name=ind.name,
                    target=ind.target,
                    weight=ind.weight,
                )
            )
    funding = []
    if project.initial_budget is not None or project.annual_budget is not None:
        funding.append(
            FundingData(
                kind=str(FundingKind.TOTAL),
                initial_budget=project.initial_budget,
                annual_budget=project.annual_budget,
            )
        )
    rules = rules_for_year(project.campaign.year)
    data = FormData(
        year=project.campaign.year,
        project_name=project.project_name,
        department=project.department.name,
        implementing_unit=project.implementing_unit,
        funding=funding,
        indicators=indicators,
        unit_head=unit_head,
        # The weight of budget execution the campaign's rule set gives (10 or 20).
        execution_weight=rules.execution_weight,
        **profile_signature(user),
    )
    # As on the web form: the stated execution score and total are what the rules give.
    return with_computed_totals(data, rules)


class DueStartRefused(PermissionDenied):
    """The user may not start this due project's form."""


@transaction.atomic
def evaluation_start_from_due(
    *, project: DueProject, user: AbstractBaseUser
) -> tuple[Evaluation, bool]:
    """The due project's form: the existing one, or a new one pre-filled (created True).

    A form of the department, year and name that is not linked yet (created by hand or
    imported before the list) is linked to the project instead of a second one.
    """
    if not may_start(user, project):
        raise DueStartRefused(_("您不能为此应评项目填报：它不属于您的部门或您负责的实施单位。"))
    locked = (
        DueProject.objects.select_for_update()
        .select_related("campaign", "department")
        .get(pk=project.pk)
    )
    existing = Evaluation.objects.filter(due_project=locked).first()
    if existing is not None:
        return existing, False
    same_name = Evaluation.objects.filter(
        department_id=locked.department_id,
        year=locked.campaign.year,
        project_name=locked.project_name,
        due_project__isnull=True,
    ).first()
    if same_name is not None:
        same_name.due_project = locked
        same_name.save(update_fields=["due_project", "updated_at"])
        return same_name, False
    data = due_form_data(locked, user=user, last_year=last_year_form(locked))
    evaluation, _result = evaluation_create(
        department=locked.department,
        data=data,
        user=user,
        source=_("应评项目清单"),
        action=EventAction.CREATED,
        due_project=locked,
    )
    return evaluation, True


# --- forms outside the list ---------------------------------------------------------------


def unlisted_refused(*, year: int | None) -> Campaign | None:
    """The campaign of ``year`` when it refuses forms outside its due list, else None."""
    if not year:
        return None
    return Campaign.objects.filter(year=year, allow_unlisted=False).first()


def open_campaign_refusing_unlisted() -> Campaign | None:
    """The latest open campaign when it refuses forms outside its due list."""
    return Campaign.objects.filter(is_open=True, allow_unlisted=False).order_by("-year").first()


# --- imports ------------------------------------------------------------------------------


def match_due_project(
    *, department: Department, year: int | None, project_name: str, project_code: str = ""
) -> DueProject | None:
    """The due project an imported form evaluates: by code if the file has one, else name.

    Only a project without a form yet (one form per due project).
    """
    if not year:
        return None
    projects = DueProject.objects.filter(
        campaign__year=year, department=department, evaluation__isnull=True
    )
    if project_code.strip():
        found = projects.filter(project_code=project_code.strip()).first()
        if found is not None:
            return found
    name = _norm(project_name)
    # A department has tens of due projects a year: compare them all, width and spaces aside.
    return next((p for p in projects if _norm(p.project_name) == name), None)


def with_due_approvals(data: FormData, project: DueProject) -> FormData:
    """A copy of ``data`` that reports against the project's approved targets (by the names)."""
    return replace(with_approved_targets(data, approved_targets_of(project)), due=True)
