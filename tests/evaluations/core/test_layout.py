"""The official layout model (``core.layout``) and the one number formatter (``core.formats``)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from evaluations.core import layout as L
from evaluations.core.evaluation_data import FormData, FundingData, IndicatorData
from evaluations.core.formats import format_money, format_percent, format_points
from evaluations.core.scoring import evaluate
from tests.factories import clean_form_data

D = Decimal


def spans(levels):
    groups = L.indicator_groups(levels)
    return tuple(groups.level1_spans), tuple(groups.level2_spans)


# --------------------------------------------------------------------------- merging


def test_a_blank_first_level_continues_the_group_above():
    level1, _level2 = spans(
        [("产出指标", "数量指标"), ("", "数量指标"), ("效益指标", "社会效益指标")]
    )
    assert level1 == (2, 0, 1)


def test_a_blank_second_level_continues_its_group():
    assert spans([("产出指标", "数量指标"), ("产出指标", ""), ("产出指标", "质量指标")]) == (
        (3, 0, 0),
        (2, 0, 1),
    )


def test_a_second_level_never_spans_a_change_of_first_level():
    # The same second-level words under two first levels are two groups.
    assert spans([("满意度指标", "满意度指标"), ("其他", "满意度指标")]) == ((1, 1), (1, 1))
    # A blank second level after a new first level starts an empty group of its own.
    assert spans([("产出指标", "数量指标"), ("效益指标", "")]) == ((1, 1), (1, 1))


def test_runs_merge_and_separate_runs_do_not():
    levels = (
        [("产出指标", "数量指标")] * 3 + [("效益指标", "社会效益指标")] + [("产出指标", "数量指标")]
    )
    assert spans(levels) == ((3, 0, 0, 1, 1), (3, 0, 0, 1, 1))


def test_the_layout_shows_the_continued_label_and_keeps_the_raw_value():
    form = clean_form_data()
    form.indicators[1].level1 = ""
    form.indicators[1].level2 = ""
    sheet = L.form_layout(form, evaluate(form))
    first = sheet.cell("indicators.1.level1")
    assert (first.text, first.rowspan) == ("产出指标", 5)
    assert sheet.cell("indicators.2.level1") is None  # merged into the cell above
    assert sheet.cell("indicators.1.level2").rowspan == 2
    assert sheet.cell("indicators.6.level1").rowspan == 2


def test_a_phone_card_gets_the_merged_levels_that_cover_its_row():
    form = clean_form_data()
    form.indicators[1].level1 = ""
    form.indicators[1].level2 = ""
    sheet = L.form_layout(form, evaluate(form))
    indicators = sheet.section(L.INDICATORS)
    second = sheet.indicator_rows[1]
    # Row 2 shows no level cell of its own: both are merged from row 1.
    assert [(c.field, c.text) for c in L.level_cells(indicators, second)] == [
        ("indicators.1.level1", "产出指标"),
        ("indicators.1.level2", sheet.cell("indicators.1.level2").text),
    ]
    sixth = sheet.indicator_rows[5]
    assert [c.field for c in L.level_cells(indicators, sixth)] == [
        "indicators.6.level1",
        "indicators.6.level2",
    ]


def test_a_phone_card_labels_each_value_with_its_column_heading():
    form = clean_form_data()
    sheet = L.form_layout(form, evaluate(form))
    heading = sheet.section(L.INDICATORS).rows[0]
    weight = sheet.cell("indicators.1.weight")
    expected = next(h.text for h in heading.cells if h.col == weight.col)
    assert L.heading_text(heading, weight) == expected == "分值"
    funding_heading = sheet.section(L.FUNDING).rows[0]
    executed = next(c for c in sheet.funding_rows[0].cells if c.field.endswith("executed"))
    assert L.heading_text(funding_heading, executed) == "全年执行数"


def test_the_grid_is_covered_exactly_once():
    form = clean_form_data()
    sheet = L.form_layout(form, evaluate(form))
    covered: list[tuple[int, int]] = []
    for cell in sheet.cells():
        covered += [
            (cell.row + i, cell.col + j) for i in range(cell.rowspan) for j in range(cell.colspan)
        ]
    assert len(covered) == len(set(covered)) == sheet.row_count * L.COLUMNS


def test_sections_rows_and_field_keys():
    form = clean_form_data()
    sheet = L.form_layout(form, evaluate(form))
    assert [s.name for s in sheet.sections] == list(L.SECTIONS)
    assert [r.funding_kind for r in sheet.funding_rows] == [
        "total",
        "current_year",
        "carryover",
        "other",
    ]
    assert [r.position for r in sheet.indicator_rows] == list(range(1, 9))
    assert sheet.cell("funding.total.executed").text == "70.00"
    assert sheet.cell("indicators.3.weight").value == D("10")
    assert sheet.cell("execution_rate").text == "100.00%"
    heading = sheet.parts[L.FUNDING].rows[0].cells
    assert [c.text for c in heading[2:]] == [
        "年初预算数",
        "全年预算数",
        "全年执行数",
        "分值",
        "执行率",
        "得分",
    ]
    assert heading[0].rowspan == 5 and heading[0].text == "项目资金\n（万元）"


def test_a_missing_total_funding_row_is_printed_blank():
    form = clean_form_data()
    form.funding = [FundingData("current_year", D("5"), D("5"), D("5"))]
    sheet = L.form_layout(form, evaluate(form))
    assert [r.funding_kind for r in sheet.funding_rows] == ["total", "current_year"]
    assert sheet.cell("funding.total.executed").text == ""
    assert sheet.cell("execution_weight").text == "10"


def test_the_entry_form_gets_every_funding_row():
    sheet = L.form_layout(FormData(), None, every_funding_kind=True)
    assert [r.funding_kind for r in sheet.funding_rows] == [
        "total",
        "current_year",
        "carryover",
        "other",
    ]
    assert sheet.cell("execution_rate").text == ""


def test_a_form_without_indicators_says_so():
    sheet = L.form_layout(FormData(year=2021), None)
    rows = sheet.parts[L.INDICATORS].rows
    assert [r.kind for r in rows] == ["heading", "empty"]
    assert rows[0].cells[0].rowspan == 2 and rows[1].cells[0].text == "（无绩效指标）"
    assert sheet.year_line == "（2021年度）"


# --------------------------------------------------------------------------- notes, total


def test_notes_appear_where_the_rules_compute_another_figure():
    form = clean_form_data()
    form.funding[0].executed = D("57.55")
    form.indicators[4].score = D("0.84")  # a met cost target: the rule gives 10
    form.stated_total = None
    sheet = L.form_layout(form, evaluate(form))
    assert sheet.cell("execution_score").note == "计算值：8.22"
    assert sheet.cell("indicators.5.score").note == "计算值：10"
    assert sheet.cell("stated_total").note.startswith("计算值：")
    assert sheet.cell("indicators.1.score").note == ""
    assert sheet.has_notes


def test_no_note_within_a_hundredth():
    assert L.computed_note(D("8.22"), D("8.22")) == ""
    assert L.computed_note(D("8.21"), D("8.22")) == ""
    assert L.computed_note(D("8.20"), D("8.22")) == "计算值：8.22"
    assert L.computed_note(None, D("8")) == "计算值：8"
    assert L.computed_note(D("8"), None) == ""


def test_the_total_row_shows_the_full_mark_and_notes_a_wrong_weight_sum():
    form = clean_form_data()
    sheet = L.form_layout(form, evaluate(form))
    total = sheet.parts[L.TOTAL].rows[0].cells
    assert [(c.col, c.colspan, c.text) for c in total] == [
        (1, 6, "总分"),
        (7, 1, "100"),
        (8, 1, "100"),
        (9, 1, "等级：优"),
    ]
    assert total[1].note == ""
    form.indicators[0].weight = D("5")
    total = L.form_layout(form, evaluate(form)).parts[L.TOTAL].rows[0].cells
    assert total[1].text == "100" and total[1].note == "分值合计：95"


def test_findings_and_comments_belong_to_their_rows():
    form = clean_form_data()
    form.indicators[2].score = D("11")
    result = evaluate(form)
    sheet = L.form_layout(form, result, indicator_comments={3: "看一下"}, funding_comments={})
    row = sheet.indicator_rows[2]
    assert [f.code for f in row.findings] == [f.code for f in result.findings_for_indicator(2)]
    assert "SCORE_EXCEEDS_WEIGHT" in [f.code for f in row.findings]
    assert row.severity == "error" and row.comment == "看一下" and row.name == "工程质量达标率"
    assert sheet.indicator_rows[0].findings == [] and sheet.indicator_rows[0].comment is None


def test_the_finding_json_points_at_the_page_row():
    form = clean_form_data()
    form.indicators[1].score = D("11")
    finding = evaluate(form).findings_for_indicator(1)[0]
    assert L.finding_json(finding, [0, 5, 6])["row"] == 5
    assert L.finding_json(finding, None)["row"] is None


# --------------------------------------------------------------------------- formats


@pytest.mark.parametrize(
    "value,text",
    [
        (D("70"), "70.00"),
        (D("57.5500"), "57.55"),
        (D("1.2345"), "1.2345"),
        (D("1.23456"), "1.2346"),
        (D("0.005"), "0.005"),
        (D("0"), "0.00"),
        (D("-0.00001"), "0.00"),
        (D("1E+3"), "1000.00"),
        ("12.5", "12.50"),
        (None, ""),
        ("", ""),
        ("abc", ""),
    ],
)
def test_money(value, text):
    assert format_money(value) == text


@pytest.mark.parametrize(
    "value,text",
    [
        (D("10.00"), "10"),
        (D("8.20"), "8.2"),
        (D("0.84"), "0.84"),
        (D("97.06"), "97.06"),
        (D("100"), "100"),
        (D("8.225"), "8.23"),
        (D("-0.00"), "0"),
        (D("-0.001"), "0"),
        (D("0"), "0"),
        (None, ""),
    ],
)
def test_points(value, text):
    assert format_points(value) == text


@pytest.mark.parametrize(
    "value,text",
    [
        (D("57.55") / D("70.00"), "82.21%"),
        (D("1"), "100.00%"),
        (D("0.30"), "30.00%"),
        (D("0.000049"), "0.00%"),
        (D("0.82215"), "82.22%"),  # half up, as the printed form rounds
        (None, "—"),
    ],
)
def test_percent(value, text):
    assert format_percent(value) == text


def test_the_template_filters_are_the_formatter():
    from evaluations.templatetags import evaluation_format as f

    assert f.money(D("70")) == format_money(D("70"))
    assert f.points(D("8.20")) == "8.2"
    assert f.percent(D("0.8221")) == "82.21%"


def test_indicator_data_is_rendered_verbatim():
    indicator = IndicatorData(
        level1="产出指标",
        level2="数量指标",
        name="名称",
        target="<=5",
        actual="4",
        weight=D("2"),
        score=D("2"),
    )
    form = FormData(indicators=[indicator])
    sheet = L.form_layout(form, evaluate(form))
    assert sheet.cell("indicators.1.target").text == "<=5"
    assert sheet.cell("indicators.1.weight").text == "2"
