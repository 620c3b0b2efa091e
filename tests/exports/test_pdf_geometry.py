"""The printed form, measured: every character inside its cell, labels merged as on paper.

Read back with pdfplumber (each character's box, each rule of the table), not only as text:
no character comes within 1 pt of a rule of the table, a figure stays in its own column, a
一级指标 is one merged cell per page, and the funding block has the paper form's four rows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cache
from io import BytesIO

import pdfplumber
import pytest

from evaluations.core.evaluation_data import FormData, FundingData
from evaluations.core.layout import indicator_groups
from evaluations.models import Status
from exports import pdf
from tests.export_helpers import forty_indicator_form, sample_form, sample_forms, sample_ids, squash

# Least distance (pt) between a character's box and a rule of the table.
PADDING = 1.0
# The page's left margin (print.css @page): the table starts there.
MARGIN_LEFT_MM = 14
PT_PER_MM = 72 / 25.4
# Long values as departments type them, for the columns of figures.
LONG_VALUES = (
    "2021.01-2021.12",
    "2021年1月1日-2021年12月31日",
    "2021年1月-2021年12月",
    "100.00%",
    "≥1600.00万元",
    "<=21.5000万元",
    "123456789.12万元",
    "12345678901234567890",
    "≥99.99%",
    "=1600户",
)


def render(form: FormData) -> bytes:
    """The form as printed once approved (no watermark across the table)."""
    return pdf.form_pdf(form, status=Status.APPROVED)


@cache
def sample_pdf(prefix: str, index: int) -> bytes:
    return render(sample_form(prefix, index))


def rule_crossings(data: bytes) -> list[str]:
    """Characters that a rule of the table crosses or comes within PADDING of."""
    found = []
    with pdfplumber.open(BytesIO(data)) as document:
        for number, page in enumerate(document.pages, start=1):
            vertical = [e for e in page.edges if e["orientation"] == "v"]
            horizontal = [e for e in page.edges if e["orientation"] == "h"]
            for char in page.chars:
                if not char["text"].strip():
                    continue
                for edge in vertical:
                    beside = edge["top"] < char["bottom"] and edge["bottom"] > char["top"]
                    if beside and char["x0"] - PADDING < edge["x0"] < char["x1"] + PADDING:
                        found.append(f"p{number} {char['text']!r} x={edge['x0']:.1f}")
                for edge in horizontal:
                    over = edge["x0"] < char["x1"] and edge["x1"] > char["x0"]
                    if over and char["top"] - PADDING < edge["top"] < char["bottom"] + PADDING:
                        found.append(f"p{number} {char['text']!r} y={edge['top']:.1f}")
    return found


def column_span(widths: tuple[float, ...], col: int) -> tuple[float, float]:
    """Left and right rule (pt) of a column of the printed table (1-based)."""
    left = MARGIN_LEFT_MM + sum(widths[: col - 1])
    return left * PT_PER_MM, (left + widths[col - 1]) * PT_PER_MM


def column_text(data: bytes, widths: tuple[float, ...], col: int) -> str:
    """The text of every character that lies wholly inside a column, page after page."""
    left, right = column_span(widths, col)
    with pdfplumber.open(BytesIO(data)) as document:
        return "".join(
            squash(page.within_bbox((left, 0, right, page.height)).extract_text() or "")
            for page in document.pages
        )


@dataclass
class Merged:
    """A cell of the 一级指标 column on one page: its text and how many rows it spans."""

    page: int
    text: str
    rows: int


def crossing_rules(edges: list[dict], x0: float, x1: float, top: float, bottom: float):
    """The heights of the horizontal rules that cross x0..x1 between top and bottom."""
    ys = sorted(
        e["top"]
        for e in edges
        if e["orientation"] == "h" and e["x0"] < (x0 + x1) / 2 < e["x1"] and top < e["top"] < bottom
    )
    merged: list[float] = []
    for y in ys:
        if not merged or y - merged[-1] > 1:
            merged.append(y)
    return merged


def ruled_at(edges: list[dict], x: float, top: float, bottom: float) -> bool:
    """Whether vertical rules at x (drawn cell by cell) run unbroken from top to bottom."""
    reached = top + 1
    for edge in sorted(
        (e for e in edges if e["orientation"] == "v" and abs(e["x0"] - x) < 1),
        key=lambda e: e["top"],
    ):
        if edge["top"] <= reached + 0.5:
            reached = max(reached, edge["bottom"])
    return reached >= bottom - 1


def level1_cells(data: bytes, widths: tuple[float, ...]) -> list[Merged]:
    """The cells of the 一级指标 column below its heading, page after page, by their rules.

    A cell is bounded by the horizontal rules that cross the column, and has a vertical
    rule on its left (the total row below spans the column: no rule there). The rows it
    spans are counted by the rules that cross the 三级指标 column between its top and bottom.
    """
    left, right = column_span(widths, 2)
    name_left, name_right = column_span(widths, 4)
    cells = []
    with pdfplumber.open(BytesIO(data)) as document:
        for number, page in enumerate(document.pages, start=1):
            words = page.extract_words()
            heading = next((w for w in words if w["text"] == "一级指标" and w["x0"] > left), None)
            if heading is None:
                continue
            edges = page.edges
            rules = crossing_rules(edges, left, right, heading["bottom"], page.height)
            for top, bottom in zip(rules, rules[1:], strict=False):
                if not ruled_at(edges, left, top, bottom):
                    break
                text = squash(page.within_bbox((left, top, right, bottom)).extract_text() or "")
                inner = crossing_rules(edges, name_left, name_right, top + 1, bottom - 1)
                cells.append(Merged(number, text, len(inner) + 1))
    return cells


def expected_level1(form: FormData) -> list[tuple[str, int]]:
    """The 一级 groups of a form as (label, rows), as the layout merges them."""
    groups = indicator_groups([(ind.level1, ind.level2) for ind in form.indicators])
    return [
        (squash(label), span)
        for label, span in zip(groups.level1, groups.level1_spans, strict=True)
        if span
    ]


def joined(cells: list[Merged]) -> list[tuple[str, int]]:
    """The groups the cells show: a page's first cell that goes on with the previous page's
    last label is joined to it (the label repeated at the top of a continuation page)."""
    groups: list[tuple[str, int]] = []
    for index, cell in enumerate(cells):
        previous = cells[index - 1] if index else None
        continues = (
            previous is not None and cell.page == previous.page + 1 and cell.text == previous.text
        )
        if continues:
            label, rows = groups[-1]
            groups[-1] = (label, rows + cell.rows)
        else:
            groups.append((cell.text, cell.rows))
    return groups


# --------------------------------------------------------------------------- text in cells


@pytest.mark.parametrize(
    ("prefix", "index"), [(p, i) for p, i, _f in sample_forms()], ids=sample_ids()
)
def test_no_character_of_a_sample_form_comes_near_a_rule(prefix, index):
    assert rule_crossings(sample_pdf(prefix, index)) == []


def long_value_form() -> FormData:
    """A form whose figures are long values in every figure column (and a 1234.57% rate)."""
    form = sample_form("000", 4)
    indicators = [
        replace(ind, target=LONG_VALUES[n % len(LONG_VALUES)], actual=LONG_VALUES[n % 10])
        for n, ind in enumerate(form.indicators[:10])
    ]
    funding = [
        FundingData("total", Decimal("10"), Decimal("10"), Decimal("123.4567")),
        FundingData("current_year", Decimal("123456789012.3456"), None, Decimal("5")),
    ]
    return replace(form, indicators=indicators, funding=funding, execution_score=Decimal(10))


def test_long_values_stay_inside_their_cells():
    form = long_value_form()
    data = render(form)
    assert rule_crossings(data) == []
    # Each value, wrapped or not, lies wholly inside its own column.
    widths = pdf.column_widths(form)
    targets = column_text(data, widths, 5)
    actuals = column_text(data, widths, 6)
    for ind in form.indicators:
        assert squash(ind.target) in targets
        assert squash(ind.actual) in actuals
    assert "1234.57%" in column_text(data, widths, 8)
    assert "123456789012.3456" in column_text(data, widths, 4)


def test_a_month_range_and_a_full_rate_print_on_one_line_with_room_to_spare():
    form = sample_form("000", 4)
    form.indicators[0].actual = "2021.01-2021.12"
    form.indicators[1].target = "2021.01-2021.12"
    data = render(form)
    with pdfplumber.open(BytesIO(data)) as document:
        lines = [squash(line["text"]) for line in document.pages[0].extract_text_lines()]
    assert sum("2021.01-2021.12" in line for line in lines) == 2
    assert any("100.00%" in line for line in lines)
    assert rule_crossings(data) == []


# --------------------------------------------------------------------------- merged labels


@pytest.mark.parametrize(
    ("prefix", "index"), [(p, i) for p, i, _f in sample_forms()], ids=sample_ids()
)
def test_a_first_level_label_is_one_merged_cell_per_page(prefix, index):
    form = sample_form(prefix, index)
    cells = level1_cells(sample_pdf(prefix, index), pdf.column_widths(form))
    # Each cell of the column names its 一级指标 once; cells of one group on a page are
    # one cell (never two in a row with the same label on a page).
    for first, second in zip(cells, cells[1:], strict=False):
        assert (first.page, first.text) != (second.page, second.text)
    assert joined(cells) == expected_level1(form)


def test_a_first_level_group_across_a_page_break_is_named_again_at_the_top_only():
    form = forty_indicator_form()
    data = render(form)
    cells = level1_cells(data, pdf.column_widths(form))
    pages = {cell.page for cell in cells}
    assert len(pages) >= 2
    assert joined(cells) == expected_level1(form)
    # 产出指标 (32 rows) goes on over a page: its label heads the next page once.
    produce = [cell for cell in cells if cell.text == "产出指标"]
    assert len(produce) == len({cell.page for cell in produce}) >= 2
    for cell in produce[1:]:
        assert next(c for c in cells if c.page == cell.page) is cell
    with pdfplumber.open(BytesIO(data)) as document:
        for cell in produce:
            text = squash(document.pages[cell.page - 1].extract_text())
            assert text.count("产出指标") == 1
        # So is a 二级指标 printed in chunks (数量指标: 14 rows in two blocks on page 1).
        assert squash(document.pages[0].extract_text()).count("数量指标") == 1


# --------------------------------------------------------------------------- funding block


def test_the_funding_block_prints_its_four_rows_when_only_the_total_is_filled():
    form = sample_form("001", 0)
    form.funding = [FundingData("total", Decimal(70), Decimal(70), Decimal("57.55"))]
    with pdfplumber.open(BytesIO(render(form))) as document:
        text = squash(document.pages[0].extract_text())
    labels = ["年度资金总额", "其中：当年财政拨款", "上年结转资金", "其他资金"]
    at = [text.find(label) for label in labels]
    assert -1 not in at and at == sorted(at)


def test_the_funding_block_label_breaks_between_its_two_words():
    form = sample_form("001", 0)
    left, right = column_span(pdf.column_widths(form), 1)
    with pdfplumber.open(BytesIO(render(form))) as document:
        page = document.pages[0].within_bbox((left, 0, right, document.pages[0].height))
        lines = [squash(line["text"]) for line in page.extract_text_lines()]
    assert "项目资金" in lines
    assert "（万元）" in lines
    assert lines.index("（万元）") == lines.index("项目资金") + 1


def test_rows_of_very_long_texts_carry_their_label_to_every_page_they_fill():
    form = forty_indicator_form()
    long_text = "偏差说明" * 60
    form = replace(
        form, indicators=[replace(ind, deviation=long_text) for ind in form.indicators[:12]]
    )
    data = render(form)
    assert rule_crossings(data) == []
    cells = level1_cells(data, pdf.column_widths(form))
    assert joined(cells) == expected_level1(form)
    assert all(cell.text == "产出指标" for cell in cells)
    assert len(cells) == len({cell.page for cell in cells}) > 2
