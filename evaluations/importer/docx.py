"""Reading forms from .docx files: title paragraphs and tables, as the text dumps show them."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from evaluations.importer.tables import Cell, ParseResult, Problem, Row, _, parse_rows

_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
MAX_ROWS = 20000


@dataclass(frozen=True)
class _Where:
    """Where a cell lives in the document: its row number, table and column."""

    line: int  # running number of paragraphs and table rows
    table: int | None  # 1-based table number, None for a paragraph
    row: int  # row within the table
    column: int  # cell within the row


class _Locations:
    """Hands out a unique id per cell (Cell.line) and turns it back into a place."""

    def __init__(self) -> None:
        self.places: dict[int, _Where] = {}

    def add(self, where: _Where) -> int:
        key = len(self.places) + 1
        self.places[key] = where
        return key

    def line_of(self, key: int | None) -> int | None:
        where = self.places.get(key) if key is not None else None
        return where.line if where else None

    def message(self, key: int | None, message: str) -> str:
        where = self.places.get(key) if key is not None else None
        if where is None:
            return message
        if where.table is None:
            return _("第%(line)d段：%(message)s") % {"line": where.line, "message": message}
        return _("表格%(table)d 第%(row)d行第%(column)d格：%(message)s") % {
            "table": where.table,
            "row": where.row,
            "column": where.column,
            "message": message,
        }


def _table_rows(table: Any, number: int, line: int, places: _Locations) -> list[Row]:
    """A table's rows with one cell per <w:tc>: a cell merged down from above reads blank."""
    from docx.table import _Cell

    rows: list[Row] = []
    for r, tr in enumerate(table._tbl.tr_lst, start=1):
        line += 1
        cells = []
        for c, tc in enumerate(tr.tc_lst, start=1):
            key = places.add(_Where(line, number, r, c))
            # vMerge="continue": the cell continues the one above; its text is printed once.
            text = "" if tc.vMerge == "continue" else _Cell(tc, table).text
            cells.append(Cell(text=text, line=key))
        if cells:
            rows.append(Row(cells=cells, line=cells[0].line))
    return rows


def document_rows(document: Any, places: _Locations) -> list[Row]:
    """Paragraphs (one cell each) and table rows of the document body, in order."""
    from docx.table import Table

    rows: list[Row] = []
    line = 0
    tables = 0
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            tables += 1
            table_rows = _table_rows(block, tables, line, places)
            line += len(block._tbl.tr_lst)
            rows.extend(table_rows)
        else:
            line += 1
            text = block.text
            if text.strip():
                key = places.add(_Where(line, None, 0, 0))
                rows.append(Row(cells=[Cell(text=text, line=key)], line=key))
        if len(rows) > MAX_ROWS:
            break
    return rows


def parse_docx(data: bytes) -> ParseResult:
    """Read every form of a Word document; never raises, problems name table, row and cell."""
    result = ParseResult()
    if data[:4] == _OLE_MAGIC:
        result.problems.append(
            Problem(None, _("这是旧版 Word（.doc）文件，请在 Word 中另存为 .docx 后再导入。"))
        )
        return result
    try:
        import docx

        document = docx.Document(BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        result.problems.append(
            Problem(
                None,
                _("无法打开 Word 文件：文件不是有效的 .docx 文档（%(error)s）。")
                % {"error": type(error).__name__},
            )
        )
        return result
    except Exception as error:  # noqa: BLE001 - a damaged document must become a report
        result.problems.append(
            Problem(None, _("无法读取 Word 文件：%(error)s") % {"error": type(error).__name__})
        )
        return result

    places = _Locations()
    try:
        rows = document_rows(document, places)
    except Exception as error:  # noqa: BLE001 - unexpected XML must become a report
        result.problems.append(
            Problem(
                None, _("读取 Word 文件内容时出错：%(error)s") % {"error": type(error).__name__}
            )
        )
        return result
    if not rows:
        result.problems.append(Problem(None, _("文档是空的：没有找到任何段落或表格。")))
        return result
    forms, problems = parse_rows(rows)
    for problem in problems:
        problem.message = places.message(problem.line, problem.message)
        problem.line = places.line_of(problem.line)
    for form in forms:
        form.line = places.line_of(form.line)
        for funding in form.funding:
            funding.line = places.line_of(funding.line)
        for indicator in form.indicators:
            indicator.line = places.line_of(indicator.line)
    result.forms = forms
    result.problems = problems
    return result
