"""Workbooks (.xlsx): bounded reading of hostile files, and texts written that stay texts.

A workbook is read in two passes over its checked archive (``common/archive.py``), each
within the file's budgets. First our own scan, with lxml's streaming ``iterparse``: it
counts the shared strings and each sheet's rows and cells, finds the last row holding a
value and reads the ``<mergeCell>`` ranges, clipped to ``IMPORT_MAX_SHEET_ROWS`` ×
``IMPORT_MAX_SHEET_COLUMNS``. Then openpyxl in read-only mode reads the values of those
rows only. Why the scan is ours: openpyxl's read-only worksheets have no merged cells,
and in normal mode openpyxl builds an object per merged cell (``J100:XFD1048576`` is
sixteen thousand million of them); neither mode bounds the rows, cells or strings it
parses. The ``<dimension>`` a sheet declares is not used at all: the bounds come from the
rows actually present, so a false one cannot make anything bigger.

Every text cell and sheet title of every workbook the application writes goes through
``set_text`` and ``safe_sheet_title``: what users typed or imported can then neither break
the file (control characters, which XML cannot hold) nor become a formula.

The reading is used by the importer of forms (``evaluations/importer/xlsx.py``), of the list of
projects due (``campaigns/due_list.py``) and of accounts (``departments/accounts_import.py``);
the two tables' imports also share the header search, the texts of a sheet (a formula
refused where asked) and the words of a workbook that cannot be read.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from io import BytesIO
from typing import Any

from django.conf import settings
from lxml import etree
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles import Font
from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_MAX_SIZE
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils.cell import range_boundaries
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.xml.constants import SHARED_STRINGS

from common.archive import (
    NOT_VALID,
    OLE_MAGIC,
    ArchiveRefused,
    Budget,
    CheckedArchive,
    max_markup,
    over_markup,
)
from common.safetext import clean_text, single_line
from common.translation import _

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
class SheetPlan:
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
    try:
        left, top, right, bottom = range_boundaries(ref)
    except (ValueError, TypeError):
        return None
    top, left = top or 1, left or 1
    bottom = min(bottom or rows, rows)
    right = min(right or columns, columns)
    return top, left, bottom, right


def _scan_sheet(archive: CheckedArchive, plan: SheetPlan, budget: Budget, counts: _Counts) -> None:
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


def open_workbook(
    data: bytes, archive: CheckedArchive, *, unscanned: Collection[str] = ()
) -> tuple[Any, list[SheetPlan]]:
    """openpyxl's reader of the workbook (read-only) and a plan for each of its sheets.

    Sheets titled as in ``unscanned`` get an empty plan: they are never read.

    openpyxl's ``ExcelReader.read`` steps are taken one by one so the scan runs after
    the workbook's list of sheets is known and before strings and sheets are parsed;
    document properties, theme, chartsheets, drawings and links are never opened.
    """
    reader = ExcelReader(BytesIO(data), read_only=True, data_only=True, keep_links=False)
    # openpyxl handles each element in Python, some four times slower than the scan's
    # lxml: its reading gets a quarter of the markup (a 200-form export needs 0.17 million).
    reader.archive = _OpenpyxlArchive(archive, Budget(markup=max_markup() // 4))
    reader.valid_files = archive.namelist()
    reader.read_manifest()
    reader.read_workbook()
    plans = [
        SheetPlan(title=sheet.name, path=rel.target)
        for sheet, rel in reader.parser.find_sheets()
        if rel.target in reader.valid_files and "chartsheet" not in (rel.Type or "")
    ]
    scan = Budget()
    counts = _Counts()
    strings = reader.package.find(SHARED_STRINGS)
    if strings is not None and strings.PartName[1:] in reader.valid_files:
        counts.markup += _scan_strings(archive, strings.PartName[1:], scan)
    for plan in plans:
        if plan.title not in unscanned:
            _scan_sheet(archive, plan, scan, counts)
            counts.markup += plan.markup
    # What openpyxl would parse is known now: refuse before it starts rather than midway.
    if counts.markup > reader.archive.budget.markup_limit:
        raise over_markup(reader.archive.budget.markup_limit)
    reader.read_strings()
    apply_stylesheet(reader.archive, reader.wb)
    return reader, plans


# --- rows as a Word table would give them --------------------------------------------------


class CellBudget:
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


def number_format(workbook: Any, style_id: int) -> str:
    """A cell's number format, as openpyxl's read-only cell finds it ("General" if unknown)."""
    styles = workbook._cell_styles
    if not 0 <= style_id < len(styles):
        return "General"
    number = styles[style_id].numFmtId
    if number < BUILTIN_FORMATS_MAX_SIZE:
        return BUILTIN_FORMATS.get(number, "General")
    formats = workbook._number_formats
    index = number - BUILTIN_FORMATS_MAX_SIZE
    return formats[index] if 0 <= index < len(formats) else "General"


Values = dict[int, dict[int, tuple[Any, str]]]  # row -> column -> (value, number format)
Texts = dict[int, dict[int, str]]  # row -> column -> text


class _Formula:
    """The value of a cell holding a formula, when formulas are asked for."""

    def __repr__(self) -> str:
        return "FORMULA"


FORMULA = _Formula()


def sheet_values(
    reader: Any, plan: SheetPlan, *, formulas: bool = False, most_rows: int | None = None
) -> Values:
    """Value and number format of the cells up to the last row and the column limit.

    openpyxl's sheet parser gives the rows the sheet has (ReadOnlyWorksheet would also
    make up every missing row, cell by cell); reading stops at the last row with a value,
    so what follows (rows over the limit, merged ranges) is never handed to openpyxl.
    With ``formulas``, cells are read as written (not Excel's cached results) and a
    formula's value is ``FORMULA``; reading stops after ``most_rows`` rows when given.
    """
    workbook = reader.wb
    columns = max_columns()
    values: Values = {}
    with reader.archive.open(plan.path) as source:
        parser = WorkSheetParser(
            source,
            reader.shared_strings,
            data_only=not formulas,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        for number, cells in parser.parse():
            if 1 <= number <= plan.last_row and number not in values:
                values[number] = {
                    cell["column"]: (
                        FORMULA if formulas and cell["data_type"] == "f" else cell["value"],
                        number_format(workbook, cell["style_id"]),
                    )
                    for cell in cells
                    if 1 <= cell["column"] <= columns
                }
            if number == plan.last_row or (most_rows is not None and len(values) > most_rows):
                break
    return values


def sheet_texts(
    values: Values, budget: CellBudget, on_formula: Callable[[int, int], None] | None = None
) -> Texts:
    """Each cell as one line of text within ``budget``; a formula goes to ``on_formula``.

    One line each: the tables imported hold names, codes, labels and numbers.
    """
    texts: Texts = {}
    for r, row in values.items():
        line: dict[int, str] = {}
        for c, (value, format_) in row.items():
            if value is FORMULA:
                if on_formula is not None:
                    on_formula(r, c)
                continue
            line[c] = budget.take(single_line(cell_text(value, format_)))
        texts[r] = line
    return texts


def header_key(text: str) -> str:
    """A header as compared: no spaces, nothing in brackets ("年初预算数（万元）")."""
    text = "".join(text.split())
    for opening in ("（", "("):
        text = text.split(opening, 1)[0]
    return text


def find_header(
    texts: Texts,
    columns: list[tuple[str, str]],
    is_header: Callable[[dict[str, int]], bool],
    search_rows: int,
) -> tuple[int, dict[str, int]] | None:
    """The first of the first ``search_rows`` rows ``is_header`` accepts, with each key's column.

    ``columns`` are (key, header) pairs; a cell names a key when its ``header_key`` is
    the key's header.
    """
    wanted = {header: key for key, header in columns}
    for r in sorted(texts)[:search_rows]:
        found = {wanted[header_key(t)]: c for c, t in texts[r].items() if header_key(t) in wanted}
        if is_header(found):
            return r, found
    return None


def missing_columns_message(headers: list[str]) -> str:
    """The problem of a header row without some required columns."""
    return _("表头缺少“%(columns)s”列。") % {"columns": "、".join(headers)}


def no_header_message(search_rows: int, columns: list[tuple[str, str]]) -> str:
    """The problem of a sheet whose first rows hold no header row."""
    return _("没有找到表头：前 %(rows)s 行中应有“%(columns)s”等列。") % {
        "rows": search_rows,
        "columns": "、".join(h for _k, h in columns),
    }


@dataclass
class SheetProblem:
    """A problem of an imported workbook at a cell of a sheet (both "" for the whole file)."""

    sheet: str
    cell: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"sheet": self.sheet, "cell": self.cell, "message": self.message}

    @property
    def where(self) -> str:
        """ "应评项目!C7", or the sheet alone."""
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet


def legacy_xls_message(data: bytes) -> str | None:
    """The refusal of an old binary .xls, before anything is read; None for anything else."""
    if data[:4] == OLE_MAGIC:
        return _("这是旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 后再导入。")
    return None


def unreadable_message(error: Exception) -> str:
    """Why a workbook could not be read: the archive checks' refusal, not a workbook, damage."""
    if isinstance(error, ArchiveRefused):
        return error.message
    if isinstance(error, NOT_VALID):
        return _("无法打开 Excel 文件：文件不是有效的 .xlsx 工作簿（%(error)s）。") % {
            "error": type(error).__name__
        }
    return _("无法读取 Excel 文件：%(error)s") % {"error": type(error).__name__}


def sheet_limit_messages(plan: SheetPlan) -> list[str]:
    """What the limits left out of a sheet, in words."""
    problems = []
    if plan.rows_beyond:
        problems.append(
            _("工作表“%(sheet)s”超过%(max)d行（上限），只读取前%(max)d行。")
            % {"sheet": plan.title, "max": max_rows()}
        )
    if plan.clipped:
        problems.append(
            _(
                "工作表“%(sheet)s”的合并单元格 %(ref)s 超出 %(rows)s 行 × %(columns)s 列"
                "（上限），只读取此范围内的部分。"
            )
            % {
                "sheet": plan.title,
                "ref": "、".join(plan.clipped[:3]) + ("…" if len(plan.clipped) > 3 else ""),
                "rows": max_rows(),
                "columns": max_columns(),
            }
        )
    return problems


# --- writing: texts that stay texts --------------------------------------------------------

FORMULA_PREFIXES = ("=", "+", "-", "@")
# What Excel accepts: characters per cell, characters per sheet title.
CELL_MAX_LENGTH = 32767
SHEET_TITLE_MAX_LENGTH = 31


def set_text(cell: Cell, value: str) -> None:
    """Write text that stays text: a leading =, +, - or @ never becomes a formula.

    Characters an .xlsx cannot hold are dropped (``safetext.clean_text``: control
    characters, U+FFFE/U+FFFF, lone surrogates; openpyxl's own ``ILLEGAL_CHARACTERS_RE``
    misses the non-characters, which make Excel refuse the file), so a stored text from
    before the forms cleaned their input still exports.
    """
    value = clean_text(value)[:CELL_MAX_LENGTH]
    cell.value = value
    if value.startswith(FORMULA_PREFIXES):
        cell.data_type = "s"
        cell.quotePrefix = True


def write_headers(sheet: Any, headers: list[str], widths: list[float]) -> None:
    """A template's first row: bold headers, each column's width, frozen below it."""
    for index, (header, width) in enumerate(zip(headers, widths, strict=True), start=1):
        cell = sheet.cell(row=1, column=index)
        set_text(cell, header)
        cell.font = Font(bold=True)
        sheet.column_dimensions[cell.column_letter].width = width
    sheet.freeze_panes = "A2"


def workbook_bytes(workbook: Workbook) -> bytes:
    """The workbook as the bytes of an .xlsx file."""
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()


_SHEET_UNSAFE = re.compile(r"[\[\]:*?/\\]")
_SHEET_SPACES = re.compile(r"\s+")


def fit_utf16(text: str, limit: int) -> str:
    """The longest start of ``text`` of at most ``limit`` UTF-16 units (Excel's count)."""
    while len(text.encode("utf-16-le")) > 2 * limit:
        text = text[:-1]
    return text


def safe_sheet_title(text: str, fallback: str = "Sheet") -> str:
    """A sheet title Excel accepts: no control or forbidden characters, at most 31 long."""
    title = _SHEET_SPACES.sub(" ", clean_text(text))
    title = fit_utf16(_SHEET_UNSAFE.sub("_", title).strip().strip("'"), SHEET_TITLE_MAX_LENGTH)
    title = title.strip().strip("'")
    # "History" is reserved by Excel (in any case).
    if title.casefold() == "history":
        title += "_"
    return title or fallback
