"""Every sample form, imported end to end: figures and the exact finding codes.

The samples hold real mistakes (a score above its weight, weights that do not add to
100, a blank total, a total that does not match); the importer keeps the data as
written and the scoring engine reports them. Clean forms get no error findings.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from evaluations.core.scoring import evaluate
from evaluations.importer.text import parse_text
from tests.conftest import sample_path

# file, title line, project name prefix, year, indicators, sum of indicator weights,
# sum of indicator scores, stated total, computed total, finding codes
SAMPLE_FORMS = [
    (
        "000",
        2,
        "农村住房提升改造工程质量",
        2021,
        14,
        "90",
        "88.84",
        "97.06",
        "97.06",
        ["SCORE_DIFFERS_FROM_RULE"],
    ),
    ("000", 254, "消防安全专项（消防安全检", 2021, 9, "90", "90", "100.00", "100.00", []),
    ("000", 456, "2021年自治区访惠聚工", 2021, 10, "90", "90", "100.00", "100.00", []),
    ("000", 668, "安全生产专项（安全生产检", 2021, 10, "90", "90", "100.00", "100.00", []),
    ("000", 880, "编制昌吉州十四五期间农村", 2021, 12, "90", "90", "100.00", "100.00", []),
    ("000", 1112, "昌吉州市政基础设施建设十", 2021, 11, "90", "90", "100.00", "100.00", []),
    ("000", 1314, "建设项目审批平台", 2021, 11, "90", "90", "100.00", "100.00", []),
    ("000", 1544, "农村房屋建筑和市政设施风", 2021, 8, "90", "87.31", "94.62", "94.62", []),
    ("000", 1736, "2021年访惠聚工作经费", 2021, 8, "90", "90", None, "100.00", ["TOTAL_MISSING"]),
    ("000", 1943, "昌吉州建设行业指挥平台系", 2021, 10, "90", "90", "100.00", "100.00", []),
    (
        "001",
        1,
        "“信用昌吉”网站体系运行",
        2021,
        8,
        "90",
        "90",
        "100.00",
        "100.00",
        ["OVER_ACHIEVEMENT"],
    ),
    ("001", 156, "《昌吉回族自治州国民经济", 2021, 8, "90", "90", "100.00", "100.00", []),
    (
        "001",
        311,
        "兵地融合发展工作领导小组",
        2021,
        7,
        "90",
        "82.56",
        "89.67",
        "89.67",
        ["SCORE_DIFFERS_FROM_RULE"],
    ),
    # Every indicator at full marks with 52.76% of the budget spent (re-check rule 3).
    (
        "001",
        456,
        "昌吉回族自治州国民经济和",
        2021,
        8,
        "90",
        "90",
        "95.28",
        "95.28",
        ["RECHECK_FULL_MARKS"],
    ),
    (
        "001",
        611,
        "昌吉州1000吨应急成品",
        2021,
        11,
        "90",
        "79",
        "84.00",
        "84.00",
        ["SCORE_DIFFERS_FROM_RULE"],
    ),
    (
        "001",
        796,
        "昌吉州10000吨原粮储",
        2021,
        11,
        "90",
        "77.12",
        "80.24",
        "80.24",
        ["SCORE_DIFFERS_FROM_RULE"],
    ),
    ("001", 996, "昌吉州发展和改革委员会部", 2021, 8, "90", "90", "100.00", "100.00", []),
    ("001", 1150, "访惠聚工作经费", 2021, 8, "90", "90", "100.00", "100.00", ["OVER_ACHIEVEMENT"]),
    ("001", 1305, "高质量发展研究经费", 2021, 7, "90", "90", "100.00", "100.00", []),
    (
        "001",
        1450,
        "节能诊断专项资金",
        2021,
        11,
        "90",
        "90",
        "99.53",
        "99.53",
        ["EXECUTION_UNEXPLAINED"],
    ),
    (
        "001",
        1639,
        "救灾物资储备项目",
        2021,
        9,
        "90",
        "83.67",
        "90.34",
        "90.34",
        ["SCORE_DIFFERS_FROM_RULE"],
    ),
    (
        "001",
        1804,
        "粮食流通监督检查",
        2021,
        14,
        "90",
        "90",
        "100.00",
        "100.00",
        ["OVER_ACHIEVEMENT"],
    ),
    ("001", 2019, "粮油质检中心提标改造经费", 2021, 10, "90", "90", "100.00", "100.00", []),
    ("001", 2209, "粮油质量检测工作经费", 2021, 11, "90", "90", "100.00", "100.00", []),
    ("001", 2394, "煤矿安全监管专项经费", 2021, 9, "90", "89", "99.00", "99.00", []),
    ("001", 2559, "煤炭行业管理办公室开办经", 2021, 13, "90", "90", "100.00", "100.00", []),
    ("001", 2768, "视频会议系统升级改造经费", 2021, 10, "90", "90", "100.00", "100.00", []),
    (
        "001",
        2942,
        "向山西援增救灾物资经费",
        2021,
        10,
        "90",
        "90",
        "99.58",
        "99.58",
        ["EXECUTION_UNEXPLAINED"],
    ),
    ("001", 3119, "项目工作前期费（评审、验", 2021, 15, "90", "90", "100.00", "100.00", []),
    # Every indicator at full marks with 76.73% spent (re-check rule 3).
    (
        "001",
        3343,
        "州本级应急物资（呼图壁县",
        2021,
        9,
        "90",
        "90",
        "97.67",
        "97.67",
        ["RECHECK_FULL_MARKS"],
    ),
    (
        "001",
        3508,
        "州社会信用体系领导小组办",
        2021,
        8,
        "90",
        "90",
        "100.00",
        "100.00",
        ["OVER_ACHIEVEMENT"],
    ),
    (
        "003",
        16,
        "访惠聚项目支出",
        2020,
        11,
        "90",
        "85",
        "93.7",
        "93.69",
        [
            "CATEGORY_WEIGHTS_NOT_STANDARD",
            "SCORE_DIFFERS_FROM_RULE",
            "SCORE_DIFFERS_FROM_RULE",
            "SCORE_DIFFERS_FROM_RULE",
        ],
    ),
    (
        "003",
        242,
        "康养产业发展项目经费",
        2020,
        7,
        "90",
        "90",
        "100",
        "100.00",
        ["CATEGORY_WEIGHTS_NOT_STANDARD"],
    ),
    ("003", 435, "社会救助及核对工作", 2020, 13, "90", "90", "100", "100.00", ["OVER_ACHIEVEMENT"]),
    (
        "003",
        656,
        "行政区划和地名管理",
        2020,
        9,
        "80",
        "90",
        "100",
        "100.00",
        ["WEIGHTS_NOT_100", "CATEGORY_WEIGHTS_NOT_STANDARD", "SCORE_EXCEEDS_WEIGHT"],
    ),
    (
        "003",
        850,
        "社会组织党建工作经费",
        2020,
        9,
        "90",
        "100",
        "100",
        "110.00",
        [
            "CATEGORY_WEIGHTS_NOT_STANDARD",
            "TOTAL_MISMATCH",
            "SCORE_EXCEEDS_WEIGHT",
            "SCORE_EXCEEDS_WEIGHT",
        ],
    ),
    (
        "003",
        1033,
        "社会组织管理工作",
        2020,
        8,
        "90",
        "90",
        "100",
        "100.00",
        # Rows 6 and 7: "…服务功能逐步显现" / "…服务功能" at ≥70%, a rate of nothing named.
        ["CATEGORY_WEIGHTS_NOT_STANDARD", "RECHECK_HOLLOW_TARGET", "RECHECK_HOLLOW_TARGET"],
    ),
    (
        "003",
        1229,
        "“十四五”规划",
        2020,
        7,
        "90",
        "90",
        "100",
        "190.00",
        # Row 1: "达到编制规划要求" at ≥90%, a rate of nothing named.
        [
            "WEIGHTS_NOT_100",
            "CATEGORY_WEIGHTS_NOT_STANDARD",
            "TOTAL_MISMATCH",
            "RECHECK_HOLLOW_TARGET",
        ],
    ),
]


@pytest.fixture(scope="module")
def parsed():
    return {p: parse_text(sample_path(p).read_bytes()) for p in ("000", "001", "003")}


def test_it_reads_every_form_of_every_sample(parsed):
    assert {p: len(r.forms) for p, r in parsed.items()} == {"000": 10, "001": 21, "003": 7}
    assert all(r.problems == [] for r in parsed.values())
    assert len(SAMPLE_FORMS) == 38


@pytest.mark.parametrize("row", SAMPLE_FORMS, ids=[f"{r[0]}:{r[1]}" for r in SAMPLE_FORMS])
def test_it_computes_the_figures_and_findings_of_each_form(parsed, row):
    prefix, line, name, year, count, weights, scores, stated, computed, codes = row
    form = next(f for f in parsed[prefix].forms if f.line == line)
    result = evaluate(form)
    assert form.project_name.startswith(name)
    assert form.year == year
    assert len(form.indicators) == count
    assert sum(i.weight or 0 for i in form.indicators) == Decimal(weights)
    assert sum(i.score or 0 for i in form.indicators) == Decimal(scores)
    assert form.stated_total == (Decimal(stated) if stated is not None else None)
    assert result.computed_total == Decimal(computed)
    assert [f.code for f in result.findings] == codes


def test_it_lets_the_two_accepted_forms_of_the_fdrc_file_be_submitted(parsed):
    # 节能诊断专项资金 and 向山西援增救灾物资经费 were accepted on paper: a low execution rate
    # with no written reason asks for an explanation (a warning), it does not block them.
    for line in (1450, 2942):
        form = next(f for f in parsed["001"].forms if f.line == line)
        result = evaluate(form)
        assert result.errors == []
        assert [f.code for f in result.warnings] == ["EXECUTION_UNEXPLAINED"]


def test_it_finds_no_errors_in_clean_forms(parsed):
    dirty = {(r[0], r[1]) for r in SAMPLE_FORMS if any(c in ERROR_CODES for c in r[9])}
    assert dirty == {
        ("000", 1736),
        ("003", 656),
        ("003", 850),
        ("003", 1229),
    }
    for prefix, result in parsed.items():
        for form in result.forms:
            if (prefix, form.line) not in dirty:
                assert evaluate(form).errors == []


ERROR_CODES = {
    "WEIGHTS_NOT_100",
    "SCORE_EXCEEDS_WEIGHT",
    "FUNDING_SCORE_MISMATCH",
    "TOTAL_MISMATCH",
    "TOTAL_MISSING",
    "DEVIATION_MISSING",
}


def test_labels_left_out_under_merged_cells_continue_the_row_above(parsed):
    # The printed forms leave a repeated 一级/二级指标 blank (merged cells): the importer
    # continues the label above, so no imported row is missing its category.
    rows = [i for r in parsed.values() for f in r.forms for i in f.indicators]
    assert len(rows) == 372
    assert all(i.level1.strip() and i.level2.strip() for i in rows)
    assert not any(
        f.code == "CATEGORY_MISSING"
        for r in parsed.values()
        for form in r.forms
        for f in evaluate(form).findings
    )
