"""Reading forms from .xlsx workbooks laid out like the official form (or our export).

A workbook is read in two passes over its checked archive (``archive.py``), each within
the file's budgets. First our own scan, with lxml's streaming ``iterparse``: it counts
the shared strings and each sheet's rows and cells, finds the last row holding a value
and reads the ``<mergeCell>`` ranges, clipped to ``IMPORT_MAX_SHEET_ROWS`` ×
``IMPORT_MAX_SHEET_COLUMNS``. Then openpyxl in read-only mode reads the values of those
rows only. Why the scan is ours: openpyxl's read-only worksheets have no merged cells,
and in normal mode openpyxl builds an object per merged cell (``J100:XFD1048576`` is
sixteen thousand million of them); neither mode bounds the rows, cells or strings it
parses. The ``<dimension>`` a sheet declares is not used at all: the bounds come from the
rows actually present, so a false one cannot make anything bigger.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from io import BytesIO
from typing import Any

from django.conf import settings

from evaluations.importer.archive import (
    NOT_VALID,
    ArchiveRefused,
    Budget,
    CheckedArchive,
    max_markup,
    open_archive,
    over_markup,
)
from evaluations.importer.parser import too_many_forms
from evaluations.importer.tables import Cell, ParseResult, Problem, Row, _, parse_rows

FLAT_SHEET_TITLE = "指标明细"  # exports.excel writes it; it is not a form
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_VALUE, _INLINE = f"{_NS}c/{_NS}v", f"{_NS}c/{_NS}is"
# Markup of a sheet outside its rows and merged ranges (views, column widths, formats,
# validations ...) or in one row, that the scan holds in memory: a few hundred tags in real
# sheets (checked a read of lxml's at a time, so up to 32 KB more).
SHEET_HELD_MARKUP = 20_000
# What a sheet has after its merged ranges, in the order the format prescribes (Excel
# refuses any other): once one of them starts, no merged range follows.
_AFTER_MERGES = frozenset(
    f"{{http://schemas.openxmlformats.org/spreadsheetml/2006/main}}{name}"
    for name in (
        "phoneticPr",
        "conditionalFormatting",
        "dataValidations",
        "hyperlinks",
        "printOptions",
        "pageMargins",
        "pageSetup",
        "headerFooter",
        "rowBreaks",
        "colBreaks",
        "customProperties",
        "cellWatches",
        "ignoredErrors",
        "smartTags",
        "drawing",
        "legacyDrawing",
        "legacyDrawingHF",
        "picture",
        "oleObjects",
        "controls",
        "webPublishItems",
        "tableParts",
        "extLst",
    )
)
# Characters of all cells of a workbook (IMPORT_MAX_TEXT_CHARACTERS): a real file of 200
# forms holds about a million.


def max_rows() -> int:
    return settings.IMPORT_MAX_SHEET_ROWS


def max_columns() -> int:
    return settings.IMPORT_MAX_SHEET_COLUMNS


def max_cells() -> int:
    """Cells a workbook may have in the rows that are read, and merged cells a sheet may have."""
    return settings.IMPORT_MAX_SHEET_ROWS * settings.IMPORT_MAX_SHEET_COLUMNS


def max_text() -> int:
    return settings.IMPORT_MAX_TEXT_CHARACTERS


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
            # Excel keeps 15 significant digits and shows no more: a computed 57.55 stored as
            # 57.547000000000004 reads as the 57.547 the clerk sees, not as float noise.
            number = Decimal(format(value, ".15g")) if isinstance(value, float) else Decimal(value)
        except InvalidOperation:
            return str(value)
        if "%" in (number_format or ""):
            number *= 100
            return f"{_plain(number)}%"
        return _plain(number)
    return str(value)


def _plain(number: Decimal) -> str:
    return f"{number.normalize():f}" if number.is_finite() else str(number)


# --- the scan ------------------------------------------------------------------------------


@dataclass
class _SheetPlan:
    """What the scan found in one sheet: how far to read and its merged ranges."""

    title: str
    path: str
    last_row: int = 0  # the last row (within the limit) holding a value
    rows_beyond: bool = False  # values below IMPORT_MAX_SHEET_ROWS, not read
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # clipped
    clipped: list[str] = field(default_factory=list)  # merge ranges over the limits
    markup: int = 0  # markup up to the last row with a value (what openpyxl will parse)


@dataclass
class _Counts:
    """Rows and cells the scan met in the whole workbook, and the markup openpyxl will read."""

    rows: int = 0
    cells: int = 0
    markup: int = 0


def _limit_problem(message: str) -> ArchiveRefused:
    return ArchiveRefused(message)


def _too_many_cells() -> ArchiveRefused:
    return ArchiveRefused(
        _("工作簿的单元格超过 %(limit)s 个（%(rows)s 行 × %(columns)s 列，上限），未读取。")
        % {"limit": f"{max_cells():,}", "rows": max_rows(), "columns": max_columns()}
    )


def _iterparse(stream: Any, events: tuple[str, ...], tags: tuple[str, ...]) -> Any:
    from lxml import etree

    return etree.iterparse(
        stream,
        events=events,
        tag=tags,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
    )


def _forget(element: Any) -> None:
    """Free an element and what came before it, so a streamed part never piles up."""
    element.clear()
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


def _scan_strings(archive: CheckedArchive, path: str, budget: Budget) -> int:
    """Refuse more shared strings than a quarter of the cells a workbook may have.

    openpyxl keeps every string and takes some 6 µs for each; a form has a hundred
    distinct texts at most, an exported workbook of 200 forms some 20,000.
    """
    limit = max_cells() // 4
    count = 0
    with archive.open(path, budget) as stream:
        for _event, element in _iterparse(stream, ("end",), (f"{_NS}si",)):
            count += 1
            if count > limit:
                raise _limit_problem(
                    _("工作簿中的文字条目超过 %(limit)s 个（上限），未读取。")
                    % {"limit": f"{limit:,}"}
                )
            _forget(element)
        return stream.markup


def _row_number(text: str | None, previous: int) -> int:
    if text is None:
        return previous + 1
    try:
        return int(text)
    except ValueError:
        number = float(text)  # openpyxl accepts "3.0"; anything else is not a workbook
        if not number.is_integer():
            raise
        return int(number)


def _clip_merge(ref: str, rows: int, columns: int) -> tuple[int, int, int, int] | None:
    """A merge range as (top, left, bottom, right) clipped to the limits; None if unreadable."""
    from openpyxl.utils.cell import range_boundaries

    try:
        left, top, right, bottom = range_boundaries(ref)
    except (ValueError, TypeError):
        return None
    top, left = top or 1, left or 1
    bottom = min(bottom or rows, rows)
    right = min(right or columns, columns)
    return top, left, bottom, right


def _scan_sheet(archive: CheckedArchive, plan: _SheetPlan, budget: Budget, counts: _Counts) -> None:
    """Fill the plan of a sheet, counting its rows and cells into the workbook's."""
    rows_limit, columns_limit, cells_limit = max_rows(), max_columns(), max_cells()
    merged_cells = 0
    row_number = 0
    rows_done = False
    with archive.open(plan.path, budget) as stream:
        # Elements the scan has no event for (column widths, formats, hyperlinks ...) stay
        # in the tree until the next row or merged range frees them: bounded.
        stream.hold(
            SHEET_HELD_MARKUP,
            _limit_problem(
                _(
                    "工作表“%(sheet)s”中表格以外的内容过多（超过 %(limit)s 个 XML 标记，上限），未读取。"
                )
                % {"sheet": plan.title, "limit": f"{SHEET_HELD_MARKUP:,}"}
            ),
        )
        tags = (f"{_NS}sheetData", f"{_NS}row", f"{_NS}mergeCell", f"{_NS}mergeCells")
        for _event, element in _iterparse(stream, ("end",), (*tags, *_AFTER_MERGES)):
            tag = element.tag
            if tag == f"{_NS}sheetData":
                rows_done = True
                continue
            if tag == f"{_NS}mergeCells" or tag in _AFTER_MERGES:
                if rows_done:
                    break  # no merged range after this: the rest is never read
                continue
            if tag == f"{_NS}row":
                row_number = _row_number(element.get("r"), row_number)
                has_value = len(element) and (
                    element.find(_VALUE) is not None or element.find(_INLINE) is not None
                )
                # Every row and cell counts, read or not: openpyxl parses a whole row at
                # a time, and each row costs the scan a step.
                counts.rows += 1
                if counts.rows > cells_limit:
                    raise _limit_problem(
                        _("工作簿中的行（含空行）超过 %(limit)s 个（上限），未读取。")
                        % {"limit": f"{cells_limit:,}"}
                    )
                counts.cells += len(element)
                if counts.cells > cells_limit:
                    raise _too_many_cells()
                if row_number <= rows_limit:
                    if has_value and row_number >= plan.last_row:
                        plan.last_row = row_number
                        plan.markup = stream.markup  # at most one read more
                elif has_value:
                    plan.rows_beyond = True
            else:  # mergeCell
                ref = element.get("ref") or ""
                bounds = _clip_merge(ref, rows_limit, columns_limit)
                if bounds is not None:
                    top, left, bottom, right = bounds
                    full = _clip_merge(ref, 1 << 20, 1 << 14)
                    if full != bounds and len(plan.clipped) < 4:
                        plan.clipped.append(ref)
                    if top <= bottom and left <= right:
                        merged_cells += (bottom - top + 1) * (right - left + 1)
                        if merged_cells > cells_limit:
                            raise _limit_problem(
                                _(
                                    "工作表“%(sheet)s”的合并单元格超过 %(limit)s 个（上限），未读取。"
                                )
                                % {"sheet": plan.title, "limit": f"{cells_limit:,}"}
                            )
                        plan.merges.append(bounds)
            _forget(element)
            stream.release()
    # Ranges below the last value change nothing that is read.
    plan.merges = [
        (top, left, min(bottom, plan.last_row), right)
        for top, left, bottom, right in plan.merges
        if top <= plan.last_row
    ]


# --- openpyxl over the checked archive -----------------------------------------------------


class _OpenpyxlArchive:
    """What openpyxl sees of the archive: the same entries, every read within one budget."""

    filename = "workbook.xlsx"  # openpyxl names it in some messages

    def __init__(self, archive: CheckedArchive, budget: Budget) -> None:
        self._archive = archive
        self.budget = budget

    def namelist(self) -> list[str]:
        return self._archive.namelist()

    def read(self, name: str) -> bytes:
        return self._archive.read(name, self.budget)

    def open(self, name: str, mode: str = "r") -> Any:
        return self._archive.open(name, self.budget)

    def close(self) -> None:
        pass


def _open_workbook(data: bytes, archive: CheckedArchive) -> tuple[Any, list[_SheetPlan]]:
    """openpyxl's reader of the workbook (read-only) and a plan for each of its sheets.

    openpyxl's ``ExcelReader.read`` steps are taken one by one so the scan runs after
    the workbook's list of sheets is known and before strings and sheets are parsed;
    document properties, theme, chartsheets, drawings and links are never opened.
    """
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet
    from openpyxl.xml.constants import SHARED_STRINGS

    reader = ExcelReader(BytesIO(data), read_only=True, data_only=True, keep_links=False)
    # openpyxl handles each element in Python, some four times slower than the scan's
    # lxml: its reading gets a quarter of the markup (a 200-form export needs 0.17 million).
    reader.archive = _OpenpyxlArchive(archive, Budget(markup=max_markup() // 4))
    reader.valid_files = archive.namelist()
    reader.read_manifest()
    reader.read_workbook()
    plans = [
        _SheetPlan(title=sheet.name, path=rel.target)
        for sheet, rel in reader.parser.find_sheets()
        if rel.target in reader.valid_files and "chartsheet" not in (rel.Type or "")
    ]
    scan = Budget()
    counts = _Counts()
    strings = reader.package.find(SHARED_STRINGS)
    if strings is not None and strings.PartName[1:] in reader.valid_files:
        counts.markup += _scan_strings(archive, strings.PartName[1:], scan)
    for plan in plans:
        if plan.title != FLAT_SHEET_TITLE:
            _scan_sheet(archive, plan, scan, counts)
            counts.markup += plan.markup
    # What openpyxl would parse is known now: refuse before it starts rather than midway.
    if counts.markup > reader.archive.budget.markup_limit:
        raise over_markup(reader.archive.budget.markup_limit)
    reader.read_strings()
    apply_stylesheet(reader.archive, reader.wb)
    return reader, plans


# --- rows as a Word table would give them --------------------------------------------------


class _CellBudget:
    """Cells and characters handed to the parser: shared strings may repeat one text everywhere."""

    def __init__(self) -> None:
        self.cells_limit = max_cells()
        self.cells_left = self.cells_limit
        self.text_limit = max_text()
        self.text_left = self.text_limit

    def take(self, text: str) -> str:
        self.cells_left -= 1
        if self.cells_left < 0:
            raise _too_many_cells()
        self.text_left -= len(text)
        if self.text_left < 0:
            raise ArchiveRefused(
                _("工作簿中的文字超过 %(limit)s 字（上限），未读取。")
                % {"limit": f"{self.text_limit:,}"}
            )
        return text


def _number_format(workbook: Any, style_id: int) -> str:
    """A cell's number format, as openpyxl's read-only cell finds it ("General" if unknown)."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_MAX_SIZE

    styles = workbook._cell_styles
    if not 0 <= style_id < len(styles):
        return "General"
    number = styles[style_id].numFmtId
    if number < BUILTIN_FORMATS_MAX_SIZE:
        return BUILTIN_FORMATS.get(number, "General")
    formats = workbook._number_formats
    index = number - BUILTIN_FORMATS_MAX_SIZE
    return formats[index] if 0 <= index < len(formats) else "General"


_Values = dict[int, dict[int, tuple[Any, str]]]  # row -> column -> (value, number format)


def _sheet_values(reader: Any, plan: _SheetPlan) -> _Values:
    """Value and number format of the cells up to the last row and the column limit.

    openpyxl's sheet parser gives the rows the sheet has (ReadOnlyWorksheet would also
    make up every missing row, cell by cell); reading stops at the last row with a value,
    so what follows (rows over the limit, merged ranges) is never handed to openpyxl.
    """
    from openpyxl.worksheet._reader import WorkSheetParser

    workbook = reader.wb
    columns = max_columns()
    values: _Values = {}
    with reader.archive.open(plan.path) as source:
        parser = WorkSheetParser(
            source,
            reader.shared_strings,
            data_only=True,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        for number, cells in parser.parse():
            if 1 <= number <= plan.last_row and number not in values:
                values[number] = {
                    cell["column"]: (cell["value"], _number_format(workbook, cell["style_id"]))
                    for cell in cells
                    if 1 <= cell["column"] <= columns
                }
            if number == plan.last_row:
                break
    return values


def _is_flat(values: _Values) -> bool:
    first = values.get(1, {})
    return [first.get(c, (None, ""))[0] for c in (1, 2, 3)] == ["年度", "主管部门", "实施单位"]


def _sheet_rows(
    values: _Values,
    plan: _SheetPlan,
    places: _Locations,
    budget: _CellBudget,
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


def _sheet_problems(plan: _SheetPlan) -> list[Problem]:
    """What the limits left out of a sheet."""
    problems = []
    if plan.rows_beyond:
        problems.append(
            Problem(
                None,
                _("工作表“%(sheet)s”超过%(max)d行（上限），只读取前%(max)d行。")
                % {"sheet": plan.title, "max": max_rows()},
            )
        )
    if plan.clipped:
        problems.append(
            Problem(
                None,
                _(
                    "工作表“%(sheet)s”的合并单元格 %(ref)s 超出 %(rows)s 行 × %(columns)s 列"
                    "（上限），只读取此范围内的部分。"
                )
                % {
                    "sheet": plan.title,
                    "ref": "、".join(plan.clipped[:3]) + ("…" if len(plan.clipped) > 3 else ""),
                    "rows": max_rows(),
                    "columns": max_columns(),
                },
            )
        )
    return problems


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
        form.sheet = sheet
        for funding in form.funding:
            funding.line = places.row_of(funding.line)
        for indicator in form.indicators:
            indicator.line = places.row_of(indicator.line)


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
        archive = open_archive(data)
        reader, plans = _open_workbook(data, archive)
        places = _Locations()
        budget = _CellBudget()
        sheets: list[tuple[_SheetPlan, list[Row]]] = []
        for plan in plans:
            if not plan.last_row:
                continue
            values = _sheet_values(reader, plan)
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
        problems = _sheet_problems(plan)
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
