"""Excel export in the official layout: one sheet per form plus a flat sheet of indicators.

Every text cell and sheet title goes through ``common.xlsx``'s ``set_text`` and
``safe_sheet_title``, as in every workbook the application writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO
from typing import IO, Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from campaigns.selectors import campaign_years
from common.xlsx import (
    SHEET_TITLE_MAX_LENGTH,
    fit_utf16,
    safe_sheet_title,
    set_text,
)
from evaluations.core import layout
from evaluations.core.evaluation_data import FormData
from evaluations.core.scoring import ScoreResult, evaluate
from evaluations.models import Evaluation, Status
from evaluations.rules import RulesCache, current_rules
from evaluations.signature import signature_of

# Sheet of one row per indicator; the importer skips it.
FLAT_SHEET_TITLE = "指标明细"
COLUMNS = 9
# Column widths (characters) of A..I: label, 一级, 二级, 三级, 指标值, 完成值, 分值, 得分, 偏差.
COLUMN_WIDTHS = (12, 10, 13, 26, 14, 14, 7, 9, 30)

TITLE = "title"  # title rows above the table
HEAD = layout.HEAD  # a printed label of the form (and the "—" of the funding rows)
TEXT = layout.TEXT  # what the department wrote
MONEY = layout.MONEY
POINTS = layout.POINTS
PERCENT = layout.PERCENT
# The title and the year line sit above the table.
TABLE_OFFSET = 2


@dataclass
class GridCell:
    """One (possibly merged) cell of the official layout; row and col are 1-based."""

    row: int
    col: int
    value: str | Decimal | None
    kind: str = TEXT
    rows: int = 1
    cols: int = 1
    align: str = "center"


def form_grid(
    form_data: FormData,
    result: ScoreResult | None = None,
    *,
    signature: layout.Signature | None = None,
    with_grade: bool = True,
) -> list[GridCell]:
    """The official layout (``core.layout``) as worksheet cells; rows 1-2 are the title.

    Figures are written as numbers (Excel formats them); texts as displayed. With
    ``signature`` the signature block follows the table; ``with_grade`` as in ``form_layout``.
    """
    # Form data not stored (a stored form comes with its result): the national rules.
    result = result or evaluate(form_data, current_rules())
    sheet = layout.form_layout(form_data, result, signature=signature, with_grade=with_grade)
    cells = [
        GridCell(1, 1, sheet.title, TITLE, cols=layout.COLUMNS),
        GridCell(2, 1, sheet.year_line, TITLE, cols=layout.COLUMNS),
    ]
    for cell in sheet.cells():
        if cell.is_number:
            value: str | Decimal | None = cell.value
            kind = cell.kind
        else:
            value = cell.text
            kind = HEAD if cell.kind in (layout.HEAD, layout.DASH) else TEXT
        cells.append(
            GridCell(
                cell.row + TABLE_OFFSET,
                cell.col,
                value,
                kind,
                rows=cell.rowspan,
                cols=cell.colspan,
                align=cell.align,
            )
        )
    return cells


# --------------------------------------------------------------------------- writing

_THIN = Side(style="thin", color="000000")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_FONT = Font(name="宋体", size=10)
_HEAD_FONT = Font(name="宋体", size=10, bold=True)
_TITLE_FONT = Font(name="宋体", size=16, bold=True)
_YEAR_FONT = Font(name="宋体", size=11)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
_RIGHT = Alignment(horizontal="right", vertical="center")
_ALIGNMENTS = {"left": _LEFT, "right": _RIGHT, "center": _CENTER}


def _write_value(cell: Cell, value: Any, kind: str) -> None:
    if value is None:
        return
    if isinstance(value, Decimal):
        cell.value = value
        if kind == MONEY:
            cell.number_format = "0.00##"
        elif kind == PERCENT:
            cell.number_format = "0.00%"
        else:
            cell.number_format = "General"
        return
    set_text(cell, str(value))


def write_form_sheet(
    ws: Worksheet,
    form_data: FormData,
    result: ScoreResult | None = None,
    *,
    signature: layout.Signature | None = None,
    with_grade: bool = True,
) -> None:
    """Fill a worksheet with one form in the official layout, ready to print on A4.

    ``with_grade``: the grade beside the total (only a form handed in is graded).
    """
    grid = form_grid(form_data, result, signature=signature, with_grade=with_grade)
    last_row = max(c.row + c.rows - 1 for c in grid)
    header_row = next(
        c.row for c in grid if c.col == 2 and c.value == layout.indicator_headings()[0]
    )
    for cell in grid:
        target = ws.cell(row=cell.row, column=cell.col)
        _write_value(target, cell.value, cell.kind)
        if cell.rows > 1 or cell.cols > 1:
            ws.merge_cells(
                start_row=cell.row,
                start_column=cell.col,
                end_row=cell.row + cell.rows - 1,
                end_column=cell.col + cell.cols - 1,
            )
        if cell.kind == TITLE:
            target.font = _TITLE_FONT if cell.row == 1 else _YEAR_FONT
            target.alignment = _CENTER
            continue
        target.font = _HEAD_FONT if cell.kind == HEAD else _FONT
        target.alignment = _ALIGNMENTS.get(cell.align, _CENTER)
        # Every grid position of a merged cell gets the border, or Excel draws gaps.
        for r in range(cell.row, cell.row + cell.rows):
            for c in range(cell.col, cell.col + cell.cols):
                ws.cell(row=r, column=c).border = _BORDER

    for col, width in enumerate(COLUMN_WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.row_dimensions[1].height = 30
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_PORTRAIT
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.print_area = f"A1:{get_column_letter(COLUMNS)}{last_row}"
    ws.oddFooter.center.text = _("第 &P 页，共 &N 页")


def sheet_title(index: int, project_name: str, taken: set[str]) -> str:
    """A unique sheet name of at most 31 characters: 序号_项目名称."""
    base = safe_sheet_title(f"{index}_{project_name}", str(index))
    title, n = base, 1
    # Excel compares sheet names without regard to case.
    while title.casefold() in taken or title == FLAT_SHEET_TITLE:
        n += 1
        suffix = f"~{n}"
        title = fit_utf16(base, SHEET_TITLE_MAX_LENGTH - len(suffix)) + suffix
    taken.add(title.casefold())
    return title


FLAT_HEADERS = (
    N_("年度"),
    N_("主管部门"),
    N_("实施单位"),
    N_("项目名称"),
    N_("状态"),
    N_("序号"),
    N_("一级指标"),
    N_("二级指标"),
    N_("三级指标"),
    N_("年度指标值"),
    N_("实际完成值"),
    N_("分值"),
    N_("得分"),
    N_("规则建议得分"),
    N_("得分差异"),
    N_("偏差原因分析及改进措施"),
)


def _flat_rows(form_data: FormData, result: ScoreResult, status: str) -> Iterable[list[Any]]:
    status_label = Status(status).label if status in Status.values else status
    for i, ind in enumerate(form_data.indicators):
        suggested = result.indicators[i].suggested_score if i < len(result.indicators) else None
        difference = (
            ind.score - suggested if ind.score is not None and suggested is not None else None
        )
        yield [
            form_data.year,
            form_data.department,
            form_data.implementing_unit,
            form_data.project_name,
            str(status_label),
            i + 1,
            ind.level1,
            ind.level2,
            ind.name,
            ind.target,
            ind.actual,
            ind.weight,
            ind.score,
            suggested,
            difference,
            ind.deviation,
        ]


def write_workbook(evaluations: Iterable[Evaluation], target: IO[bytes]) -> int:
    """Write the evaluations to an .xlsx file: one sheet per form, then the flat sheet."""
    wb = Workbook()
    flat = wb.active
    flat.title = safe_sheet_title(FLAT_SHEET_TITLE)
    for col, header in enumerate(FLAT_HEADERS, start=1):
        cell = flat.cell(row=1, column=col)
        set_text(cell, _(header))
        cell.font = _HEAD_FONT
    flat.freeze_panes = "A2"
    taken: set[str] = set()
    count = 0
    rules = RulesCache()
    # Whether each form is on its year's due list, without a query per form.
    years = campaign_years()
    for evaluation in evaluations:
        count += 1
        evaluation.year_has_campaign = evaluation.year in years  # type: ignore[attr-defined]
        form = evaluation.as_form_data()
        result = evaluate(form, rules.rules(evaluation))
        ws = wb.create_sheet(sheet_title(count, evaluation.project_name, taken), index=count - 1)
        write_form_sheet(
            ws,
            form,
            result,
            signature=signature_of(evaluation),
            with_grade=evaluation.is_handed_in,
        )
        for values in _flat_rows(form, result, evaluation.status):
            flat.append([None] * len(values))
            row = flat.max_row
            for col, value in enumerate(values, start=1):
                cell = flat.cell(row=row, column=col)
                if isinstance(value, str):
                    set_text(cell, value)
                else:
                    cell.value = value
    for col, width in enumerate(
        (8, 24, 20, 30, 8, 6, 12, 14, 30, 14, 14, 7, 7, 10, 9, 40), start=1
    ):
        flat.column_dimensions[get_column_letter(col)].width = width
    flat.auto_filter.ref = f"A1:{get_column_letter(len(FLAT_HEADERS))}{max(flat.max_row, 1)}"
    if count:
        wb.active = 0
    wb.save(target)
    return count


def evaluations_xlsx(evaluations: Iterable[Evaluation]) -> bytes:
    """The workbook of the evaluations as bytes."""
    buffer = BytesIO()
    write_workbook(evaluations, buffer)
    return buffer.getvalue()
