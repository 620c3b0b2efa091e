"""Reading forms from .xlsx workbooks laid out like the official form (or our export).

The workbook is read within the import limits by ``common/xlsx.py`` (bounded reading over
the checked archive); this module turns each sheet's cells into the rows a Word table
would give (merged cells once, then blanks) and hands them to the parser of forms, with
every problem naming its sheet and cell.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from openpyxl.utils import get_column_letter

from common.archive import NOT_VALID, OLE_MAGIC, ArchiveRefused, open_archive
from common.translation import _
from common.xlsx import (
    CellBudget,
    SheetPlan,
    Values,
    cell_text,
    max_columns,
    open_workbook,
    sheet_limit_messages,
    sheet_values,
)
from evaluations.importer.indicator_columns import SPLIT_TARGET_COLUMNS
from evaluations.importer.parser import too_many_forms
from evaluations.importer.tables import Cell, ParseResult, Problem, Row, parse_rows

FLAT_SHEET_TITLE = "指标明细"  # exports.excel writes it; it is not a form


@dataclass(frozen=True)
class _Where:
    """Where a cell lives in the workbook."""

    sheet: str
    coordinate: str
    row: int


class _Locations:
    """Hands out a unique id per cell (Cell.line) and turns it back into sheet and cell."""

    def __init__(self) -> None:
        self.places: dict[int, _Where] = {}

    def add(self, sheet: str, row: int, column: int) -> int:
        key = len(self.places) + 1
        self.places[key] = _Where(sheet, f"{get_column_letter(column)}{row}", row)
        return key

    def row_of(self, key: int | None) -> int | None:
        where = self.places.get(key) if key is not None else None
        return where.row if where else None

    def message(self, sheet: str, key: int | None, message: str) -> str:
        where = self.places.get(key) if key is not None else None
        if where is None:
            return _("工作表“%(sheet)s”：%(message)s") % {"sheet": sheet, "message": message}
        return _("工作表“%(sheet)s”单元格 %(cell)s：%(message)s") % {
            "sheet": where.sheet,
            "cell": where.coordinate,
            "message": message,
        }


def _is_flat(values: Values) -> bool:
    first = values.get(1, {})
    return [first.get(c, (None, ""))[0] for c in (1, 2, 3)] == ["年度", "主管部门", "实施单位"]


def _sheet_rows(
    values: Values,
    plan: SheetPlan,
    places: _Locations,
    budget: CellBudget,
) -> list[Row]:
    """The sheet's rows as a Word table would give them: merged cells once, then blanks."""
    sheet = plan.title
    merged: dict[tuple[int, int], tuple[int, int, int, int]] = {}
    for bounds in plan.merges:
        top, left, bottom, right = bounds
        for r in range(top, bottom + 1):
            for c in range(left, right + 1):
                merged[(r, c)] = bounds
    # The last column holding a value or a merged cell: formatted blanks beyond are not cells.
    width = max((c for _r, c in merged), default=0)
    for row in values.values():
        for c, (value, _format) in row.items():
            if c > width and value is not None and str(value).strip():
                width = c
    width = min(width, max_columns())
    rows: list[Row] = []
    # A row without a value gives no row (its cells would all be blank), so only rows with
    # values are walked.
    for r in sorted(values):
        row = values[r]
        if not any(value is not None and str(value).strip() for value, _f in row.values()):
            continue
        cells: list[Cell] = []
        for c in range(1, width + 1):
            bounds = merged.get((r, c))
            if bounds is not None:
                top, left = bounds[0], bounds[1]
                if c != left:
                    continue  # a horizontal merge is one cell, as in a Word table
                if r != top:
                    cells.append(Cell(text=budget.take(""), line=places.add(sheet, r, c)))
                    continue
            value, number_format = row.get(c, (None, "General"))
            cells.append(
                Cell(
                    text=budget.take(cell_text(value, number_format)),
                    line=places.add(sheet, r, c),
                )
            )
        if any(cell.text.strip() for cell in cells):
            rows.append(Row(cells=cells, line=cells[0].line))
    return rows


def _layout_problems(rows: list[Row], sheet: str, places: _Locations) -> list[Problem]:
    """Rows of the indicator table whose cells do not line up with its header row."""
    problems = []
    width = None
    for row in rows:
        texts = ["".join(c.text.split()) for c in row.cells]
        if "一级指标" in texts:
            width = len(row.cells)
            continue
        if width is None:
            continue
        if any(t in SPLIT_TARGET_COLUMNS for t in texts):
            # 年度指标值 split under a second header row: its parts are the table's columns.
            width = len(row.cells)
            continue
        first = next((t for t in texts if t), "")
        if first.startswith("总分") or "绩效自评表" in first:
            width = None
            continue
        if len(row.cells) != width and len(row.cells) > 1:
            problems.append(
                Problem(
                    places.row_of(row.line),
                    places.message(
                        sheet,
                        row.line,
                        _(
                            "本行有%(count)d个单元格，指标表头有%(width)d个：合并单元格与表样不一致，"
                            "请核对本行各列是否读对。"
                        )
                        % {"count": len(row.cells), "width": width},
                    ),
                )
            )
    return problems


def _relocate(result: ParseResult, sheet: str, places: _Locations) -> None:
    """Turn cell ids back into sheet rows and put sheet and cell into every message."""
    for problem in result.problems:
        problem.message = places.message(sheet, problem.line, problem.message)
        problem.line = places.row_of(problem.line)
    for form in result.forms:
        form.line = places.row_of(form.line)
        form.sheet = sheet
        for funding in form.funding:
            funding.line = places.row_of(funding.line)
        for indicator in form.indicators:
            indicator.line = places.row_of(indicator.line)


def parse_xlsx(data: bytes) -> ParseResult:
    """Read every form of a workbook; never raises, problems name the sheet and cell."""
    result = ParseResult()
    if data[:4] == OLE_MAGIC:
        result.problems.append(
            Problem(
                None,
                _(
                    "这是旧版 Excel（.xls）或其他 Office 二进制文件，请在 Excel 中另存为 .xlsx 后再导入。"
                ),
            )
        )
        return result
    try:
        archive = open_archive(data)
        reader, plans = open_workbook(data, archive, unscanned={FLAT_SHEET_TITLE})
        places = _Locations()
        budget = CellBudget()
        sheets: list[tuple[SheetPlan, list[Row]]] = []
        for plan in plans:
            if not plan.last_row:
                continue
            values = sheet_values(reader, plan)
            if _is_flat(values):
                continue
            sheets.append((plan, _sheet_rows(values, plan, places, budget)))
    except ArchiveRefused as refused:
        result.problems.append(Problem(None, refused.message))
        return result
    except NOT_VALID as error:
        result.problems.append(
            Problem(
                None,
                _("无法打开 Excel 文件：文件不是有效的 .xlsx 工作簿（%(error)s）。")
                % {"error": type(error).__name__},
            )
        )
        return result
    except Exception as error:  # noqa: BLE001 - a damaged workbook must become a report
        result.problems.append(
            Problem(
                None,
                _("无法读取 Excel 文件：%(error)s") % {"error": type(error).__name__},
            )
        )
        return result

    sheets_with_content = 0
    for plan, rows in sheets:
        sheet = plan.title
        problems = [Problem(None, message) for message in sheet_limit_messages(plan)]
        if not rows:
            continue
        sheets_with_content += 1
        forms, parse_problems = parse_rows(rows)
        if len(result.forms) + len(forms) > settings.IMPORT_MAX_FORMS_PER_FILE or (
            not forms and too_many_forms() in parse_problems
        ):
            return ParseResult(problems=[too_many_forms()])
        parsed = ParseResult(forms=forms, problems=parse_problems)
        _relocate(parsed, sheet, places)
        result.forms.extend(parsed.forms)
        result.problems.extend(problems + _layout_problems(rows, sheet, places) + parsed.problems)
    if not sheets_with_content:
        result.problems.append(Problem(None, _("工作簿是空的：没有找到任何内容。")))
    return result
