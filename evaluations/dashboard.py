"""The overview page: per-department figures of one year, and their Excel download.

The figures are read in a fixed number of queries, however many departments there are.
Every query starts from ``departments.access``: finance and the administrator see all
departments, department staff see their own department only.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils.translation import gettext as _

from departments.access import visible_departments, visible_evaluations
from evaluations import selectors
from evaluations.models import EvaluationEvent, EventAction, FundingKind, FundingRow, Status

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    User = AbstractBaseUser | AnonymousUser

# Score histogram buckets: (label, lower bound inclusive, upper bound exclusive).
SCORE_BUCKETS: list[tuple[str, Decimal | None, Decimal | None]] = [
    ("<60", None, Decimal("60")),
    ("60–70", Decimal("60"), Decimal("70")),
    ("70–80", Decimal("70"), Decimal("80")),
    ("80–90", Decimal("80"), Decimal("90")),
    ("90–100", Decimal("90"), None),
]
# Progress is shown per day up to this many days, per week (Monday) beyond.
DAILY_PROGRESS_MAX_DAYS = 62


@dataclass
class DepartmentRow:
    """One department's figures for the year."""

    department_id: int
    name: str
    draft: int = 0
    submitted: int = 0
    returned: int = 0
    approved: int = 0
    total_sum: Decimal = Decimal("0")
    total_count: int = 0
    with_errors: int = 0
    annual_budget: Decimal = Decimal("0")
    executed: Decimal = Decimal("0")

    @property
    def forms(self) -> int:
        return self.draft + self.submitted + self.returned + self.approved

    @property
    def average_total(self) -> Decimal | None:
        """Average computed total score of the forms that have one."""
        if not self.total_count:
            return None
        return (self.total_sum / self.total_count).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    @property
    def execution_rate(self) -> Decimal | None:
        """Sum executed / sum full-year budget of the forms' total funding rows."""
        if not self.annual_budget:
            return None
        return self.executed / self.annual_budget

    @property
    def pending(self) -> bool:
        """True while the department still has to submit: nothing handed in, or forms in draft/returned."""
        return self.submitted + self.approved == 0 or self.draft > 0 or self.returned > 0

    @property
    def pending_reason(self) -> str:
        if self.forms == 0:
            return _("尚无自评表")
        if self.submitted + self.approved == 0:
            return _("尚未提交任何自评表")
        parts = []
        if self.draft:
            parts.append(_("%(n)s 张草稿") % {"n": self.draft})
        if self.returned:
            parts.append(_("%(n)s 张已退回待重新提交") % {"n": self.returned})
        return "、".join(parts)


@dataclass
class ProgressPoint:
    """Submissions and approvals in one period, with running totals."""

    start: date
    submissions: int
    approvals: int
    cumulative_submissions: int = 0
    cumulative_approvals: int = 0


@dataclass
class Overview:
    """Everything the dashboard shows for one year."""

    year: int | None
    years: list[int]
    rows: list[DepartmentRow]
    histogram: list[tuple[str, int]]
    progress: list[ProgressPoint]
    progress_unit: str  # "day" or "week"
    totals: DepartmentRow = field(default_factory=lambda: DepartmentRow(0, ""))

    @property
    def pending(self) -> list[DepartmentRow]:
        return [row for row in self.rows if row.pending]


def department_rows(user: User, year: int) -> list[DepartmentRow]:
    """Per-department figures of one year: three queries whatever the number of departments."""
    rows = {
        pk: DepartmentRow(department_id=pk, name=name)
        for pk, name in visible_departments(user).order_by("name").values_list("id", "name")
    }
    evaluations = visible_evaluations(user).filter(year=year)
    per_department = (
        evaluations.order_by()
        .values("department_id")
        .annotate(
            draft=Count("id", filter=Q(status=Status.DRAFT)),
            submitted=Count("id", filter=Q(status=Status.SUBMITTED)),
            returned=Count("id", filter=Q(status=Status.RETURNED)),
            approved=Count("id", filter=Q(status=Status.APPROVED)),
            total_sum=Sum("computed_total"),
            total_count=Count("computed_total"),
            with_errors=Count("id", filter=Q(error_count__gt=0)),
        )
    )
    for item in per_department:
        row = rows.get(item["department_id"])
        if row is None:
            continue
        row.draft, row.submitted = item["draft"], item["submitted"]
        row.returned, row.approved = item["returned"], item["approved"]
        row.total_sum = item["total_sum"] or Decimal("0")
        row.total_count = item["total_count"]
        row.with_errors = item["with_errors"]
    # A total row counts only when both figures are filled in: a blank 全年执行数 is unfinished.
    funding = (
        FundingRow.objects.filter(
            evaluation__in=evaluations,
            kind=FundingKind.TOTAL,
            annual_budget__isnull=False,
            executed__isnull=False,
        )
        .order_by()
        .values("evaluation__department_id")
        .annotate(annual_budget=Sum("annual_budget"), executed=Sum("executed"))
    )
    for item in funding:
        row = rows.get(item["evaluation__department_id"])
        if row is None:
            continue
        row.annual_budget = item["annual_budget"] or Decimal("0")
        row.executed = item["executed"] or Decimal("0")
    return list(rows.values())


def totals_row(rows: list[DepartmentRow]) -> DepartmentRow:
    """The sum over all departments (an average of averages would weigh small departments up)."""
    total = DepartmentRow(department_id=0, name=_("合计"))
    for row in rows:
        for name in (
            "draft",
            "submitted",
            "returned",
            "approved",
            "total_sum",
            "total_count",
            "with_errors",
            "annual_budget",
            "executed",
        ):
            setattr(total, name, getattr(total, name) + getattr(row, name))
    return total


def score_histogram(user: User, year: int) -> list[tuple[str, int]]:
    """How many forms of the year fall into each computed-total bucket (one query)."""
    aggregates = {}
    for index, (_label, low, high) in enumerate(SCORE_BUCKETS):
        condition = Q(computed_total__isnull=False)
        if low is not None:
            condition &= Q(computed_total__gte=low)
        if high is not None:
            condition &= Q(computed_total__lt=high)
        aggregates[f"b{index}"] = Count("id", filter=condition)
    counts = visible_evaluations(user).filter(year=year).aggregate(**aggregates)
    return [(label, counts[f"b{index}"]) for index, (label, _l, _h) in enumerate(SCORE_BUCKETS)]


def progress(user: User, year: int) -> tuple[list[ProgressPoint], str]:
    """Submissions and approvals over time from the history, cumulative (one query)."""
    per_day = (
        EvaluationEvent.objects.filter(
            evaluation__in=visible_evaluations(user).filter(year=year),
            action__in=[EventAction.SUBMITTED, EventAction.APPROVED],
        )
        .annotate(day=TruncDate("created_at"))
        .order_by()
        .values("day", "action")
        .annotate(n=Count("id"))
    )
    submissions: Counter[date] = Counter()
    approvals: Counter[date] = Counter()
    for item in per_day:
        target = submissions if item["action"] == EventAction.SUBMITTED else approvals
        target[item["day"]] += item["n"]
    days = sorted(set(submissions) | set(approvals))
    if not days:
        return [], "day"
    unit = "day" if (days[-1] - days[0]).days <= DAILY_PROGRESS_MAX_DAYS else "week"
    if unit == "week":
        weekly_s: Counter[date] = Counter()
        weekly_a: Counter[date] = Counter()
        for day in days:
            monday = day - timedelta(days=day.weekday())
            weekly_s[monday] += submissions[day]
            weekly_a[monday] += approvals[day]
        submissions, approvals = weekly_s, weekly_a
        days = sorted(set(weekly_s) | set(weekly_a))
    points = []
    running_s = running_a = 0
    for day in days:
        running_s += submissions[day]
        running_a += approvals[day]
        points.append(ProgressPoint(day, submissions[day], approvals[day], running_s, running_a))
    return points, unit


def dashboard_overview(user: User, year: int | None = None) -> Overview:
    """The overview of ``year`` (default: the latest year with data) as the user may see it."""
    years = selectors.evaluation_years(user=user)
    if year is None:
        year = years[0] if years else None
    if year is None:
        return Overview(
            year=None, years=[], rows=[], histogram=[], progress=[], progress_unit="day"
        )
    rows = department_rows(user, year)
    points, unit = progress(user, year)
    return Overview(
        year=year,
        years=years,
        rows=rows,
        histogram=score_histogram(user, year),
        progress=points,
        progress_unit=unit,
        totals=totals_row(rows),
    )


# --- export ----------------------------------------------------------------------------------


def overview_xlsx(overview: Overview) -> bytes:
    """The department table as an .xlsx workbook (text cells can never become formulas).

    Text cells and the sheet title are written by the same helpers as the forms'
    workbook (``excel.set_text``, ``excel.safe_sheet_title``).
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from evaluations.exports.excel import safe_sheet_title, set_text

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = safe_sheet_title(str(overview.year or ""), _("汇总"))
    sheet.append([None])
    set_text(sheet.cell(row=1, column=1), _("%(year)s年度自评汇总") % {"year": overview.year})
    headers = [
        _("主管部门"),
        _("草稿"),
        _("已提交"),
        _("已退回"),
        _("已通过"),
        _("合计"),
        _("平均总分（计算）"),
        _("全年预算数（万元）"),
        _("全年执行数（万元）"),
        _("执行率"),
        _("有错误的表"),
        _("提交情况"),
    ]
    sheet.append([None] * len(headers))
    for column, header in enumerate(headers, start=1):
        cell = sheet.cell(row=2, column=column)
        set_text(cell, header)
        cell.font = Font(bold=True)
    for row in [*overview.rows, overview.totals]:
        values = [
            row.name,
            row.draft,
            row.submitted,
            row.returned,
            row.approved,
            row.forms,
            row.average_total,
            row.annual_budget,
            row.executed,
            row.execution_rate,
            row.with_errors,
            (row.pending_reason if row.pending else _("已全部提交"))
            if row is not overview.totals
            else "",
        ]
        # Texts (department names come from users and imports) through set_text only.
        sheet.append([None if isinstance(value, str) else value for value in values])
        current = sheet.max_row
        for column, value in enumerate(values, start=1):
            if isinstance(value, str):
                set_text(sheet.cell(row=current, column=column), value)
        sheet.cell(row=current, column=10).number_format = "0.00%"
        for column in (7, 8, 9):
            sheet.cell(row=current, column=column).number_format = "0.00"
    sheet.column_dimensions["A"].width = 40
    sheet.column_dimensions["L"].width = 30
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
