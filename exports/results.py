"""The year's results for publication with the final accounts (决算公开), as an .xlsx.

One row per approved form of the year (only approved forms are final): the department, the
project, the funds of the 年度资金总额 row (全年预算数, 全年执行数), the execution rate, the
self-evaluation's computed total and its grade, and the bureau's re-check total and grade
where a re-check is done (blank otherwise). The rows are read in one query and yielded once
(``result_rows``); the workbook is written with openpyxl's write-only mode, so thousands of
rows stay cheap. Texts go through ``common.xlsx.set_text``: a name starting with ``=`` stays text.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Case, F, OuterRef, Subquery, When
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from common.xlsx import safe_sheet_title, set_text
from evaluations.core.grades import grade
from evaluations.models import FundingKind, FundingRow, Status
from evaluations.selectors import visible_evaluations
from rechecks.models import RecheckStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    User = AbstractBaseUser | AnonymousUser

CHUNK_SIZE = 2000


@dataclass(frozen=True)
class ResultRow:
    """One project's published result."""

    department: str
    project: str
    annual_budget: Decimal | None
    executed: Decimal | None
    execution_rate: Decimal | None  # a ratio (0.95), as the scoring engine stored it
    total: Decimal | None  # the computed total (the graded one, see core.grades)
    recheck_total: Decimal | None  # the done re-check's total, None without one

    @property
    def grade(self) -> str | None:
        return grade(self.total)

    @property
    def recheck_grade(self) -> str | None:
        return grade(self.recheck_total)


def result_rows(user: User, year: int) -> Iterator[ResultRow]:
    """The approved forms of ``year`` the user sees, by department and project (one query)."""
    total_row = FundingRow.objects.filter(evaluation=OuterRef("pk"), kind=FundingKind.TOTAL)
    forms = (
        visible_evaluations(user)
        .filter(year=year, status=Status.APPROVED)
        .annotate(
            fund_budget=Subquery(total_row.values("annual_budget")[:1]),
            fund_executed=Subquery(total_row.values("executed")[:1]),
        )
        .order_by("department__name", "project_name", "pk")
    )
    # Only a finished re-check is published.
    forms = forms.annotate(
        recheck_score=Case(
            When(recheck__status=RecheckStatus.DONE, then=F("recheck__total")), default=None
        )
    )
    names = ["department__name", "project_name", "fund_budget", "fund_executed"]
    names += ["computed_execution_rate", "computed_total", "recheck_score"]
    for values in forms.values_list(*names).iterator(chunk_size=CHUNK_SIZE):
        yield ResultRow(*values[:6], recheck_total=values[6])


def headers() -> list[str]:
    return [
        _("序号"),
        _("主管部门"),
        _("项目名称"),
        _("全年预算数（万元）"),
        _("全年执行数（万元）"),
        _("执行率"),
        _("自评得分"),
        _("自评等级"),
        _("复核得分"),
        _("复核等级"),
    ]


# Number formats by column (1-based), as the form prints them.
_FORMATS = {4: "0.00", 5: "0.00", 6: "0.00%", 7: "0.00", 9: "0.00"}


def results_xlsx(rows: Iterable[ResultRow], year: int) -> bytes:
    """The results as a one-sheet workbook: a title row, the headers, one row per project."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(safe_sheet_title(_("%(year)s年度绩效自评结果") % {"year": year}))
    for letter, width in zip("ABCDEFGHIJ", (6, 30, 40, 14, 14, 10, 10, 8, 10, 8), strict=True):
        sheet.column_dimensions[letter].width = width

    def text(value: str, bold: bool = False) -> Any:
        cell = WriteOnlyCell(sheet)
        set_text(cell, value)
        if bold:
            cell.font = Font(bold=True)
        return cell

    title = _("%(year)s年度项目支出绩效自评结果（决算公开）") % {"year": year}
    sheet.append([text(title, bold=True)])
    sheet.append([text(header, bold=True) for header in headers()])
    for number, row in enumerate(rows, start=1):
        values: list[Any] = [
            number,
            row.department,
            row.project,
            row.annual_budget,
            row.executed,
            row.execution_rate,
            row.total,
            row.grade or "",
            row.recheck_total,
            row.recheck_grade or "",
        ]
        cells = []
        for column, value in enumerate(values, start=1):
            if isinstance(value, str):
                cells.append(text(value))
                continue
            cell = WriteOnlyCell(sheet, value=value)
            if column in _FORMATS and value is not None:
                cell.number_format = _FORMATS[column]
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
