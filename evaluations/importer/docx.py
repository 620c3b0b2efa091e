"""Reading forms from .docx files: title paragraphs and tables, as the text dumps show them.

Why not python-docx's ``Document()``: it reads every part of the package into memory and
parses ``word/document.xml`` into one lxml tree, some thirty times the XML in memory, so
a 1 MB file of empty paragraphs took 5.4 GB; and its text properties take a Python step
per run and per run element (seconds for a document of many runs). Here the archive is
checked first (``common/archive.py``), then ``word/document.xml`` is streamed through lxml's
pull parser, keeping one paragraph or table row of the body in memory at a time, and
the text of each is taken with one compiled XPath, by python-docx's rules (``Paragraph
.text``, ``_Cell.text``, ``CT_Tc.vMerge``; tests/evaluations/importer/test_import_limits.py compares the two).
Paragraphs and table rows are counted as they come and the file is refused past
``IMPORT_MAX_DOCUMENT_ROWS``.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from lxml import etree

from common.archive import (
    NOT_VALID,
    OLE_MAGIC,
    ArchiveRefused,
    Budget,
    CheckedArchive,
    open_archive,
)
from common.translation import _
from evaluations.importer.tables import Cell, ParseResult, Problem, Row, parse_rows

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_CONTENT_TYPES = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_RELATIONSHIPS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_OFFICE_DOCUMENT = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
)
# The main part of a Word document, a template, and their macro-enabled kinds.
_MAIN_TYPES = frozenset(
    {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
        "application/vnd.ms-word.document.macroEnabled.main+xml",
        "application/vnd.ms-word.template.macroEnabledTemplate.main+xml",
    }
)
_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
# python-docx's Paragraph.text: the runs of the paragraph and of its hyperlinks (not those
# inside insertions, fields or content controls), and in each run these elements.
_RUN_CONTENT = ("br", "cr", "noBreakHyphen", "ptab", "t", "tab")
_TEXT_ELEMENTS = " | ".join(
    f"{parent}/w:{name}" for parent in ("w:r", "w:hyperlink/w:r") for name in _RUN_CONTENT
)
_PARAGRAPH_ELEMENTS = etree.XPath(_TEXT_ELEMENTS, namespaces={"w": _W_NS})
_TEXT = {f"{_W}tab": "\t", f"{_W}ptab": "\t", f"{_W}cr": "\n", f"{_W}noBreakHyphen": "-"}
_BR, _T, _BR_TYPE = f"{_W}br", f"{_W}t", f"{_W}type"
_VMERGE_VAL = f"{_W}val"
# Markup of one paragraph or table row (with what stands between two of them): a row of
# the official form has a few hundred tags; a larger one would sit whole in memory.
BLOCK_MARKUP = 100_000
_CHUNK = 64 * 1024


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


class _NotADocument(Exception):
    """The package has no Word document part."""


def _main_part(archive: CheckedArchive, budget: Budget) -> str:
    """The name of the document part, from the package relationships and content types."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    rels = etree.fromstring(archive.read("_rels/.rels", budget), parser)
    target = next(
        (
            rel.get("Target") or ""
            for rel in rels.iter(f"{_RELATIONSHIPS}Relationship")
            if rel.get("Type") == _OFFICE_DOCUMENT and rel.get("TargetMode") != "External"
        ),
        None,
    )
    if not target:
        raise _NotADocument("no officeDocument relationship")
    name = posixpath.normpath(target.lstrip("/"))
    types = etree.fromstring(archive.read("[Content_Types].xml", budget), parser)
    content_type = next(
        (
            override.get("ContentType")
            for override in types.iter(f"{_CONTENT_TYPES}Override")
            if (override.get("PartName") or "").lstrip("/") == name
        ),
        None,
    )
    if content_type not in _MAIN_TYPES:
        raise _NotADocument(f"content type {content_type}")
    return name


class _Reader:
    """Turns the body's paragraphs and table rows into rows of cells, one at a time."""

    def __init__(self, places: _Locations) -> None:
        self.places = places
        self.rows: list[Row] = []
        self.line = 0  # running number of paragraphs and table rows
        self.tables = 0
        self.table: Any = None  # the body-level table whose rows are coming
        self.table_row = 0
        self.row_limit = settings.IMPORT_MAX_DOCUMENT_ROWS
        self.text_limit = settings.IMPORT_MAX_TEXT_CHARACTERS
        self.text_left = self.text_limit

    def count_line(self) -> None:
        self.line += 1
        if self.line > self.row_limit:
            raise ArchiveRefused(
                _("文档的段落和表格行超过 %(limit)s 个（上限），未读取。")
                % {"limit": f"{self.row_limit:,}"}
            )

    def text(self, text: str) -> str:
        self.text_left -= len(text)
        if self.text_left < 0:
            raise ArchiveRefused(
                _("文档中的文字超过 %(limit)s 字（上限），未读取。")
                % {"limit": f"{self.text_limit:,}"}
            )
        return text

    def element(self, element: Any) -> bool:
        """Take an element at its end; True when it was a block of the body (now dropped)."""
        tag = element.tag
        parent = element.getparent()
        if parent is None:
            return False
        if tag == f"{_W}tr":
            table = parent
            holder = table.getparent()
            if holder is None or holder.tag != f"{_W}body":
                return False  # a row of a table inside a cell: part of that cell
            if table is not self.table:
                self.table = table
                self.tables += 1
                self.table_row = 0
            self.table_row += 1
            self.count_line()
            self.table_row_cells(element)
            _drop(element)
            return True
        if parent.tag != f"{_W}body":
            return False
        if tag == f"{_W}p":
            self.count_line()
            text = self.text(paragraph_text(element))
            if text.strip():
                key = self.places.add(_Where(self.line, None, 0, 0))
                self.rows.append(Row(cells=[Cell(text=text, line=key)], line=key))
        elif tag == f"{_W}tbl" and element is not self.table:
            self.tables += 1  # a table without rows still has its number
        if tag == f"{_W}tbl":
            self.table = None
        _drop(element)
        return True

    def table_row_cells(self, tr: Any) -> None:
        """One cell per <w:tc>: a cell merged down from above reads blank."""
        cells = []
        for c, tc in enumerate(tr.iterchildren(f"{_W}tc"), start=1):
            key = self.places.add(_Where(self.line, self.tables, self.table_row, c))
            # vMerge="continue": the cell continues the one above; its text is printed once.
            if _vmerge(tc) == "continue":
                text = ""
            else:
                text = self.text("\n".join(paragraph_text(p) for p in tc.iterchildren(f"{_W}p")))
            cells.append(Cell(text=text, line=key))
        if cells:
            self.rows.append(Row(cells=cells, line=cells[0].line))


def paragraph_text(paragraph: Any) -> str:
    """A <w:p>'s text as python-docx's ``Paragraph.text`` gives it: tabs, breaks and all."""
    parts = []
    for element in _PARAGRAPH_ELEMENTS(paragraph):
        tag = element.tag
        if tag == _T:
            parts.append(element.text or "")
        elif tag == _BR:
            # A line break is a newline; a page or column break is nothing.
            parts.append("\n" if element.get(_BR_TYPE, "textWrapping") == "textWrapping" else "")
        else:
            parts.append(_TEXT.get(tag, ""))
    return "".join(parts)


def _vmerge(tc: Any) -> str | None:
    """python-docx's ``CT_Tc.vMerge``: None, or the merge's value ("continue" by default)."""
    properties = tc.find(f"{_W}tcPr")
    merge = properties.find(f"{_W}vMerge") if properties is not None else None
    return None if merge is None else merge.get(_VMERGE_VAL, "continue")


def _drop(element: Any) -> None:
    """Free a block of the body and whatever came before it (section marks, bookmarks)."""
    parent = element.getparent()
    element.clear()
    while element.getprevious() is not None:
        del parent[0]
    parent.remove(element)


def document_rows(archive: CheckedArchive, places: _Locations) -> list[Row]:
    """Paragraphs (one cell each) and table rows of the document body, in order."""
    budget = Budget()
    name = _main_part(archive, budget)
    parser = etree.XMLPullParser(
        events=("end",),
        tag=(f"{_W}p", f"{_W}tr", f"{_W}tbl"),
        # As python-docx parses (the same text nodes), and no entities.
        remove_blank_text=True,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
    )
    reader = _Reader(places)
    with archive.open(name, budget) as stream:
        # What is not yet a whole paragraph or row stays in the tree: bounded.
        stream.hold(
            BLOCK_MARKUP,
            ArchiveRefused(
                _("文档中有一个段落或表格行过大（超过 %(limit)s 个 XML 标记，上限），未读取。")
                % {"limit": f"{BLOCK_MARKUP:,}"}
            ),
        )
        while True:
            chunk = stream.read(_CHUNK)
            if chunk:
                parser.feed(chunk)
            else:
                parser.close()
            for _event, element in parser.read_events():
                if reader.element(element):
                    stream.release()
            if not chunk:
                break
    return reader.rows


def parse_docx(data: bytes) -> ParseResult:
    """Read every form of a Word document; never raises, problems name table, row and cell."""
    result = ParseResult()
    if data[:4] == OLE_MAGIC:
        result.problems.append(
            Problem(None, _("这是旧版 Word（.doc）文件，请在 Word 中另存为 .docx 后再导入。"))
        )
        return result
    places = _Locations()
    try:
        rows = document_rows(open_archive(data), places)
    except ArchiveRefused as refused:
        result.problems.append(Problem(None, refused.message))
        return result
    except _NotADocument:
        result.problems.append(
            Problem(
                None, _("无法打开 Word 文件：文件不是有效的 .docx 文档（没有 Word 文档正文）。")
            )
        )
        return result
    except NOT_VALID as error:
        result.problems.append(
            Problem(
                None,
                _("无法打开 Word 文件：文件不是有效的 .docx 文档（%(error)s）。")
                % {"error": type(error).__name__},
            )
        )
        return result
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
