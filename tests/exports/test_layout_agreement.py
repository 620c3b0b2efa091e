"""Every sample form, rendered five ways, agrees with its official layout (``core.layout``).

The detail page, the review page, the PDF (the HTML WeasyPrint gets, and the text of a few
real PDFs), the Excel sheet and the entry form are each read back and compared with the
layout's cells: positions, spans, texts, numbers and notes.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from io import BytesIO

import pytest
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from lxml import html as lxml_html
from openpyxl import Workbook, load_workbook

from evaluations.core import layout as L
from evaluations.core.evaluation_data import FormData
from evaluations.core.scoring import evaluate
from evaluations.models import Evaluation, EvaluationEvent, EventAction, Status
from evaluations.rules import current_rules
from evaluations.signature import signature_of
from exports import compose, excel, pdf
from tests.export_helpers import sample_form, sample_forms, sample_ids, squash, store

pytestmark = pytest.mark.django_db

# Parts of a rendered cell that are not its value: notes, finding markers and messages.
_NOTE_CLASSES = ("computed-note", "computed")
# Markers, messages and words for screen readers only (an empty heading's "资金类别").
_EXTRA_CLASSES = ("finding-marker", "finding-inline", "visually-hidden")


@dataclass(frozen=True)
class Seen:
    """A cell as read back from a rendering."""

    row: int
    col: int
    rowspan: int
    colspan: int
    text: str
    note: str


def expected(sheet: L.Layout) -> list[Seen]:
    return [
        Seen(c.row, c.col, c.rowspan, c.colspan, squash(c.text), squash(c.note))
        for c in sheet.cells()
    ]


def _classes(element) -> set[str]:
    return set((element.get("class") or "").split())


def _read_cell(element) -> tuple[str, str]:
    """A cell's own text and its note, markers and messages left out."""
    element = lxml_html.fromstring(lxml_html.tostring(element, encoding="unicode"))
    note = ""
    for child in list(element.iter()):
        if child is element:
            continue
        classes = _classes(child)
        if classes & set(_NOTE_CLASSES) or classes & set(_EXTRA_CLASSES):
            if classes & set(_NOTE_CLASSES):
                note += child.text_content()
            child.drop_tree()
    return squash(element.text_content()), squash(note)


def read_grid(rows, *, skip=("comment-cell", "section-rest")) -> list[Seen]:
    """The cells of HTML table rows on a grid, rowspans and colspans resolved."""
    taken: set[tuple[int, int]] = set()
    seen = []
    for r, tr in enumerate(rows, start=1):
        c = 1
        for cell in tr:
            if cell.tag not in ("td", "th") or _classes(cell) & set(skip):
                continue
            while (r, c) in taken:
                c += 1
            rowspan = int(cell.get("data-rowspan") or cell.get("rowspan") or 1)
            colspan = int(cell.get("colspan") or 1)
            text, note = _read_cell(cell)
            seen.append(Seen(r, c, rowspan, colspan, text, note))
            taken |= {(r + i, c + j) for i in range(rowspan) for j in range(colspan)}
            c += colspan
    return seen


def page_grid(page: str) -> list[Seen]:
    tree = lxml_html.fromstring(page)
    return read_grid(tree.xpath('//table[@id="official-table"]/tbody/tr'))


def pdf_html_grid(page: str) -> list[Seen]:
    tree = lxml_html.fromstring(page)
    rows = tree.xpath('//table[contains(@class, "form")]/*[self::thead or self::tbody]/tr')
    return read_grid(rows)


def excel_check(sheet: L.Layout, data: bytes) -> list[str]:
    """Differences between the layout and the form's worksheet (merges and values)."""
    ws = load_workbook(BytesIO(data)).worksheets[0]
    offset = excel.TABLE_OFFSET
    problems = []
    merged = {str(r) for r in ws.merged_cells.ranges}
    wanted = {"A1:I1", "A2:I2"}
    for cell in sheet.cells():
        if cell.rowspan > 1 or cell.colspan > 1:
            first = ws.cell(cell.row + offset, cell.col).coordinate
            last = ws.cell(
                cell.row + offset + cell.rowspan - 1, cell.col + cell.colspan - 1
            ).coordinate
            wanted.add(f"{first}:{last}")
        value = ws.cell(cell.row + offset, cell.col).value
        if cell.is_number:
            got = None if value is None else Decimal(str(value))
            if got != cell.value:
                problems.append(f"{cell.field or cell.row}: {value!r} != {cell.value!r}")
        elif (value or "") != cell.text:
            problems.append(f"{cell.row},{cell.col}: {value!r} != {cell.text!r}")
    if merged != wanted:
        problems.append(f"merges: extra {merged - wanted}, missing {wanted - merged}")
    if ws["A1"].value != sheet.title or ws["A2"].value != sheet.year_line:
        problems.append("title")
    return problems


def _input_value(tree, name: str) -> str | None:
    found = tree.xpath(f'//*[@name="{name}"]')
    if not found:
        return None
    element = found[0]
    if element.tag == "textarea":
        return element.text_content().removeprefix("\n")
    if element.tag == "select":
        chosen = element.xpath(".//option[@selected]")
        return chosen[0].get("value") if chosen else ""
    return element.get("value") or ""


def _input_name(key: str) -> str | None:
    parts = key.split(".")
    if parts[0] == "funding":
        return f"funding-{parts[1]}-{parts[2]}"
    if parts[0] == "indicators":
        return f"ind-{int(parts[1]) - 1}-{parts[2]}"
    if key in ("execution_rate", "execution_score", "stated_total", "department", L.GRADE_FIELD):
        return None  # computed on the entry form, or the staff's own department
    if parts[0] == "signature":
        return None  # the stamp, the dates and the approver: never typed
    return key


def edit_check(sheet: L.Layout, page: str) -> list[str]:
    """Differences between the layout and the entry form: input values, labels, order."""
    tree = lxml_html.fromstring(page)
    problems = []
    for cell in sheet.cells():
        name = _input_name(cell.field) if cell.field else None
        if name is None:
            continue
        value = _input_value(tree, name)
        if value is None:
            problems.append(f"no input {name}")
        elif cell.is_number:
            if (Decimal(value) if value else None) != cell.value:
                problems.append(f"{name}: {value!r} != {cell.value!r}")
        elif value != (cell.value or ""):
            problems.append(f"{name}: {value!r} != {cell.value!r}")
    # The header table: every label of the layout's header, funding and goal rows in order.
    entry = L.form_layout(FormData(), None, every_funding_kind=True)
    head_rows = [r for r in entry.rows if r.section in (L.HEADER, L.FUNDING, L.GOALS)]
    # (The funding block's empty corner is an ordinary cell there: a heading says something.)
    labels = [squash(c.text) for r in head_rows for c in r.cells if c.is_head and c.text]
    shown = [
        squash(th.text_content()).removesuffix("*")
        for th in tree.xpath('//table[contains(@class, "official-head")]//th')
    ]
    if shown != labels:
        problems.append(f"header labels {shown} != {labels}")
    kinds = [r.funding_kind for r in entry.funding_rows]
    if tree.xpath('//tr[contains(@class, "funding-row")]/@data-kind') != kinds:
        problems.append("funding rows")
    headings = [
        squash(th.text_content()) for th in tree.xpath('//table[@id="indicator-table"]/thead//th')
    ]
    want = [squash(str(L.INDICATORS_BLOCK)), "序号", *L.indicator_headings(), "操作"]
    if headings != want:
        problems.append(f"indicator headings {headings} != {want}")
    total = squash(tree.xpath('//tr[contains(@class, "total-row")]/th')[0].text_content())
    if total != squash(sheet.parts[L.TOTAL].rows[0].cells[0].text):
        problems.append("total label")
    return problems


@pytest.mark.parametrize("prefix,index,form", sample_forms(), ids=sample_ids())
def test_every_rendering_agrees_with_the_layout(
    prefix, index, form, dept_a, client_a, client_finance
):
    # The signature block: typed names, the submission date, and for every other sample
    # form an approval by a named approver.
    form = replace(form, unit_head="王局长", filler_name="李填报", filler_phone="0994-2345678")
    approved = index % 2 == 0
    evaluation = store(form, dept_a, status=Status.SUBMITTED)
    Evaluation.objects.filter(pk=evaluation.pk).update(
        submitted_at=datetime(2022, 3, 1, 10, tzinfo=UTC),
        status=Status.APPROVED if approved else Status.SUBMITTED,
        approved_at=datetime(2022, 3, 8, 10, tzinfo=UTC) if approved else None,
    )
    if approved:
        approver = get_user_model().objects.create_user("shen", first_name="审核员")
        EvaluationEvent.objects.create(
            evaluation=evaluation, action=EventAction.APPROVED, actor=approver, revision=1
        )
    evaluation.refresh_from_db()
    data = evaluation.as_form_data()
    result = evaluate(data, current_rules())
    signature = signature_of(evaluation)
    sheet = L.form_layout(data, result, signature=signature)
    want = expected(sheet)
    texts = [squash(c.text) for c in sheet.section(L.SIGNATURE).rows[0].cells]
    assert texts == ["填报单位（盖章）", "", "单位负责人", "王局长"]
    texts = [squash(c.text) for r in sheet.section(L.SIGNATURE).rows[1:] for c in r.cells]
    assert texts[:6] == ["填报人", "李填报", "联系电话", "0994-2345678", "填报日期", "2022年3月1日"]
    if approved:
        assert texts[6:] == ["审核单位", "财政局", "审核人", "审核员", "审核日期", "2022年3月8日"]
    else:
        assert texts[6:] == []

    # Detail and review pages: the shared read-only table.
    detail = client_a.get(f"/evaluations/{evaluation.pk}/").content.decode()
    assert page_grid(detail) == want
    review = client_finance.get(f"/review/{evaluation.pk}/").content.decode()
    assert page_grid(review) == want
    # The review form offers a comment on every funding and indicator row (until approved).
    tree = lxml_html.fromstring(review)
    for row in [] if approved else sheet.indicator_rows:
        assert tree.xpath(f'//tr[@data-indicator="{row.position}"]//textarea'), row.position
    for row in [] if approved else sheet.funding_rows:
        assert tree.xpath(f'//tr[@data-funding="{row.funding_kind}"]//textarea'), row.funding_kind

    # The PDF's HTML, as WeasyPrint gets it: the paper form, with all four funding rows.
    printed = render_to_string(pdf.TEMPLATE, compose.evaluation_context(evaluation))
    paper = L.form_layout(data, result, signature=signature, every_funding_kind=True)
    assert pdf_html_grid(printed) == expected(paper)

    # The Excel sheet.
    wb = Workbook()
    excel.write_form_sheet(wb.active, data, result, signature=signature)
    buffer = BytesIO()
    wb.save(buffer)
    assert excel_check(sheet, buffer.getvalue()) == []

    # The entry form (back in draft so it can be edited): the signature block's typed fields
    # are its inputs; the dates and the approver are not.
    type(evaluation).objects.filter(pk=evaluation.pk).update(status=Status.DRAFT)
    edit = client_a.get(f"/evaluations/{evaluation.pk}/edit/").content.decode()
    assert edit_check(sheet, edit) == []
    edit_tree = lxml_html.fromstring(edit)
    for name in ("unit_head", "filler_name", "filler_phone"):
        assert _input_value(edit_tree, name) == getattr(form, name)


@pytest.mark.parametrize("prefix,index", [("000", 0), ("001", 2), ("003", 0)])
def test_a_real_pdf_prints_the_layouts_numbers_and_notes(prefix, index, tmp_path):
    form = sample_form(prefix, index)
    form.stated_total = (form.stated_total or Decimal(0)) - 5  # a total with a note
    result = evaluate(form, current_rules())
    sheet = L.form_layout(form, result)
    path = tmp_path / "form.pdf"
    path.write_bytes(pdf.form_pdf(form, result=result))
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    words = set(text.split())
    numbers = [c.text for c in sheet.cells() if c.is_number and c.text]
    assert [n for n in numbers if n not in words] == []
    # Notes print in small type and may wrap inside their narrow column: "计算值：" and the
    # figure may land on different lines.
    notes = [squash(c.note).split("：") for c in sheet.cells() if c.note]
    assert notes
    for label, value in notes:
        assert text.count(f"{label}：") == sum(1 for n in notes if n[0] == label)
        assert value in words or f"{label}：{value}" in words
    assert sheet.year_line in text
