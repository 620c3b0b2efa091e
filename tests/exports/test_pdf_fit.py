"""The printed form fits its file: columns from the content, figures and headings whole,
groups kept together, labels repeated after a page break."""

from __future__ import annotations

import re
from dataclasses import replace
from io import BytesIO

import pytest
from django.template.loader import render_to_string
from lxml import html as lxml_html
from pypdf import PdfReader

from evaluations.core.limits import MAX_INDICATORS
from exports import compose, pdf
from scripts.bench_pdf import FILLERS, longest_form
from tests.export_helpers import (
    forty_indicator_form,
    sample_form,
    sample_forms,
    sample_ids,
    squash,
    store,
)

pytestmark = pytest.mark.django_db

# A typical form prints on one page: at most 12 indicators, short deviation texts and
# goals of ordinary length (what the sample forms of this kind all are).
TYPICAL_ROWS = 12
TYPICAL_DEVIATION_CHARS = 100
TYPICAL_GOAL_CHARS = 400


def page_lines(data: bytes) -> list[list[str]]:
    """Each page's text lines, whitespace removed."""
    return [
        [squash(line) for line in (page.extract_text() or "").splitlines()]
        for page in PdfReader(BytesIO(data)).pages
    ]


def figures(form) -> set[str]:
    """The figures of the form's texts that must print whole on one line."""
    texts = [form.goal_target, form.goal_actual]
    for ind in form.indicators:
        texts += [ind.name, ind.target, ind.actual, ind.deviation]
    found = set()
    for text in texts:
        for match in pdf.FIGURE.finditer(pdf.printed_text(text)):
            token = squash(match.group())
            if len(match.group()) <= pdf.MAX_FIGURE_LENGTH and len(token) > 1:
                found.add(token)
    return found


def is_typical(form) -> bool:
    return (
        len(form.indicators) <= TYPICAL_ROWS
        and sum(len(ind.deviation) for ind in form.indicators) <= TYPICAL_DEVIATION_CHARS
        and len(form.goal_target) + len(form.goal_actual) <= TYPICAL_GOAL_CHARS
    )


@pytest.mark.parametrize(
    ("prefix", "index"), [(p, i) for p, i, _f in sample_forms()], ids=sample_ids()
)
def test_every_sample_form_prints_figures_headings_and_total_whole(prefix, index):
    form = sample_form(prefix, index)
    data = compose.evaluation_pdf(store(form))
    pages = page_lines(data)
    lines = [line for page in pages for line in page]

    # Numbers, percentages and date ranges are never split across lines.
    split = {token for token in figures(form) if not any(token in line for line in lines)}
    assert not split
    # Headings never break inside a word.
    for heading in ("一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值"):
        assert any(heading in line for line in lines), heading
    # The total row stands on the last page with the last indicator row and the signature.
    last = "".join(pages[-1])
    assert "总分" in last
    assert squash(form.indicators[-1].name)[:8] in last
    assert "填报单位（盖章）" in last
    # A typical form is one page; no form of up to 12 rows takes more than two.
    if is_typical(form):
        assert len(pages) == 1
    if len(form.indicators) <= TYPICAL_ROWS:
        assert len(pages) <= 2


def test_most_sample_forms_are_typical_and_print_on_one_page():
    typical = [form for _p, _i, form in sample_forms() if is_typical(form)]
    assert len(typical) >= 20


def test_a_twelve_row_form_prints_on_one_page():
    form = sample_form("000", 4)
    assert len(form.indicators) == 12
    assert len(PdfReader(BytesIO(pdf.form_pdf(form))).pages) == 1


def test_the_columns_fill_the_text_width_and_favour_the_indicator_name():
    widths = pdf.COLUMN_WIDTHS
    assert sum(widths) == 182
    # 三级指标 (col 4) is the widest column, wider than the mostly empty 偏差 (col 9).
    assert widths[3] == max(widths)
    assert widths[3] > widths[8]


def test_figures_are_kept_whole_and_escaped():
    html = pdf.nobreak_html("<b>完成率100.00%，时间2021.01-2021.12，&#x27;")
    joined = pdf.WORD_JOINER.join
    assert joined("100.00%") in html
    assert joined("2021.01-2021.12") in html
    assert "<b>" not in html and "&lt;b&gt;" in html
    # A typed entity stays text: its ampersand escaped (its digits may be joined).
    assert "&amp;#x" in html and "&#x27;" not in html


def test_a_text_made_of_figures_adds_no_element_to_the_printed_page():
    # The densest text the limits allow: a one-digit figure after every character, in
    # every text of a form at its limits. One element per figure made WeasyPrint take
    # 20 s and 370 MB for this form; joined figures print it as fast as prose.
    def elements(filler: str) -> int:
        form = longest_form(filler)
        html = render_to_string(pdf.TEMPLATE, pdf.form_context(form, pdf.evaluate(form)))
        return sum(1 for _element in lxml_html.fromstring(html).iter())

    figures = elements(FILLERS["numbers"])
    assert figures == elements(FILLERS["prose"])
    assert figures < 20 * MAX_INDICATORS


def test_dates_and_ranges_at_the_end_of_a_line_print_whole():
    # Texts of the 三级指标 column, each with its figures a character further along, so
    # that line ends fall inside figures wherever a figure could break.
    figures = ("2021年12月31日", "2021.01-2021.12", "≥100.00%")
    form = sample_form("000", 4)
    indicators = [
        replace(ind, name="完" * shift + "、".join(figures * 2))
        for shift, ind in enumerate(form.indicators)
    ]
    data = pdf.form_pdf(replace(form, indicators=indicators))
    lines = [line for page in page_lines(data) for line in page]
    for figure in figures:
        assert sum(line.count(figure) for line in lines) == 2 * len(indicators), figure


def rows_by_page(data: bytes) -> dict[int, int]:
    """Indicator number (第N项) → the page (0-based) its row prints on."""
    found = {}
    for page_index, page in enumerate(page_lines(data)):
        for number in re.findall(r"第(\d+)项", "".join(page)):
            found.setdefault(int(number), page_index)
    return found


def test_a_long_form_keeps_groups_together_and_repeats_labels_after_a_break():
    form = forty_indicator_form()
    data = compose.evaluation_pdf(store(form))
    pages = page_lines(data)
    assert len(pages) >= 2
    on_page = rows_by_page(data)
    assert sorted(on_page) == list(range(1, 41))

    # A page never holds fewer than three rows of a 二级 group that goes on elsewhere.
    groups: dict[tuple[str, str], list[int]] = {}
    for number, ind in enumerate(form.indicators, start=1):
        groups.setdefault((ind.level1, ind.level2), []).append(on_page[number])
    for key, row_pages in groups.items():
        if len(set(row_pages)) > 1:
            assert all(row_pages.count(page) >= 3 for page in set(row_pages)), key

    # Each continuation page names the 一级 and 二级 labels of its first row.
    for page_index in range(1, len(pages)):
        first = min(n for n, page in on_page.items() if page == page_index)
        text = "".join(pages[page_index])
        ind = form.indicators[first - 1]
        head = text[: text.index(f"第{first}项")]
        assert squash(ind.level1) in head
        assert squash(ind.level2) in head

    # The total row is not alone on the last page.
    last = "".join(pages[-1])
    assert "总分" in last and "第40项" in last


def test_a_group_longer_than_a_block_is_printed_in_chunks_of_three_or_more():
    form = forty_indicator_form()
    indicators = [replace(ind, level1="产出指标", level2="数量指标") for ind in form.indicators]
    context = pdf.form_context(replace(form, indicators=indicators), pdf.evaluate(form))
    sizes = [len(block) for block in context["indicator_blocks"]]
    assert sum(sizes) == 40
    assert all(3 <= size <= pdf.MAX_GROUP_ROWS for size in sizes)
    # Every block starts with both labels, merged over its rows.
    for block in context["indicator_blocks"]:
        labels = [c for c in block[0].cells if c.col in (2, 3)]
        assert [c.text for c in labels] == ["产出指标", "数量指标"]
        assert all(c.rowspan == len(block) for c in labels)


def test_a_block_of_very_long_texts_may_break_across_pages():
    form = forty_indicator_form()
    long_text = "偏差说明" * 60
    indicators = [replace(ind, deviation=long_text) for ind in form.indicators]
    context = pdf.form_context(replace(form, indicators=indicators), pdf.evaluate(form))
    assert all(block.loose for block in context["indicator_blocks"])
    short = pdf.form_context(form, pdf.evaluate(form))
    assert not any(block.loose for block in short["indicator_blocks"])


def test_a_form_of_long_deviations_gets_a_wider_deviation_column():
    form = forty_indicator_form()
    assert pdf.column_widths(form) == pdf.COLUMN_WIDTHS
    long = replace(form, indicators=[replace(i, deviation="偏差" * 20) for i in form.indicators])
    widths = pdf.column_widths(long)
    assert sum(widths) == 182
    assert widths[8] > pdf.COLUMN_WIDTHS[8]
