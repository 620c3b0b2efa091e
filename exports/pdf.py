"""The printed form: its layout for print, its HTML, its PDF, and the download names.

What is printed beside a stored form (its evidence list, the published re-check) is put
together in exports/compose.py; WeasyPrint itself is called in common/pdf.py.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from typing import IO, TYPE_CHECKING, Any

from django.db.models import Count, Sum
from django.db.models.functions import Length
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from common.pdf import render_html_pdf as render_pdf
from common.safetext import clean_text, safe_filename_text
from evaluations.core.evaluation_data import FormData
from evaluations.core.layout import Cell, Layout, Signature, form_layout
from evaluations.core.scoring import ScoreResult, evaluate
from evaluations.models import HANDED_IN, Evaluation, Status
from evaluations.rules import current_rules

if TYPE_CHECKING:
    from weasyprint import Document

TEMPLATE = "evaluations/pdf/form.html"
# Nine columns of the printed form (mm); they add up to the A4 text width (182 mm).
# Sized from the content of real forms: the 三级指标 (col 4) carries the longest texts,
# the 偏差 column (col 9) is empty on most rows; 一级指标 (col 2) takes its four-character
# heading on one line. 年度指标值 and 实际完成值 (cols 5, 6) hold a month range
# "2021.01-2021.12" (22 mm at 8.5 pt) on one line inside their padding, and col 8 (执行率 of
# the funding rows, 得分 below) holds "100.00%" (11.9 mm): tests/exports/test_pdf_geometry.py.
COLUMN_WIDTHS = (15, 17.5, 17.5, 37, 24.5, 24.5, 10, 14.5, 21.5)
# A form whose deviation texts outweigh its indicator names (rare) gets a wider 偏差 column.
WIDE_DEVIATION_WIDTHS = (15, 17.5, 17.5, 23.5, 24.5, 24.5, 10, 14.5, 35)
# Headings printed on two lines at a word boundary (headings never break inside a word:
# ``word-break: keep-all`` in print.css).
HEADING_LINES = {"偏差原因分析及改进措施": "偏差原因分析\n及改进措施"}
# A group of indicator rows (one 二级指标) is kept on one page; a longer group is printed
# in chunks of at most this many rows, each starting with its 一级/二级 labels, so that a
# page break falls between chunks and the next page starts with the labels. Chunks have
# at least three rows (a page never ends with one or two rows of a group).
MAX_GROUP_ROWS = 8
# A chunk estimated taller than this many printed lines (a page holds about 60) is printed
# row by row, each row a block of its own: kept whole it would leave most of a page empty
# before it.
MAX_KEPT_BLOCK_LINES = 40


# What a web request may print itself: a form of at most this many characters of text
# (``printed_size``). WeasyPrint lays out about 15,000 characters a second on one core: the
# longest real forms (under 5,000 characters) print in well under a second, a form of 60
# rows at the text limits (about 55,000) in 3 to 4 s, longer on a busy machine. A larger
# form is printed by the task worker while its page waits (exports/pdfcache.py).
QUICK_PRINT_MAX_CHARACTERS = 15_000
# Each indicator row costs about this many characters more: its figures and cell borders.
ROW_PRINT_CHARACTERS = 40

# --------------------------------------------------------------------------- formatting

# Line breaks a printed cell keeps (the text cells print with ``white-space: pre-line``);
# further breaks print as spaces. A goal cell carries about 50 lines at its length limit,
# an indicator's deviation about 40: text of one character per line (within the limits)
# would otherwise print 300 pages and take 14 s; real forms have at most 6 breaks.
PRINTED_LINE_BREAKS = {"goal_target": 40, "goal_actual": 40, "deviation": 20}
DEFAULT_PRINTED_LINE_BREAKS = 5
_LINE_BREAK = re.compile(r"\r\n|[\r\n\u2028\u2029\x85]")


def printed_text(text: str, field: str = "") -> str:
    """A text as the PDF prints it: no control characters, a bounded number of line breaks."""
    text = clean_text(text or "")
    limit = PRINTED_LINE_BREAKS.get(field, DEFAULT_PRINTED_LINE_BREAKS)
    parts = _LINE_BREAK.split(text)
    if len(parts) <= limit + 1:
        return text
    return "\n".join(parts[:limit]) + "\n" + " ".join(parts[limit:])


def printed_form(form_data: FormData) -> FormData:
    """A copy of the form with every text as the PDF prints it (``printed_text``)."""
    texts = (
        "project_name",
        "department",
        "implementing_unit",
        "goal_target",
        "goal_actual",
        "unit_head",
        "filler_name",
        "filler_phone",
    )
    indicator_texts = ("level1", "level2", "name", "target", "actual", "deviation")
    return dataclasses.replace(
        form_data,
        **{name: printed_text(getattr(form_data, name), name) for name in texts},
        indicators=[
            dataclasses.replace(
                ind, **{name: printed_text(getattr(ind, name), name) for name in indicator_texts}
            )
            for ind in form_data.indicators
        ],
    )


def format_date(value: Any) -> str:
    """A date or datetime as 2022年3月1日 (local time)."""
    if value is None:
        return ""
    if hasattr(value, "tzinfo") and timezone.is_aware(value):
        value = timezone.localtime(value)
    return _("%(year)d年%(month)d月%(day)d日") % {
        "year": value.year,
        "month": value.month,
        "day": value.day,
    }


def watermark_for(status: str) -> str:
    """The watermark a form of this status carries: 草稿, 未审核, or none when approved."""
    if status in (Status.DRAFT, Status.RETURNED):
        return _("草稿")
    if status in (Status.DEPARTMENT_REVIEW, Status.SUBMITTED):
        return _("未审核")
    return ""


# --------------------------------------------------------------------------- print structure

# Figures that must print on one line: numbers with decimals, percentages, comparison
# signs and ranges ("2021.01-2021.12", "100.00%", ">=1000", "1-12").
_NUMBER = r"\d+(?:[.,:/]\d+)*[%％‰]?"
_DATE = r"\d{4}年(?:\d{1,2}月(?:\d{1,2}日)?)?|\d{1,2}月(?:\d{1,2}日)?"
_ATOM = rf"(?:{_DATE}|{_NUMBER})"
FIGURE = re.compile(rf"[<>=≥≤＞＜]*{_ATOM}(?:\s?[-—–~～至]\s?{_ATOM})?")
# Longer figures may wrap: kept whole they would overflow the narrowest figure column.
MAX_FIGURE_LENGTH = 16
# U+2060 WORD JOINER: no line break on either side of it (Unicode line breaking, which
# Pango follows), zero width, and not part of the text a PDF reader extracts or copies.
WORD_JOINER = "\u2060"


def _joined(figure: re.Match[str]) -> str:
    text = figure.group()
    return WORD_JOINER.join(text) if len(text) <= MAX_FIGURE_LENGTH else text


def nobreak_html(text: str) -> str:
    """Escaped text in which no figure breaks across lines (word joiners inside each).

    A joiner rather than an inline element per figure: a text made of short numbers
    ("1一1一…") would otherwise be thousands of inline boxes, which WeasyPrint lays out
    in time and memory that grow much faster than the text (20 s and 370 MB for one
    form at the limits). Joined, a cell stays one run of text however many figures it has.
    """
    return mark_safe(escape(FIGURE.sub(_joined, text)))  # noqa: S308 - escaped


@dataclasses.dataclass
class PrintRow:
    """A row of the printed indicator table (``kind`` and ``cells`` as ``layout.Row``)."""

    kind: str
    cells: list[Cell]


def heading_html(text: str) -> str:
    """A heading as printed: a heading of several lines keeps each line whole.

    项目资金 / （万元） in the narrow first column would otherwise wrap inside its words
    (项目资 / 金 / （万 / 元）); a line still too wide for its cell wraps (print.css ``.line``).
    """
    lines = HEADING_LINES.get(text, text).split("\n")
    if len(lines) == 1:
        return text
    spans = [f'<span class="line">{escape(line)}</span>' for line in lines]
    return mark_safe("<br>".join(spans))  # noqa: S308 - every line escaped above


# Telling whether a figure kept on one line may be wider than its cell: character widths
# in em of the print size, erring wide (the serif face's digits are 0.56 em, "." 0.33 em,
# "%" 0.92 em, CJK 1 em), and the room a cell leaves inside its padding (print.css).
FONT_SIZE_PT = 8.5
_NARROW_CHARACTERS = frozenset("0123456789.,:/-")
CELL_PADDING_MM = 2
CELL_BORDER_PT = 0.6
PT_PER_MM = 72 / 25.4


def printed_width(text: str) -> float:
    """About how wide a text prints on one line (pt), never less than it does."""
    return FONT_SIZE_PT * sum(0.6 if ch in _NARROW_CHARACTERS else 1.1 for ch in text)


def figure_may_overflow(text: str, width_mm: float) -> bool:
    """Whether a figure that nobreak_html keeps whole could be wider than a cell this wide."""
    room = (width_mm - CELL_PADDING_MM) * PT_PER_MM - CELL_BORDER_PT
    return any(
        printed_width(match.group()) > room
        for match in FIGURE.finditer(text)
        if len(match.group()) <= MAX_FIGURE_LENGTH
    )


def _print_cells(layout: Layout, widths: tuple[float, ...]) -> None:
    """Prepare the layout's cells for print: unbreakable figures, headings at word bounds.

    A cell that holds a figure which might not fit on one line in it lets its figures wrap
    when they must (print.css ``.fit``): no text crosses its cell. Only there, since a
    figure that may wrap costs layout time (about half again for a typical form).
    """
    for section in layout.sections:
        for row in section.rows:
            for cell in row.cells:
                if cell.is_head:
                    cell.text = heading_html(cell.text)
                elif cell.text:
                    width = sum(widths[cell.col - 1 : cell.col - 1 + cell.colspan])
                    fit = figure_may_overflow(cell.text, width)
                    cell.text = nobreak_html(cell.text)
                    if fit:
                        cell.text = mark_safe(f'<span class="fit">{cell.text}</span>')  # noqa: S308


_TAG = re.compile(r"<[^>]*>")


class Block(list):
    """The rows of one printed ``<tbody>``; ``loose``: a row of very long texts on its own."""

    loose = False


def _printed_lines(row: PrintRow) -> int:
    """About how many lines a row prints (its tallest cell; 3 mm per CJK character)."""
    lines = 1
    for cell in row.cells:
        width = sum(COLUMN_WIDTHS[cell.col - 1 : cell.col - 1 + cell.colspan]) - 2
        per_line = max(int(width / 3), 1)
        text = _TAG.sub("", str(cell.text)).replace(WORD_JOINER, "")  # the printed text
        count = sum(-(-len(part) // per_line) or 1 for part in text.split("\n"))
        lines = max(lines, count + (1 if cell.note else 0))
    return lines


def _chunks(count: int) -> list[int]:
    """Sizes of the chunks a group of ``count`` rows prints in (near equal, at most MAX)."""
    parts = -(-count // MAX_GROUP_ROWS)
    base, extra = divmod(count, parts)
    return [base + 1] * extra + [base] * (parts - extra)


@dataclasses.dataclass
class LabelCell(Cell):
    """A 一级/二级 label as printed at the head of a block of indicator rows."""

    layout_rowspan: int = 0  # the first print of a label: its span in the layout
    continued: bool = False  # a label the previous block printed already
    continues: bool = False  # a label the next block prints again


def _label(cell: Cell, rows: int, printed: set[int]) -> LabelCell:
    values = {f.name: getattr(cell, f.name) for f in dataclasses.fields(Cell)}
    label = LabelCell(**{**values, "rowspan": rows})
    if id(cell) in printed:
        label.continued = True
    else:
        label.layout_rowspan = cell.rowspan
        printed.add(id(cell))
    return label


def indicator_blocks(layout: Layout) -> list[Block]:
    """The indicator rows in blocks that each start with their 一级/二级 labels.

    The layout merges a label over all rows of its group (rowspan), which WeasyPrint does
    not repeat after a page break. Printed, every 二级 group (or chunk of at most
    MAX_GROUP_ROWS rows of a long group) is a block of its own: a ``<tbody>`` kept on one
    page, whose first row carries both labels merged over the block. A page break thus
    falls between blocks and the next page starts with the labels. A label printed again
    (``continued``) is drawn without the border between it and its previous print, and
    after layout its text is taken out where an earlier block on the same page printed it
    (``merge_repeated_labels``), so on each page the blocks of one 一级指标 read as one
    merged cell. The first print of a label keeps the layout's span in ``data-rowspan``
    (what tests/exports/test_layout_agreement.py reads back). A chunk of very long texts (see
    MAX_KEPT_BLOCK_LINES) prints each row as a block of its own (``loose``), so that a
    page break may fall between its rows and still find labels after it.
    """
    rows = [r for r in layout.parts["indicators"].rows if r.kind != "heading"]
    blocks: list[Block] = []
    heads: list[tuple[Cell | None, Cell | None]] = []  # the labels each block starts with
    printed: set[int] = set()
    level1: Cell | None = None
    level2: Cell | None = None
    group: list[list[Cell]] = []

    def emit(chunk: list[list[Cell]], loose: bool) -> None:
        labels: list[Cell] = [
            _label(cell, len(chunk), printed) for cell in (level1, level2) if cell is not None
        ]
        block = Block([PrintRow("indicator", labels + chunk[0])])
        block += [PrintRow("indicator", cells) for cells in chunk[1:]]
        block.loose = loose
        blocks.append(block)
        heads.append((level1, level2))

    def flush() -> None:
        start = 0
        for size in _chunks(len(group)) if group else []:
            chunk = group[start : start + size]
            lines = sum(_printed_lines(PrintRow("indicator", cells)) for cells in chunk)
            if lines > MAX_KEPT_BLOCK_LINES:
                for cells in chunk:
                    emit([cells], loose=True)
            else:
                emit(chunk, loose=False)
            start += size
        group.clear()

    for row in rows:
        if row.kind != "indicator":
            flush()
            level1 = level2 = None
            blocks.append(Block([PrintRow(row.kind, list(row.cells))]))
            heads.append((None, None))
            continue
        starts1 = next((c for c in row.cells if c.col == 2), None)
        starts2 = next((c for c in row.cells if c.col == 3), None)
        if starts1 is not None or starts2 is not None:
            flush()
            level1 = starts1 or level1
            level2 = starts2 or level2
        group.append([c for c in row.cells if c.col not in (2, 3)])
    flush()
    # A label the next block prints again: drawn without its bottom border.
    for index in range(len(blocks) - 1):
        for position in (0, 1):
            cell = heads[index][position]
            if cell is not None and heads[index + 1][position] is cell:
                first = blocks[index][0].cells
                label = next(c for c in first if c.col == position + 2)
                label.continues = True  # type: ignore[attr-defined]
    return blocks


def column_widths(form_data: FormData) -> tuple[float, ...]:
    """The printed columns of a form: the usual ones, or a wider 偏差 for long deviations."""
    names = sum(len(ind.name) for ind in form_data.indicators)
    deviations = sum(len(ind.deviation) for ind in form_data.indicators)
    return WIDE_DEVIATION_WIDTHS if deviations > names else COLUMN_WIDTHS


# --------------------------------------------------------------------------- context


def form_context(
    form_data: FormData,
    result: ScoreResult,
    *,
    status: str = Status.DRAFT,
    approved_at: Any = None,
    signature: Signature | None = None,
) -> dict[str, Any]:
    """Template context of one printed form: the official layout of its printed texts.

    The form ends with its signature block (``signature``: the dates and the approver;
    without one the dates are left blank for the pen).
    """
    form_data = printed_form(form_data)
    # The paper form always has its four funding rows, blank where a form leaves them out.
    layout = form_layout(
        form_data,
        result,
        status=status,
        signature=signature or Signature(),
        with_grade=status in HANDED_IN,
        every_funding_kind=True,
    )
    widths = column_widths(form_data)
    _print_cells(layout, widths)
    return {
        "indicator_blocks": indicator_blocks(layout),
        "title": layout.title,
        "form": form_data,
        "layout": layout,
        "column_widths": widths,
        "watermark": watermark_for(status),
        "approved_on": format_date(approved_at) if status == Status.APPROVED else "",
        "has_notes": layout.has_notes,
    }


# --------------------------------------------------------------------------- rendering


def printed_size(evaluation: Evaluation) -> int:
    """About how much the stored form prints: characters of its texts, plus some per row."""
    texts = ("level1", "level2", "name", "target", "actual", "deviation")
    rows = evaluation.indicators.aggregate(
        count=Count("pk"), **{name: Sum(Length(name)) for name in texts}
    )
    own = (
        evaluation.project_name,
        evaluation.implementing_unit,
        evaluation.goal_target,
        evaluation.goal_actual,
    )
    return (
        sum(len(text or "") for text in own)
        + sum(rows[name] or 0 for name in texts)
        + rows["count"] * ROW_PRINT_CHARACTERS
    )


def prints_quickly(evaluation: Evaluation) -> bool:
    """Whether a web request may print the form itself (QUICK_PRINT_MAX_CHARACTERS)."""
    return printed_size(evaluation) <= QUICK_PRINT_MAX_CHARACTERS


# The 一级/二级 label cells of the indicator table, by the field they show (_cell.html).
_LABEL_FIELD = re.compile(r"indicators\.\d+\.level[12]")


def merge_repeated_labels(document: Document) -> None:
    """Print each 一级/二级 label once per page, in the middle of the rows it covers there.

    Every block of indicator rows carries its labels (``indicator_blocks``), since where
    the pages break is known only after layout. Here, on the laid-out pages, a label that
    a block above on the same page printed already loses its text, and the first print is
    centred on all the rows the label covers on that page; the borders between the prints
    are hidden (print.css ``.continued``, ``.continues``). So a group reads as one merged
    cell wherever its rows share a page, and a continuation page names it at its top.
    Done on the pages rather than by laying the form out a second time with the breaks
    known: that would double the time of every form of more than one page. The laid-out
    boxes (``Page._page_box``) are WeasyPrint's internals, used as its own "tips and
    tricks" do: tests/exports/test_pdf_geometry.py checks the result on every upgrade.
    """
    # WeasyPrint is imported when a PDF is made, not with this module (as in common/pdf.py).
    from weasyprint.formatting_structure.boxes import TableCellBox

    for page in document.pages:
        prints: dict[str, list[TableCellBox]] = {}
        for box in page._page_box.descendants():
            if isinstance(box, TableCellBox):
                field = box.element.get("data-field") or ""
                if _LABEL_FIELD.fullmatch(field):
                    prints.setdefault(field, []).append(box)
        for cells in prints.values():
            with_text = [cell for cell in cells if cell.children]
            if not with_text:
                continue
            first = with_text[0]
            for cell in with_text[1:]:
                cell.children = []
            top = cells[0].border_box_y()
            bottom = cells[-1].border_box_y() + cells[-1].border_height()
            text_top = min(child.position_y for child in first.children)
            text_bottom = max(child.position_y + child.margin_height() for child in first.children)
            shift = (top + bottom - text_top - text_bottom) / 2
            for child in first.children:
                child.translate(dy=shift)


def render_html_pdf(html: str, target: IO[bytes] | None = None) -> bytes | None:
    """Render the printed-form HTML to PDF bytes (or into ``target``), labels merged per page."""
    return render_pdf(html, target, finish=merge_repeated_labels)


def form_pdf(
    form_data: FormData,
    *,
    status: str = Status.DRAFT,
    approved_at: Any = None,
    result: ScoreResult | None = None,
    signature: Signature | None = None,
) -> bytes:
    """PDF of form data that is not (or not yet) stored."""
    # Form data not stored (a stored form comes with its result): the national rules.
    result = result or evaluate(form_data, current_rules())
    html = render_to_string(
        TEMPLATE,
        form_context(
            form_data, result, status=status, approved_at=approved_at, signature=signature
        ),
    )
    data = render_html_pdf(html)
    assert data is not None
    return data


# --------------------------------------------------------------------------- file names

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def safe_filename(text: str, max_length: int = 80) -> str:
    """Text usable as a file name on every system (no path separators or reserved signs).

    Control characters and bidirectional controls are dropped first: U+202E (right-to-left
    override) would let a displayed name lie about its extension ("abc", U+202E, "fdp.exe"
    shows as "abcexe.pdf").
    """
    text = unicodedata.normalize("NFC", safe_filename_text(text))
    text = _UNSAFE.sub("_", text).strip(" ._")
    return text[:max_length] or "file"


def export_filename(evaluation: Evaluation, extension: str) -> str:
    """Download name of one form, e.g. 2021年度_消防安全专项_绩效自评表.pdf."""
    name = _("%(year)s年度_%(project)s_绩效自评表") % {
        "year": evaluation.year,
        "project": safe_filename(evaluation.project_name, 60),
    }
    return f"{safe_filename(name, 100)}.{extension}"


def bulk_filename(year: int, department_name: str | None, extension: str) -> str:
    """Download name of a bulk export, e.g. 2021年度_昌吉州民政局_绩效自评表.zip."""
    name = _("%(year)s年度_%(department)s_绩效自评表") % {
        "year": year,
        "department": safe_filename(department_name or _("全部部门"), 60),
    }
    return f"{safe_filename(name, 100)}.{extension}"
