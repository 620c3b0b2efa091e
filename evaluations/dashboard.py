"""The overview page: per-department figures of one year, and their Excel download.

The figures are read in a fixed number of queries, however many departments there are.
Every query starts from ``departments.access``: finance and the administrator see all
departments, department staff see their own department only.

When the year has a campaign (自评任务), each department is also counted against its due
list (应评项目清单): 应评, 未开始, the forms of its due projects by status, and 逾期 (the
rule of ``campaigns.deadlines``). "Not submitted" then means a due project without a form
with the bureau; a year without a campaign keeps the older rule (forms in draft/returned,
or none handed in).

The progress chart counts each form once, on the day it first reached the bureau
(``workflow.REACHES_BUREAU``: a submission, or the head's sign-off) and on the day it was first
approved.

Grades (``core.grades``) are counted in the histogram's query: the forms handed in (submitted
or approved) by the grade of their computed total, and the done re-checks by the grade of their
total; the per-department query also counts done re-checks and poor self-evaluations.

A page-level module (the overview page and its download): it reads the campaigns and the
re-checks, which sit above the form, and imports them as such.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from django.db.models import Count, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import TruncDate
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from campaigns.deadlines import NOT_HANDED_IN, department_deadlines, is_overdue
from campaigns.deadlines import today as local_today
from campaigns.models import Campaign, DueProject
from common.xlsx import safe_sheet_title, set_text
from departments.access import of_own_unit, visible_departments
from evaluations.core.grades import GRADE_KEYS, grade_label, grade_ranges
from evaluations.models import HANDED_IN, EvaluationEvent, FundingKind, FundingRow, Status
from evaluations.selectors import visible_evaluations
from evaluations.workflow import APPROVES, REACHES_BUREAU
from rechecks.models import Recheck, RecheckStatus

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
    department_review: int = 0
    submitted: int = 0
    returned: int = 0
    approved: int = 0
    # Against the due list (zero without a campaign): forms of due projects by status.
    due: int = 0
    not_started: int = 0
    due_draft: int = 0
    due_department_review: int = 0
    due_submitted: int = 0
    due_returned: int = 0
    due_approved: int = 0
    overdue: int = 0
    deadline: date | None = None
    # True when the year has a campaign: the due list decides what is pending.
    has_campaign: bool = False
    total_sum: Decimal = Decimal("0")
    total_count: int = 0
    with_errors: int = 0
    annual_budget: Decimal = Decimal("0")
    executed: Decimal = Decimal("0")
    # Re-checks (复核) done, and those that found the self-evaluation's quality poor.
    rechecked: int = 0
    quality_poor: int = 0

    @property
    def forms(self) -> int:
        return self.draft + self.department_review + self.submitted + self.returned + self.approved

    @property
    def not_handed_in(self) -> int:
        """Due projects without a form with the bureau (尚未提交)."""
        return self.due - self.due_submitted - self.due_approved

    @property
    def average_total(self) -> Decimal | None:
        """Average computed total score of the forms handed in (submitted or approved)."""
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
        """True while the department still has to submit.

        With a campaign: some due project has no form with the bureau (none, 草稿, 部门审核
        or 已退回). Without one: nothing handed in, or forms in draft, department review or
        returned.
        """
        if self.has_campaign:
            return self.not_handed_in > 0
        return (
            self.submitted + self.approved == 0
            or self.draft > 0
            or self.department_review > 0
            or self.returned > 0
        )

    @property
    def pending_reason(self) -> str:
        if self.has_campaign:
            return self._due_reason()
        if self.forms == 0:
            return _("尚无自评表")
        if self.submitted + self.approved == 0:
            return _("尚未提交任何自评表")
        parts = []
        if self.draft:
            parts.append(_("%(n)s 张草稿") % {"n": self.draft})
        if self.department_review:
            parts.append(_("%(n)s 张部门审核中") % {"n": self.department_review})
        if self.returned:
            parts.append(_("%(n)s 张已退回待重新提交") % {"n": self.returned})
        return "、".join(parts)

    def _due_reason(self) -> str:
        if self.due == 0:
            return _("无应评项目")
        if not self.not_handed_in:
            return _("已全部提交")
        parts = []
        if self.not_started:
            parts.append(_("%(n)s 个未开始") % {"n": self.not_started})
        if self.due_draft:
            parts.append(_("%(n)s 张草稿") % {"n": self.due_draft})
        if self.due_department_review:
            parts.append(_("%(n)s 张部门审核中") % {"n": self.due_department_review})
        if self.due_returned:
            parts.append(_("%(n)s 张已退回待重新提交") % {"n": self.due_returned})
        reason = _("%(n)s 个应评项目尚未提交（%(parts)s）") % {
            "n": self.not_handed_in,
            "parts": "、".join(parts),
        }
        if self.overdue:
            reason += _("，已逾期")
        return reason


@dataclass
class ProgressPoint:
    """Forms that first reached the bureau, and forms first approved, in one period, with
    running totals."""

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
    campaign: Campaign | None = None
    # (grade label, count) best first: forms by the grade of their computed total, and
    # done re-checks by the grade of the re-check total (empty without the rechecks app).
    grades: list[tuple[str, int]] = field(default_factory=list)
    recheck_grades: list[tuple[str, int]] = field(default_factory=list)

    @property
    def pending(self) -> list[DepartmentRow]:
        return [row for row in self.rows if row.pending]

    @property
    def quality_poor(self) -> list[DepartmentRow]:
        """Departments with a done re-check that found their self-evaluation poor (自评质量差)."""
        return [row for row in self.rows if row.quality_poor]


def department_rows(
    user: User, year: int, campaign: Campaign | None = None, *, today: date | None = None
) -> list[DepartmentRow]:
    """Per-department figures of one year: three queries whatever the number of departments
    (two more with a campaign: the due list's counts and the deadline extensions)."""
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
            department_review=Count("id", filter=Q(status=Status.DEPARTMENT_REVIEW)),
            submitted=Count("id", filter=Q(status=Status.SUBMITTED)),
            returned=Count("id", filter=Q(status=Status.RETURNED)),
            approved=Count("id", filter=Q(status=Status.APPROVED)),
            # Scores of forms handed in only: a draft's total (0 while empty) is no result.
            total_sum=Sum("computed_total", filter=Q(status__in=HANDED_IN)),
            total_count=Count("computed_total", filter=Q(status__in=HANDED_IN)),
            with_errors=Count("id", filter=Q(error_count__gt=0)),
            **recheck_department_aggregates(),
        )
    )
    for item in per_department:
        row = rows.get(item["department_id"])
        if row is None:
            continue
        row.draft, row.submitted = item["draft"], item["submitted"]
        row.department_review = item["department_review"]
        row.returned, row.approved = item["returned"], item["approved"]
        row.total_sum = item["total_sum"] or Decimal("0")
        row.total_count = item["total_count"]
        row.with_errors = item["with_errors"]
        row.rechecked = item.get("rechecked", 0)
        row.quality_poor = item.get("quality_poor", 0)
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
    if campaign is not None:
        _count_due(user, campaign, rows, today or local_today())
    return list(rows.values())


def _count_due(user: User, campaign: Campaign, rows: dict[int, DepartmentRow], today: date) -> None:
    """Count each department's due projects and their forms by status (two queries; three for
    a user limited to one 实施单位, who counts that unit's projects)."""
    projects = DueProject.objects.filter(
        campaign=campaign, department__in=visible_departments(user).values("pk")
    )
    per_department = (
        of_own_unit(user, projects, "implementing_unit")
        .order_by()
        .values("department_id")
        .annotate(
            due=Count("id"),
            not_started=Count("id", filter=Q(evaluation__isnull=True)),
            due_draft=Count("id", filter=Q(evaluation__status=Status.DRAFT)),
            due_department_review=Count(
                "id", filter=Q(evaluation__status=Status.DEPARTMENT_REVIEW)
            ),
            due_submitted=Count("id", filter=Q(evaluation__status=Status.SUBMITTED)),
            due_returned=Count("id", filter=Q(evaluation__status=Status.RETURNED)),
            due_approved=Count("id", filter=Q(evaluation__status=Status.APPROVED)),
        )
    )
    extended = department_deadlines(campaign)
    for row in rows.values():
        row.has_campaign = True
        row.deadline = extended.get(row.department_id, campaign.deadline)
    for item in per_department:
        row = rows.get(item["department_id"])
        if row is None:
            continue
        for name in DUE_FIELDS:
            setattr(row, name, item[name])
        # One deadline per department: every not-handed-in due project is late, or none is.
        by_status = {
            None: row.not_started,
            Status.DRAFT: row.due_draft,
            Status.DEPARTMENT_REVIEW: row.due_department_review,
            Status.RETURNED: row.due_returned,
        }
        assert set(by_status) == {None, *NOT_HANDED_IN}
        row.overdue = sum(
            n for status, n in by_status.items() if is_overdue(status, row.deadline, today)
        )


DUE_FIELDS = (
    "due",
    "not_started",
    "due_draft",
    "due_department_review",
    "due_submitted",
    "due_returned",
    "due_approved",
)


def totals_row(rows: list[DepartmentRow]) -> DepartmentRow:
    """The sum over all departments (an average of averages would weigh small departments up)."""
    total = DepartmentRow(department_id=0, name=_("合计"))
    total.has_campaign = bool(rows) and rows[0].has_campaign
    for row in rows:
        for name in (
            *DUE_FIELDS,
            "overdue",
            "draft",
            "department_review",
            "submitted",
            "returned",
            "approved",
            "total_sum",
            "total_count",
            "with_errors",
            "annual_budget",
            "executed",
            "rechecked",
            "quality_poor",
        ):
            setattr(total, name, getattr(total, name) + getattr(row, name))
    return total


# The query name from a form to its re-check (``rechecks.Recheck``): the dashboard counts
# re-check grades and poor self-evaluations through this relation, inside queries it makes
# anyway.
RECHECK = Recheck._meta.get_field("evaluation").related_query_name()
_RECHECK_DONE = Q(**{f"{RECHECK}__status": RecheckStatus.DONE})


def recheck_department_aggregates() -> dict[str, Count]:
    """Per-department counts of done re-checks and poor self-evaluations."""
    return {
        "rechecked": Count("id", filter=_RECHECK_DONE),
        "quality_poor": Count("id", filter=_RECHECK_DONE & Q(**{f"{RECHECK}__quality_poor": True})),
    }


def _range_condition(field_name: str, low: Decimal | None, high: Decimal | None) -> Q:
    condition = Q(**{f"{field_name}__isnull": False})
    if low is not None:
        condition &= Q(**{f"{field_name}__gte": low})
    if high is not None:
        condition &= Q(**{f"{field_name}__lt": high})
    return condition


def score_counts(
    user: User, year: int
) -> tuple[list[tuple[str, int]], list[tuple[str, int]], list[tuple[str, int]]]:
    """The histogram, the grade distribution of the computed totals and that of the done
    re-checks' totals, in one aggregate query.

    Only forms handed in (``HANDED_IN``: submitted or approved) are counted: a draft's total
    (0 while empty) is no result.
    """
    aggregates: dict[str, Count] = {}
    for index, (_label, low, high) in enumerate(SCORE_BUCKETS):
        aggregates[f"b{index}"] = Count("id", filter=_range_condition("computed_total", low, high))
    for key, low, high in grade_ranges():
        aggregates[f"g_{key}"] = Count("id", filter=_range_condition("computed_total", low, high))
    for key, low, high in grade_ranges():
        condition = _RECHECK_DONE & _range_condition(f"{RECHECK}__total", low, high)
        aggregates[f"r_{key}"] = Count("id", filter=condition)
    counts = (
        visible_evaluations(user).filter(year=year, status__in=HANDED_IN).aggregate(**aggregates)
    )
    histogram = [
        (label, counts[f"b{index}"]) for index, (label, _l, _h) in enumerate(SCORE_BUCKETS)
    ]
    grades = [(grade_label(key) or "", counts[f"g_{key}"]) for key in GRADE_KEYS]
    rechecks = [(grade_label(key) or "", counts[f"r_{key}"]) for key in GRADE_KEYS]
    return histogram, grades, rechecks


def score_histogram(user: User, year: int) -> list[tuple[str, int]]:
    """How many handed-in forms of the year fall into each computed-total bucket (one query)."""
    return score_counts(user, year)[0]


def progress(user: User, year: int) -> tuple[list[ProgressPoint], str]:
    """Forms that reached the bureau and forms approved over time, cumulative (one query).

    Each form counts once, on the day it first reached the bureau, whatever the path (its
    filler's submission, or its head's sign-off when the campaign requires one), and once on
    the day it was first approved: a form returned and handed in again is not counted twice.
    """
    first = (
        EvaluationEvent.objects.filter(evaluation=OuterRef("pk"))
        .order_by("created_at", "id")
        .values("created_at")
    )
    per_day = (
        visible_evaluations(user)
        .filter(year=year)
        .annotate(
            reached=TruncDate(Subquery(first.filter(action__in=REACHES_BUREAU)[:1])),
            approved=TruncDate(Subquery(first.filter(action__in=APPROVES)[:1])),
        )
        .filter(Q(reached__isnull=False) | Q(approved__isnull=False))
        .order_by()
        .values("reached", "approved")
        .annotate(n=Count("id"))
    )
    submissions: Counter[date] = Counter()
    approvals: Counter[date] = Counter()
    for item in per_day:
        if item["reached"] is not None:
            submissions[item["reached"]] += item["n"]
        if item["approved"] is not None:
            approvals[item["approved"]] += item["n"]
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


def _years(user: User) -> tuple[list[int], set[int]]:
    """Years with forms the user sees or with a campaign, newest first, and the campaign
    years (one query: a year with a campaign is shown before its first form exists)."""
    forms = visible_evaluations(user).order_by().values_list("year", Value(False))
    campaigns = Campaign.objects.order_by().values_list("year", Value(True))
    pairs = list(forms.union(campaigns))
    years = sorted({year for year, _c in pairs}, reverse=True)
    return years, {year for year, is_campaign in pairs if is_campaign}


def dashboard_overview_year(user: User) -> int | None:
    """The year the overview shows by default: the latest with data or a campaign."""
    years, _campaign_years = _years(user)
    return years[0] if years else None


def dashboard_overview(
    user: User, year: int | None = None, *, today: date | None = None
) -> Overview:
    """The overview of ``year`` (default: the latest year with data or a campaign)."""
    years, campaign_years = _years(user)
    if year is None:
        year = years[0] if years else None
    if year is None:
        return Overview(
            year=None, years=[], rows=[], histogram=[], progress=[], progress_unit="day"
        )
    campaign = Campaign.objects.filter(year=year).first() if year in campaign_years else None
    rows = department_rows(user, year, campaign, today=today)
    points, unit = progress(user, year)
    histogram, grades, recheck_grades = score_counts(user, year)
    return Overview(
        year=year,
        years=years,
        rows=rows,
        histogram=histogram,
        progress=points,
        progress_unit=unit,
        totals=totals_row(rows),
        campaign=campaign,
        grades=grades,
        recheck_grades=recheck_grades,
    )


# --- the table: filter, search, sort ---------------------------------------------------------

# ?sort= keys: the columns of the table, each read from a DepartmentRow.
SORT_KEYS: dict[str, str] = {
    "name": "name",
    "due": "due",
    "not_started": "not_started",
    "draft": "due_draft",
    "department_review": "due_department_review",
    "submitted": "due_submitted",
    "returned": "due_returned",
    "approved": "due_approved",
    "overdue": "overdue",
    "forms": "forms",
    "average": "average_total",
    "rate": "execution_rate",
    "errors": "with_errors",
    "deadline": "deadline",
}
FILTER_INCOMPLETE = "incomplete"
FILTER_OVERDUE = "overdue"
FILTER_CHOICES = [
    ("", gettext_lazy("全部部门")),
    (FILTER_INCOMPLETE, gettext_lazy("未完成")),
    (FILTER_OVERDUE, gettext_lazy("逾期")),
]


def filter_rows(
    rows: list[DepartmentRow],
    *,
    show: str = "",
    query: str = "",
    sort: str = "name",
    descending: bool = False,
) -> list[DepartmentRow]:
    """The table's rows: "incomplete" = pending (not every due project handed in), "overdue" =
    some due project overdue; ``query`` matches the department name; blanks sort last."""
    if show == FILTER_INCOMPLETE:
        rows = [row for row in rows if row.pending]
    elif show == FILTER_OVERDUE:
        rows = [row for row in rows if row.overdue]
    query = query.strip().casefold()
    if query:
        rows = [row for row in rows if query in row.name.casefold()]
    attribute = SORT_KEYS.get(sort, "name")
    if rows and not rows[0].has_campaign:
        # Without a due list the status columns count all forms of the year.
        attribute = attribute.removeprefix("due_")
    present = [row for row in rows if getattr(row, attribute) is not None]
    blank = [row for row in rows if getattr(row, attribute) is None]
    # By name first, so equal figures keep a stable, readable order.
    present.sort(key=lambda row: row.name)
    present.sort(key=lambda row: getattr(row, attribute), reverse=descending)
    return present + blank


def lowest_execution(rows: list[DepartmentRow], count: int) -> list[DepartmentRow]:
    """The ``count`` rows with the lowest execution rate (rows without one are left out)."""
    rated = [row for row in rows if row.execution_rate is not None]
    rated.sort(key=lambda row: (row.execution_rate, row.name))
    return rated[:count]


# --- export ----------------------------------------------------------------------------------


def overview_xlsx(overview: Overview, rows: list[DepartmentRow] | None = None) -> bytes:
    """The department table as an .xlsx workbook (text cells can never become formulas).

    ``rows`` are the table's rows as filtered on the page (default: every department); the
    totals row sums them. With a campaign the columns are those of the page: 应评 … 逾期.
    Text cells and the sheet title are written by the same helpers as the forms'
    workbook (``common.xlsx.set_text``, ``common.xlsx.safe_sheet_title``).
    """
    rows = overview.rows if rows is None else rows
    totals = totals_row(rows)
    campaign = overview.campaign
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = safe_sheet_title(str(overview.year or ""), _("汇总"))
    sheet.append([None])
    title = _("%(year)s年度自评汇总") % {"year": overview.year}
    if campaign is not None:
        title += _("（截止日期 %(day)s）") % {"day": campaign.deadline.isoformat()}
    set_text(sheet.cell(row=1, column=1), title)
    if campaign is not None:
        headers = [
            _("主管部门"),
            _("截止日期"),
            _("应评"),
            _("未开始"),
            _("草稿"),
            _("部门审核"),
            _("已提交"),
            _("已退回"),
            _("已通过"),
            _("逾期"),
        ]
    else:
        headers = [_("主管部门"), _("草稿"), _("已提交"), _("已退回"), _("已通过"), _("合计")]
    headers += [
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
    first_figure = len(headers) - 5  # 平均总分: the first of the year's figures (1-based)
    for row in [*rows, totals]:
        if campaign is not None:
            values: list = [
                row.name,
                row.deadline.isoformat() if row.deadline and row is not totals else "",
                row.due,
                row.not_started,
                row.due_draft,
                row.due_department_review,
                row.due_submitted,
                row.due_returned,
                row.due_approved,
                row.overdue,
            ]
        else:
            values = [row.name, row.draft, row.submitted, row.returned, row.approved, row.forms]
        values += [
            row.average_total,
            row.annual_budget,
            row.executed,
            row.execution_rate,
            row.with_errors,
            # With a campaign the reason also says "无应评项目" / "已全部提交".
            ""
            if row is totals
            else row.pending_reason
            if row.pending or row.has_campaign
            else _("已全部提交"),
        ]
        # Texts (department names come from users and imports) through set_text only.
        sheet.append([None if isinstance(value, str) else value for value in values])
        current = sheet.max_row
        for column, value in enumerate(values, start=1):
            if isinstance(value, str):
                set_text(sheet.cell(row=current, column=column), value)
        sheet.cell(row=current, column=first_figure + 3).number_format = "0.00%"
        for column in (first_figure, first_figure + 1, first_figure + 2):
            sheet.cell(row=current, column=column).number_format = "0.00"
    sheet.column_dimensions["A"].width = 40
    sheet.column_dimensions[_column_letter(len(headers))].width = 40
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _column_letter(index: int) -> str:
    return get_column_letter(index)
