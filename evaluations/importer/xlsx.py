"""Reading forms from .xlsx workbooks laid out like the official form (or our export)."""

from __future__ import annotations

import datetime
import zipfile
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from io import BytesIO
from typing import Any

from evaluations.importer.tables import Cell, ParseResult, Problem, Row, _, parse_rows

FLAT_SHEET_TITLE = "指标明细"  # evaluations.excel writes it; it is not a form
MAX_ROWS = 5000
MAX_COLUMNS = 40
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"


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
        from openpyxl.utils import get_column_letter

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


def cell_text(value: Any, number_format: str = "General") -> str:
    """A cell's value as the text a reader sees (numbers without float noise)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, datetime.datetime | datetime.date):
        return _("%(year)d年%(month)d月%(day)d日") % {
            "year": value.year,
            "month": value.month,
            "day": value.day,
        }
    if isinstance(value, int | float | Decimal):
        try:
            number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        except InvalidOperation:
            return str(value)
        if "%" in (number_format or ""):
            number *= 100
            return f"{_plain(number)}%"
        return _plain(number)
    return str(value)


def _plain(number: Decimal) -> str:
    text = f"{number.normalize():f}" if number == number.to_integral_value() else f"{number:f}"
    return text


def _used_width(ws: Any, merged: dict[tuple[int, int], tuple[int, int, int, int]]) -> int:
    """The last column holding a value or a merged cell: formatted blanks beyond it are not cells."""
    width = max((c for _r, c in merged), default=0)
    for row in ws.iter_rows(max_row=min(ws.max_row or 0, MAX_ROWS), max_col=MAX_COLUMNS):
        for cell in reversed(row):
            if cell.value is not None and str(cell.value).strip():
                width = max(width, cell.column)
                break
    return min(width, MAX_COLUMNS)


def _sheet_rows(ws: Any, sheet: str, places: _Locations, problems: list[Problem]) -> list[Row]:
    """The sheet's rows as a Word table would give them: merged cells once, then blanks."""
    merged: dict[tuple[int, int], tuple[int, int, int, int]] = {}
    for rng in ws.merged_cells.ranges:
        bounds = (rng.min_row, rng.min_col, rng.max_row, rng.max_col)
        for r in range(rng.min_row, min(rng.max_row, MAX_ROWS) + 1):
            for c in range(rng.min_col, min(rng.max_col, MAX_COLUMNS) + 1):
                merged[(r, c)] = bounds
    max_row = ws.max_row or 0
    max_col = _used_width(ws, merged)
    if max_row > MAX_ROWS:
        problems.append(
            Problem(
                None,
                _("工作表“%(sheet)s”超过%(max)d行，只读取前%(max)d行。")
                % {"sheet": sheet, "max": MAX_ROWS},
            )
        )
        max_row = MAX_ROWS
    rows: list[Row] = []
    for r in range(1, max_row + 1):
        cells: list[Cell] = []
        for c in range(1, max_col + 1):
            bounds = merged.get((r, c))
            if bounds is not None:
                top, left = bounds[0], bounds[1]
                if c != left:
                    continue  # a horizontal merge is one cell, as in a Word table
                if r != top:
                    cells.append(Cell(text="", line=places.add(sheet, r, c)))
                    continue
            source = ws.cell(row=r, column=c)
            cells.append(
                Cell(
                    text=cell_text(source.value, source.number_format), line=places.add(sheet, r, c)
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
        for funding in form.funding:
            funding.line = places.row_of(funding.line)
        for indicator in form.indicators:
            indicator.line = places.row_of(indicator.line)


def _is_flat_sheet(ws: Any) -> bool:
    if ws.title == FLAT_SHEET_TITLE:
        return True
    first = [ws.cell(row=1, column=c).value for c in (1, 2, 3)]
    return first == ["年度", "主管部门", "实施单位"]


def parse_xlsx(data: bytes) -> ParseResult:
    """Read every form of a workbook; never raises, problems name the sheet and cell."""
    result = ParseResult()
    if data[:4] == _OLE_MAGIC:
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
        from openpyxl import load_workbook

        workbook = load_workbook(BytesIO(data), data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as error:
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

    places = _Locations()
    sheets_with_content = 0
    for ws in workbook.worksheets:
        if _is_flat_sheet(ws):
            continue
        sheet = ws.title
        problems: list[Problem] = []
        rows = _sheet_rows(ws, sheet, places, problems)
        if not rows:
            continue
        sheets_with_content += 1
        forms, parse_problems = parse_rows(rows)
        parsed = ParseResult(forms=forms, problems=parse_problems)
        _relocate(parsed, sheet, places)
        result.forms.extend(parsed.forms)
        result.problems.extend(problems + _layout_problems(rows, sheet, places) + parsed.problems)
    if not sheets_with_content:
        result.problems.append(Problem(None, _("工作簿是空的：没有找到任何内容。")))
    return result
