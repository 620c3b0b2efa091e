"""Tests for the scoring engine: rules 1–7 and every finding code, figures computed by hand."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evaluations.core.evaluation_data import FormData, FundingData, IndicatorData
from evaluations.core.recheck_checks import RECHECK_FULL_MARKS
from evaluations.core.scoring import (
    CATEGORY_MISSING,
    CATEGORY_WEIGHTS_NOT_STANDARD,
    DEVIATION_MISSING,
    ERROR,
    EXECUTION_OVER_100,
    EXECUTION_UNEXPLAINED,
    FUNDING_SCORE_MISMATCH,
    FUNDS_NOT_SUMMED,
    OVER_ACHIEVEMENT,
    SCORE_DIFFERS_FROM_RULE,
    SCORE_EXCEEDS_WEIGHT,
    TOTAL_MISMATCH,
    TOTAL_MISSING,
    WARNING,
    WEIGHTS_NOT_100,
    Finding,
    ScoringRules,
    evaluate,
    evaluate_indicator,
    format_percent,
    quantize2,
)

D = Decimal


# --- builders ----------------------------------------------------------------------------


def ind(
    target: str = "",
    actual: str = "",
    weight: str | None = "10",
    score: str | None = "auto",
    *,
    level1: str = "产出指标",
    level2: str = "数量指标",
    name: str = "指标",
    deviation: str = "",
) -> IndicatorData:
    """One indicator row; score "auto" means the full weight."""
    if score == "auto":
        score = weight
    return IndicatorData(
        level1=level1,
        level2=level2,
        name=name,
        target=target,
        actual=actual,
        weight=D(weight) if weight is not None else None,
        score=D(score) if score is not None else None,
        deviation=deviation,
    )


def standard_indicators() -> list[IndicatorData]:
    """产出 50 / 效益 30 / 满意度 10, all met with full scores."""
    return [
        ind(">=10件", "10件", "20", level2="数量指标"),
        ind("=100%", "100%", "20", level2="质量指标"),
        ind("<=50万元", "48万元", "10", level2="成本指标"),
        ind("有效改善", "有效改善", "30", level1="效益指标", level2="社会效益指标"),
        ind(">=95%", "96%", "10", level1="满意度指标", level2="满意度指标"),
    ]


def make_form(
    indicators: list[IndicatorData] | None = None,
    *,
    budget: str | None = "100",
    executed: str | None = "100",
    sources: list[tuple[str, str | None, str | None]] | None = None,
    with_total_row: bool = True,
    execution_weight: str | None = "10",
    execution_score: str | None = "10",
    total: str | None = "100",
) -> FormData:
    """A form that is clean by default (execution 100%, standard split, total 100)."""
    if sources is None:
        sources = [("current_year", budget, executed), ("carryover", "0", "0"), ("other", "0", "0")]
    funding = []
    if with_total_row:
        funding.append(FundingData("total", _d(budget), _d(budget), _d(executed)))
    funding += [FundingData(kind, _d(b), _d(b), _d(e)) for kind, b, e in sources]
    return FormData(
        year=2021,
        project_name="测试项目",
        funding=funding,
        execution_weight=_d(execution_weight),
        execution_score=_d(execution_score),
        stated_total=_d(total),
        indicators=standard_indicators() if indicators is None else indicators,
    )


def _d(value: str | None) -> Decimal | None:
    return D(value) if value is not None else None


def with_row(index: int, row: IndicatorData) -> list[IndicatorData]:
    rows = standard_indicators()
    rows[index] = row
    return rows


def seed_form() -> FormData:
    """农村住房提升改造工程质量监督检查费 (2021), seeds/000: 57.55/70, total 97.06."""
    cost_reason = (
        "项目实施过程中，原计划实施7000户，但自治区实际下达任务1600户，所以资金未使用完毕。"
    )
    rows = [
        ind("=1600户", "1600", "10"),
        ind("=10个", "10个", "5"),
        ind("=17人", "17人", "5"),
        ind("=100%", "100%", "5", level2="质量指标"),
        ind("=100%", "100%", "5", level2="质量指标"),
        ind("=100%", "100%", "5", level2="质量指标"),
        ind("8月13日", "8月13日", "5", level2="时效指标"),
        ind("12月31日", "12月31日", "2", level2="时效指标"),
        ind(">=98%", "98%", "3", level2="时效指标"),
        ind("<=21.50万元", "9.05万元", "2", "0.84", level2="成本指标", deviation=cost_reason),
        ind("<=48.50万元", "48.5万元", "3", level2="成本指标"),
        ind(
            "有效维护", "97%", "15", level1="效益指标", level2="社会效益指标", deviation="加强监管"
        ),
        ind(
            "有效改善",
            "98%",
            "15",
            level1="效益指标",
            level2="可持续影响指标",
            deviation="进一步改善",
        ),
        ind(">=95%", "95%", "10", level1="满意度指标", level2="满意度指标"),
    ]
    # The printed form omits a repeated 一级指标 label (merged cells); the importer continues
    # it from the row above, so every row carries its label (the defaults of ``ind``).
    return FormData(
        year=2021,
        project_name="农村住房提升改造工程质量监督检查费",
        funding=[
            FundingData("total", D("70.00"), D("70.00"), D("57.55")),
            FundingData("current_year", D("70"), D("70"), D("57.55")),
            FundingData("carryover", D("0"), D("0"), D("0")),
            FundingData("other", D("0"), D("0"), D("0")),
        ],
        execution_weight=D("10"),
        execution_score=D("8.22"),
        stated_total=D("97.06"),
        indicators=rows,
    )


# --- helpers and the clean case ----------------------------------------------------------


def test_quantize2_rounds_half_up() -> None:
    assert quantize2(D("8.2214")) == D("8.22")
    assert quantize2(D("7.625")) == D("7.63")
    assert quantize2(D("2.675")) == D("2.68")
    assert str(quantize2(D("10"))) == "10.00"


def test_format_percent() -> None:
    assert format_percent(D("57.55") / D("70.00")) == "82.21%"
    assert format_percent(D("1")) == "100.00%"
    assert format_percent(D("0.30")) == "30.00%"
    assert format_percent(None) == "—"


def test_it_finds_nothing_on_a_clean_form() -> None:
    result = evaluate(make_form())
    assert result.findings == []
    assert result.execution_rate == D("1.0000")
    assert result.execution_score == D("10.00")
    assert result.weight_sum == D("100")
    assert result.indicator_weight_sum == D("90")
    assert result.indicator_score_sum == D("90")
    assert result.computed_total == D("100.00")
    assert not result.has_errors


# --- the seed form -----------------------------------------------------------------------


def test_it_scores_the_seed_form_as_printed() -> None:
    result = evaluate(seed_form())
    assert result.execution_rate == D("0.8221")
    assert result.execution_rate_display == "82.21%"
    assert result.execution_score == D("8.22")
    assert result.indicator_score_sum == D("88.84")
    assert result.computed_total == D("97.06")
    assert result.weight_sum == D("100")
    # The only finding: the met cost target scored 0.84 instead of 2.
    assert result.codes == [SCORE_DIFFERS_FROM_RULE]
    finding = result.findings[0]
    assert (finding.severity, finding.indicator, finding.funding) == (WARNING, 9, None)
    assert "2.00" in finding.message and "0.84" in finding.message
    assert "<=21.50万元" in finding.message and "9.05万元" in finding.message
    assert result.findings_for_indicator(9) == [finding]
    assert not result.has_errors


def test_seed_cost_row_is_met_and_suggests_full_weight() -> None:
    result = evaluate(seed_form())
    cost = result.indicators[9]
    assert cost.quantitative and cost.comparable and cost.met
    assert cost.more_is_better is False
    assert cost.suggested_score == D("2.00")
    assert cost.achievement == D("2.3757")  # 21.50 / 9.05
    assert not cost.over_achieved  # less-is-better targets are not questioned
    assert result.indicators[7].suggested_score == D("2.00")  # 12月31日 on time
    assert result.indicators[11].suggested_score is None  # 有效维护 is qualitative
    assert not result.indicators[11].quantitative
    assert result.indicators[1].category == "产出指标"  # inherited from the row above


# --- rule 2: budget execution ------------------------------------------------------------


def test_execution_score_of_the_seed_example() -> None:
    result = evaluate(
        make_form(budget="70.00", executed="57.55", execution_score="8.22", total="98.22")
    )
    assert result.execution_rate == D("0.8221")
    assert result.execution_score == D("8.22")
    assert result.computed_total == D("98.22")
    assert FUNDING_SCORE_MISMATCH not in result.codes
    assert TOTAL_MISMATCH not in result.codes


def test_execution_score_rounds_half_up() -> None:
    # 6.1 / 8 = 76.25% -> 7.625 -> 7.63 (banker's rounding would give 7.62)
    result = evaluate(make_form(budget="8", executed="6.1", execution_score="7.63", total="97.63"))
    assert result.execution_score == D("7.63")
    assert result.execution_rate_display == "76.25%"


def test_execution_rate_uses_the_sources_without_a_total_row() -> None:
    form = make_form(
        with_total_row=False,
        sources=[("current_year", "50", "40"), ("carryover", "30", "30"), ("other", None, None)],
        execution_score="8.75",
        total="98.75",
    )
    result = evaluate(form)
    assert (result.annual_budget, result.executed) == (D("80"), D("70"))
    assert result.execution_score == D("8.75")
    assert result.computed_total == D("98.75")
    assert FUNDS_NOT_SUMMED not in result.codes


@pytest.mark.parametrize(("budget", "executed"), [("0", "10"), (None, "10"), ("100", None)])
def test_execution_rate_is_none_without_a_usable_budget(
    budget: str | None, executed: str | None
) -> None:
    form = make_form(
        budget=budget,
        executed=executed,
        sources=[("current_year", budget, executed)],
        execution_score="9",
        total="99",
    )
    result = evaluate(form)
    assert result.execution_rate is None
    assert result.execution_score is None
    assert result.execution_rate_display == "—"
    # The stated execution score stands in for the missing computation.
    assert result.computed_total == D("99.00")
    assert FUNDING_SCORE_MISMATCH not in result.codes
    assert TOTAL_MISMATCH not in result.codes


def test_execution_over_budget_scores_full_weight_and_warns() -> None:
    result = evaluate(make_form(budget="70", executed="75"))
    assert result.execution_rate == D("1.0714")
    assert result.execution_score == D("10.00")
    assert result.codes == [EXECUTION_OVER_100]
    finding = result.findings[0]
    assert (finding.severity, finding.funding) == (WARNING, "total")
    assert finding.message == "全年执行数 75.00 超过全年预算数 70.00（执行率 107.14%）"


def test_blank_execution_weight_counts_as_zero() -> None:
    result = evaluate(make_form(execution_weight=None, execution_score=None, total="90"))
    assert result.weight_sum == D("90")
    assert result.execution_score == D("0.00")
    assert result.codes == [WEIGHTS_NOT_100]


# --- rule 3: quantitative indicators -----------------------------------------------------


@pytest.mark.parametrize(
    ("target", "actual", "weight", "suggested", "met"),
    [
        # more is better: weight × actual / target
        (">=10件", "8件", "5", "4.00", False),
        ("≥10件", "10件", "5", "5.00", True),
        ("=1600户", "1200", "10", "7.50", False),
        ("=1600户", "1600", "10", "10.00", True),
        ("=10个", "9个", "5", "4.50", False),
        (">=3次", "2次", "6", "4.00", False),
        (">=95%", "90%", "10", "9.47", False),  # 10 × 90 / 95 = 9.4736…
        ("=100%", "100%", "5", "5.00", True),
        (">=95", "96%", "10", "10.00", True),  # unit written on one side only
        ("13万", "12万", "5", "4.62", False),  # 5 × 12 / 13 = 4.615…
        (">=1万条", "9000条", "4", "3.60", False),  # 万 converted
        # less is better: weight × target / actual
        ("<=21.50万元", "9.05万元", "2", "2.00", True),
        ("<=21.50万元", "25万元", "2", "1.72", False),
        ("≤10万元", "120000元", "4", "3.33", False),  # 4 × 10 / 12
        ("<=24小时", "30小时", "3", "2.40", False),
        ("<=5%", "0%", "2", "2.00", True),
        ("<=0", "3", "2", "0.00", False),
        ("<10天", "20天", "3", "1.50", False),
    ],
)
def test_rule_3_suggested_scores(
    target: str, actual: str, weight: str, suggested: str, met: bool
) -> None:
    result = evaluate_indicator(0, ind(target, actual, weight))
    assert result.quantitative and result.comparable
    assert result.met is met
    assert result.suggested_score == D(suggested)


@pytest.mark.parametrize(
    ("target", "actual"),
    [
        ("=10个", "10件"),  # different units
        (">=95%", "20人"),
        ("=1600户", "有效完成"),
        (">=95%", ""),
        ("=1600户", "12月31日"),
        ("12月31日", "100%"),
    ],
)
def test_incomparable_values_get_no_suggestion(target: str, actual: str) -> None:
    result = evaluate_indicator(0, ind(target, actual, "5"))
    assert result.quantitative
    assert not result.comparable
    assert result.suggested_score is None
    assert result.met is None


def test_no_comparator_means_ceiling_for_cost_and_floor_otherwise() -> None:
    cost = evaluate_indicator(0, ind("20万元", "25万元", "5", level2="成本指标"))
    assert (cost.more_is_better, cost.suggested_score) == (False, D("4.00"))
    new_template_cost = evaluate_indicator(
        0, ind("20万元", "25万元", "5", level1="成本指标", level2="经济成本指标")
    )
    assert (new_template_cost.more_is_better, new_template_cost.suggested_score) == (
        False,
        D("4.00"),
    )
    count = evaluate_indicator(0, ind("20件", "25件", "5", level2="数量指标"))
    assert (count.more_is_better, count.met, count.suggested_score) == (True, True, D("5.00"))


def test_missing_weight_gives_no_suggestion() -> None:
    result = evaluate_indicator(0, ind(">=10件", "5件", None, None))
    assert result.comparable and result.met is False
    assert result.suggested_score is None


@pytest.mark.parametrize(
    ("target", "actual", "met", "suggested"),
    [
        ("2021年12月31日", "2021年11月30日", True, "5.00"),
        ("2021年12月31日", "2021年12月31日", True, "5.00"),
        ("12月31日", "12月31日", True, "5.00"),
        ("8月13日", "8月13日", True, "5.00"),
        ("12月底前", "12月20日", True, "5.00"),
        ("12月31日", "2021年10月", True, "5.00"),
        ("1-12月", "1-12月", True, "5.00"),
        (">=2021年6月", "2021年8月", True, "5.00"),
        # Late: no formula in the rules, so no suggestion (and no crash).
        ("2021年12月31日", "2022年1月15日", False, None),
        ("6月30日前", "8月13日", False, None),
    ],
)
def test_dates_are_compared_as_deadlines(
    target: str, actual: str, met: bool, suggested: str | None
) -> None:
    result = evaluate_indicator(0, ind(target, actual, "5", level2="时效指标"))
    assert result.quantitative and result.comparable
    assert result.met is met
    assert result.suggested_score == (D(suggested) if suggested else None)
    assert result.achievement is None


def test_late_date_raises_no_rule_warning_but_needs_a_reason() -> None:
    row = ind("2021年6月30日", "2021年8月31日", "20", "18", level2="时效指标")
    result = evaluate(make_form(with_row(1, row), total="98"))
    assert result.codes == [DEVIATION_MISSING]
    assert result.findings[0].indicator == 1


@pytest.mark.parametrize("target", ["有效改善", "逐步提高", "保障", "达标", "合格", "是"])
def test_qualitative_targets_get_no_suggested_score(target: str) -> None:
    row = ind(
        target, "80%", "30", "25", level1="效益指标", level2="社会效益指标", deviation="部分完成"
    )
    result = evaluate(make_form(with_row(3, row), total="95"))
    assert result.indicators[3].quantitative is False
    assert result.indicators[3].suggested_score is None
    assert result.findings == []  # graded by the department (rule 4), no rule warning


# --- findings, one code at a time --------------------------------------------------------


def test_weights_not_100() -> None:
    rows = with_row(0, ind(">=10件", "10件", "15"))
    result = evaluate(make_form(rows, total="95"))
    assert result.weight_sum == D("95")
    assert result.codes == [WEIGHTS_NOT_100, CATEGORY_WEIGHTS_NOT_STANDARD]
    finding = result.findings[0]
    assert finding.severity == ERROR
    assert finding.message == "分值合计为 95.00，应为 100（预算执行 10.00，绩效指标 85.00）"
    assert (finding.indicator, finding.funding) == (None, None)


def test_weights_within_tolerance_are_100() -> None:
    rows = with_row(0, ind(">=10件", "10件", "19.995"))
    result = evaluate(make_form(rows, total="99.995"))
    assert WEIGHTS_NOT_100 not in result.codes


def test_score_exceeds_weight_one_finding_per_row() -> None:
    rows = standard_indicators()
    rows[0] = ind(">=10件", "10件", "20", "22")
    rows[4] = ind(
        ">=95%", "96%", "10", "-1", level1="满意度指标", level2="满意度指标", deviation="x"
    )
    result = evaluate(make_form(rows, total="91"))  # 10 + 22 + 20 + 10 + 30 - 1
    exceeded = [f for f in result.findings if f.code == SCORE_EXCEEDS_WEIGHT]
    assert [(f.indicator, f.severity) for f in exceeded] == [(0, ERROR), (4, ERROR)]
    assert exceeded[0].message == "得分 22.00 超出范围 0–20.00（分值）"
    assert exceeded[1].message == "得分 -1.00 超出范围 0–10.00（分值）"
    # The rule suggests full marks for both met targets, so both differ from the rule too.
    assert result.codes == [
        SCORE_EXCEEDS_WEIGHT,
        SCORE_DIFFERS_FROM_RULE,
        SCORE_EXCEEDS_WEIGHT,
        SCORE_DIFFERS_FROM_RULE,
    ]


def test_score_on_a_row_without_weight_exceeds_it() -> None:
    rows = standard_indicators() + [ind("有效", "有效", None, "1", name="无分值")]
    result = evaluate(make_form(rows, total="101"))
    assert result.codes == [SCORE_EXCEEDS_WEIGHT]
    assert result.findings[0].indicator == 5
    assert result.weight_sum == D("100")


def test_funding_score_mismatch() -> None:
    result = evaluate(
        make_form(budget="70.00", executed="57.55", execution_score="8.00", total="98.22")
    )
    assert FUNDING_SCORE_MISMATCH in result.codes
    finding = next(f for f in result.findings if f.code == FUNDING_SCORE_MISMATCH)
    assert (finding.severity, finding.funding, finding.indicator) == (ERROR, "total", None)
    assert finding.message == "执行率 82.21%，按规则得分应为 8.22，表中填写 8.00"


@pytest.mark.parametrize("stated", ["8.21", "8.23", None])
def test_funding_score_within_tolerance_or_blank_is_accepted(stated: str | None) -> None:
    form = make_form(budget="70.00", executed="57.55", execution_score=stated, total="98.22")
    assert FUNDING_SCORE_MISMATCH not in evaluate(form).codes


def test_total_mismatch() -> None:
    result = evaluate(make_form(total="99"))
    assert result.codes == [TOTAL_MISMATCH]
    finding = result.findings[0]
    assert finding.severity == ERROR
    assert finding.message == "总分填写 99.00，按规则应为 100.00（预算执行 10.00 + 指标得分 90.00）"


@pytest.mark.parametrize("stated", ["99.99", "100.01"])
def test_total_within_tolerance(stated: str) -> None:
    assert evaluate(make_form(total=stated)).findings == []


def test_total_counts_blank_scores_as_zero() -> None:
    rows = with_row(4, ind(">=95%", "96%", "10", None, level1="满意度指标", deviation="未评分"))
    result = evaluate(make_form(rows, total="90"))
    assert result.indicator_score_sum == D("80")
    assert result.computed_total == D("90.00")
    assert result.findings == []


def test_total_missing() -> None:
    result = evaluate(make_form(total=None))
    assert result.codes == [TOTAL_MISSING]
    assert result.findings[0].severity == ERROR
    assert result.findings[0].message == "未填写总分，按规则应为 100.00"


def test_deviation_missing_per_indicator_row() -> None:
    rows = standard_indicators()
    rows[0] = ind(">=10件", "8件", "20", "16")  # rule gives 16: no rule warning
    rows[1] = ind(
        "=100%", "90%", "20", "18", level2="质量指标", deviation="无"
    )  # "无" says nothing
    rows[2] = ind("<=50万元", "55万元", "10", "9.09", level2="成本指标", deviation="物价上涨")
    result = evaluate(make_form(rows, total="93.09"))
    assert result.codes == [DEVIATION_MISSING, DEVIATION_MISSING]
    assert [f.indicator for f in result.findings] == [0, 1]
    assert result.findings[0].message == "得分 16.00 低于分值 20.00，请填写偏差原因分析及改进措施"
    assert result.indicators[2].suggested_score == D("9.09")  # 10 × 50 / 55


def test_blank_score_on_a_weighted_row_needs_a_reason() -> None:
    rows = with_row(4, ind(">=95%", "96%", "10", None, level1="满意度指标"))
    result = evaluate(make_form(rows, total="90"))
    assert result.codes == [DEVIATION_MISSING]
    assert result.findings[0].message == "得分 0.00 低于分值 10.00，请填写偏差原因分析及改进措施"


def test_an_unexplained_execution_rate_is_a_warning_not_an_error() -> None:
    # DEVIATION_MISSING is an indicator rule (docs/domain.md); the funding block has no deviation
    # cell, so a low execution rate with no explanation anywhere asks for one at submission.
    result = evaluate(make_form(budget="100", executed="80", execution_score="8", total="98"))
    # Every indicator at full marks with 80% spent is questioned too (re-check rule 3).
    assert result.codes == [EXECUTION_UNEXPLAINED, RECHECK_FULL_MARKS]
    assert result.errors == []
    finding = result.findings[0]
    assert (finding.severity, finding.funding, finding.indicator) == (WARNING, "total", None)
    assert finding.message == (
        "执行率 80.00% 低于 100%，表中没有说明原因：请在偏差原因分析及改进措施中说明，或在提交时说明"
    )


def test_a_full_execution_rate_needs_no_explanation() -> None:
    result = evaluate(make_form(budget="100", executed="100", execution_score="10", total="100"))
    assert EXECUTION_UNEXPLAINED not in result.codes


def test_any_deviation_text_explains_the_execution_rate() -> None:
    rows = with_row(3, ind("有效改善", "有效改善", "30", level1="效益指标", deviation="资金结余"))
    result = evaluate(make_form(rows, budget="100", executed="80", execution_score="8", total="98"))
    # Explained; every indicator at full marks with 80% spent is still questioned (rule 3).
    assert result.codes == [RECHECK_FULL_MARKS]


def test_category_weights_not_standard() -> None:
    rows = standard_indicators()
    rows[0] = ind(">=10件", "10件", "15")
    rows[3] = ind("有效改善", "有效改善", "35", level1="效益指标", level2="社会效益指标")
    result = evaluate(make_form(rows))
    assert result.codes == [CATEGORY_WEIGHTS_NOT_STANDARD]
    finding = result.findings[0]
    assert finding.severity == WARNING
    assert finding.message == (
        "一级指标分值为 产出指标 45.00、效益指标 35.00、满意度指标 10.00，"
        "标准为 产出指标 50、效益指标 30、满意度指标 10"
    )
    assert not result.has_errors


def test_cost_as_first_level_category_counts_with_output() -> None:
    rows = with_row(2, ind("<=50万元", "48万元", "10", level1="成本指标", level2="经济成本指标"))
    result = evaluate(make_form(rows))
    assert result.indicators[2].category == "成本指标"
    assert result.findings == []


def test_unknown_first_level_category_is_not_standard() -> None:
    rows = with_row(3, ind("有效改善", "有效改善", "30", level1="影响指标", level2="社会效益指标"))
    result = evaluate(make_form(rows))
    assert result.codes == [CATEGORY_WEIGHTS_NOT_STANDARD]
    assert "影响指标 30.00" in result.findings[0].message
    assert "效益指标 0.00" in result.findings[0].message


def test_category_labels_are_normalised() -> None:
    rows = standard_indicators()
    rows[0].level1 = " 产出 "
    rows[3].level1 = "效益指\n标"
    assert evaluate(make_form(rows)).findings == []


def test_a_row_without_its_categories_is_an_error_of_its_own() -> None:
    rows = standard_indicators()
    rows[1].level1 = ""
    rows[2].level2 = " "
    result = evaluate(make_form(rows))
    # Only the blank labels: the row keeps counting in the category above for the weights.
    assert [(f.code, f.severity, f.indicator) for f in result.findings] == [
        (CATEGORY_MISSING, ERROR, 1),
        (CATEGORY_MISSING, ERROR, 2),
    ]
    assert result.findings[0].message == "未选择一级指标，请选择后再提交。"
    assert result.findings[1].message == "未选择二级指标，请选择后再提交。"
    rows[1].level2 = ""
    assert evaluate(make_form(rows)).findings[0].message == (
        "未选择一级指标、二级指标，请选择后再提交。"
    )


def test_score_differs_from_rule() -> None:
    rows = with_row(0, ind(">=10件", "8件", "20", "18", deviation="任务调整"))
    result = evaluate(make_form(rows, total="98"))
    assert result.codes == [SCORE_DIFFERS_FROM_RULE]
    finding = result.findings[0]
    assert (finding.severity, finding.indicator) == (WARNING, 0)
    assert (
        finding.message == "按规则得分应为 16.00，表中填写 18.00（指标值 >=10件，实际完成值 8件）"
    )


def test_score_within_tolerance_of_the_rule_is_accepted() -> None:
    # 10 × 90 / 95 = 9.47; a department writing 9.48 or 9.46 is within 0.01.
    rows = with_row(4, ind(">=95%", "90%", "10", "9.48", level1="满意度指标", deviation="宣传不足"))
    result = evaluate(make_form(rows, total="99.48"))
    assert result.findings == []


def test_funds_not_summed() -> None:
    form = make_form(
        sources=[("current_year", "60", "60"), ("carryover", "5", "40"), ("other", None, None)]
    )
    result = evaluate(form)
    assert result.codes == [FUNDS_NOT_SUMMED]
    finding = result.findings[0]
    assert (finding.severity, finding.funding, finding.indicator) == (WARNING, "total", None)
    # 60 + 40 = 100: the executed column adds up and is not mentioned.
    assert finding.message == (
        "年度资金总额不等于各资金来源合计：年初预算数 100.00 ≠ 65.00；全年预算数 100.00 ≠ 65.00"
    )


def test_funds_not_summed_in_the_executed_column() -> None:
    form = make_form(sources=[("current_year", "100", "90"), ("carryover", "0", "0")])
    result = evaluate(form)
    assert result.codes == [FUNDS_NOT_SUMMED]
    assert (
        result.findings[0].message == "年度资金总额不等于各资金来源合计：全年执行数 100.00 ≠ 90.00"
    )


def test_the_parts_of_fiscal_funds_are_counted_once_inside_them() -> None:
    # 财政资金 100 = 当年财政拨款 80 + 上年结转资金 20; with 单位资金 the total is 110 (not 210).
    sources = [("fiscal", "100", "100"), ("current_year", "80", "80"), ("carryover", "20", "20")]
    form = make_form(budget="110", executed="110", sources=[*sources, ("unit", "10", "10")])
    result = evaluate(form)
    assert result.codes == []
    # Without the total row, the execution rate comes from the same sum.
    form = make_form(with_total_row=False, sources=[*sources, ("unit", "10", "0")])
    result = evaluate(form)
    assert (result.annual_budget, result.executed) == (D("110"), D("100"))


def test_funds_not_summed_needs_values_to_compare() -> None:
    form = make_form(sources=[("current_year", None, None), ("carryover", None, None)])
    assert evaluate(form).findings == []
    only_total = make_form(sources=[])
    assert evaluate(only_total).findings == []


@pytest.mark.parametrize(
    ("target", "actual", "over"),
    [
        (">=70%", "100%", True),  # 142.86%
        (">=100件", "130件", True),  # exactly +30%
        (">=100件", "129件", False),
        ("=1600户", "2100户", True),
        ("=10个", "10个", False),
        ("<=10万元", "5万元", False),  # less is better: never questioned
        ("=0", "5", False),
    ],
)
def test_over_achievement(target: str, actual: str, over: bool) -> None:
    rows = with_row(0, ind(target, actual, "20"))
    result = evaluate(make_form(rows))
    assert result.indicators[0].over_achieved is over
    assert (OVER_ACHIEVEMENT in result.codes) is over
    if over:
        finding = result.findings_for_indicator(0)[0]
        assert finding.severity == WARNING
        # The warning alone changes nothing: the local deduction rule is off by default.
        assert result.computed_total == D("100.00")
        assert result.indicators[0].suggested_score == D("20.00")


def test_over_achievement_message() -> None:
    rows = with_row(0, ind(">=70%", "100%", "20"))
    finding = evaluate(make_form(rows)).findings[0]
    assert finding.message == (
        "实际完成值 100% 超出指标值 >=70% 的 30.00% 以上（完成率 142.86%），请核实指标值是否设定偏低"
    )


# --- rule 7: local rules -----------------------------------------------------------------


def test_over_achievement_deduction_local_rule() -> None:
    rules = ScoringRules(over_achievement_deduction=True)
    rows = with_row(0, ind(">=70%", "100%", "20"))
    result = evaluate(make_form(rows, total="98"), rules)
    assert result.indicators[0].suggested_score == D("18.00")
    assert result.indicators[0].deduction == D("2")
    assert result.deductions == D("2")
    assert result.computed_total == D("98.00")
    # Full marks now differ from the rule; the stated total already reflects the deduction.
    assert result.codes == [SCORE_DIFFERS_FROM_RULE, OVER_ACHIEVEMENT]
    assert result.findings[1].message.endswith("；按本地规则扣 2.00 分")


def test_over_achievement_deduction_is_not_applied_twice() -> None:
    rules = ScoringRules(over_achievement_deduction=True)
    rows = with_row(0, ind(">=70%", "100%", "20", "18", deviation="目标偏低，已扣分"))
    result = evaluate(make_form(rows, total="98"), rules)
    assert result.indicators[0].deduction == D("0")
    assert result.computed_total == D("98.00")
    assert result.codes == [OVER_ACHIEVEMENT]


def test_over_achievement_deduction_never_goes_below_zero() -> None:
    rules = ScoringRules(over_achievement_deduction=True)
    rows = standard_indicators() + [ind(">=1次", "3次", "1", name="小指标")]
    rows[0] = ind(">=10件", "10件", "19")
    result = evaluate(make_form(rows, total="99"), rules)
    assert result.indicators[5].suggested_score == D("0.00")
    assert result.indicators[5].deduction == D("1")
    assert result.computed_total == D("99.00")


def test_over_achievement_rule_off_by_default_changes_no_figure() -> None:
    rows = with_row(0, ind(">=70%", "100%", "20"))
    result = evaluate(make_form(rows, total="100"))
    assert result.deductions == D("0")
    assert result.codes == [OVER_ACHIEVEMENT]


@pytest.mark.parametrize(
    ("executed", "cap", "computed"),
    [
        ("85", None, "98.50"),
        ("80", None, "98.00"),  # exactly 80%: no cap
        ("75", D(89), "89.00"),
        ("70", D(89), "89.00"),
        ("65", D(79), "79.00"),
        ("60", D(79), "79.00"),
        ("55", D(69), "69.00"),
        ("50", D(69), "69.00"),
        ("45", D(59), "59.00"),
    ],
)
def test_execution_rate_cap_local_rule(executed: str, cap: Decimal | None, computed: str) -> None:
    rules = ScoringRules(execution_rate_cap=True)
    rows = with_row(3, ind("有效改善", "有效改善", "30", level1="效益指标", deviation="资金结余"))
    form = make_form(rows, executed=executed, execution_score=None, total=computed)
    result = evaluate(form, rules)
    assert result.total_cap == cap
    assert result.computed_total == D(computed)
    # Every indicator at full marks below 90% spent is questioned (re-check rule 3).
    assert result.codes == [RECHECK_FULL_MARKS]


def test_execution_rate_cap_is_off_by_default() -> None:
    rows = with_row(3, ind("有效改善", "有效改善", "30", level1="效益指标", deviation="资金结余"))
    result = evaluate(make_form(rows, executed="45", execution_score="4.5", total="94.5"))
    assert result.total_cap is None
    assert result.computed_total == D("94.50")
    assert result.codes == [RECHECK_FULL_MARKS]  # full marks with 45% spent (rule 3)


def test_capped_total_mismatch_names_the_cap() -> None:
    rules = ScoringRules(execution_rate_cap=True)
    rows = with_row(3, ind("有效改善", "有效改善", "30", level1="效益指标", deviation="资金结余"))
    result = evaluate(make_form(rows, executed="75", execution_score="7.5", total="97.5"), rules)
    assert result.codes == [TOTAL_MISMATCH, RECHECK_FULL_MARKS]
    assert result.findings[0].message == (
        "总分填写 97.50，按规则应为 89.00（预算执行 7.50 + 指标得分 90.00），按执行率封顶 89 分"
    )


# --- result helpers and ordering ---------------------------------------------------------


def test_findings_are_ordered_form_funding_indicators() -> None:
    rows = standard_indicators()
    rows[0] = ind(">=10件", "8件", "25", "30")
    rows[4] = ind(">=70%", "100%", "10", level1="满意度指标", level2="满意度指标")
    form = make_form(
        rows,
        budget="100",
        executed="110",
        sources=[("current_year", "90", "100")],
        execution_score="9",
        total=None,
    )
    result = evaluate(form)
    assert result.codes == [
        WEIGHTS_NOT_100,
        CATEGORY_WEIGHTS_NOT_STANDARD,
        TOTAL_MISSING,
        FUNDS_NOT_SUMMED,
        EXECUTION_OVER_100,
        FUNDING_SCORE_MISMATCH,
        SCORE_EXCEEDS_WEIGHT,
        SCORE_DIFFERS_FROM_RULE,
        OVER_ACHIEVEMENT,
    ]
    assert [f.code for f in result.errors] == [
        WEIGHTS_NOT_100,
        TOTAL_MISSING,
        FUNDING_SCORE_MISMATCH,
        SCORE_EXCEEDS_WEIGHT,
    ]
    assert len(result.warnings) == 5
    assert result.has_errors
    assert [f.code for f in result.findings_for_indicator(0)] == [
        SCORE_EXCEEDS_WEIGHT,
        SCORE_DIFFERS_FROM_RULE,
    ]
    assert result.findings_for_indicator(2) == []
    assert len(result.findings_for_funding("total")) == 3
    keys = [(f.code, f.indicator, f.funding) for f in result.findings]
    assert len(keys) == len(set(keys))  # one finding per code and place
    assert [f.code for f in result.form_findings()] == [
        WEIGHTS_NOT_100,
        CATEGORY_WEIGHTS_NOT_STANDARD,
        TOTAL_MISSING,
    ]
    assert result.indicators[0].suggested_score == D("20.00")  # 25 × 8 / 10


def test_finding_as_dict() -> None:
    finding = Finding("TOTAL_MISMATCH", ERROR, "总分", indicator=None, funding=None)
    assert finding.as_dict() == {
        "code": "TOTAL_MISMATCH",
        "severity": "error",
        "message": "总分",
        "indicator": None,
        "funding": None,
    }
    row = evaluate(seed_form()).findings[0].as_dict()
    assert (row["code"], row["indicator"], row["funding"]) == (SCORE_DIFFERS_FROM_RULE, 9, None)


def test_evaluate_does_not_change_the_form() -> None:
    form = seed_form()
    before = repr(form)
    evaluate(form, ScoringRules(over_achievement_deduction=True, execution_rate_cap=True))
    assert repr(form) == before


# --- properties --------------------------------------------------------------------------

_decimals = st.decimals(
    min_value=-1000, max_value=100000, places=2, allow_nan=False, allow_infinity=False
)
_weights = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False)
_comparators = st.sampled_from(["", ">=", "<=", "=", ">", "<", "≥", "≤"])
_units = st.sampled_from(["", "%", "万元", "元", "户", "个", "次", "件"])


@given(_comparators, _decimals, _units, _decimals, _units, _weights, st.booleans())
def test_suggested_score_stays_within_weight(
    comparator: str,
    target: Decimal,
    target_unit: str,
    actual: Decimal,
    actual_unit: str,
    weight: Decimal,
    deduction: bool,
) -> None:
    row = IndicatorData(
        target=f"{comparator}{target}{target_unit}",
        actual=f"{actual}{actual_unit}",
        weight=weight,
        score=weight,
    )
    result = evaluate_indicator(0, row, ScoringRules(over_achievement_deduction=deduction))
    if result.suggested_score is not None:
        assert D(0) <= result.suggested_score <= weight
        assert result.suggested_score == quantize2(result.suggested_score)
    assert result.deduction >= 0


@given(
    st.lists(
        st.tuples(
            st.text(max_size=12), st.text(max_size=12), st.none() | _weights, st.none() | _decimals
        ),
        max_size=6,
    ),
    st.none() | _decimals,
    st.none() | _decimals,
    st.booleans(),
)
def test_evaluate_never_raises(
    rows: list[tuple[str, str, Decimal | None, Decimal | None]],
    budget: Decimal | None,
    executed: Decimal | None,
    local_rules: bool,
) -> None:
    form = FormData(
        funding=[FundingData("total", budget, budget, executed)],
        indicators=[IndicatorData(target=t, actual=a, weight=w, score=s) for t, a, w, s in rows],
        stated_total=D(100),
    )
    rules = ScoringRules(over_achievement_deduction=local_rules, execution_rate_cap=local_rules)
    result = evaluate(form, rules)
    assert len(result.indicators) == len(rows)
    if result.execution_score is not None:
        assert D(0) <= result.execution_score <= D(10)
    for finding in result.findings:
        assert finding.severity in (ERROR, WARNING)
        assert finding.message


def test_replace_keeps_builder_rows_independent() -> None:
    # Guard for the builders above: rows are fresh objects on every call.
    first, second = standard_indicators(), standard_indicators()
    first[0] = replace(first[0], score=D(0))
    assert second[0].score == D(20)


def test_extreme_figures_do_not_raise() -> None:
    row = ind(">=0.0000000001", "999999999999999", "10")
    result = evaluate_indicator(0, row)
    assert result.met and result.over_achieved
    assert result.achievement == D("9999999999999990000000000.0000")
    form = make_form(
        budget="0.0001", executed="9999999999999999", execution_score="10", total="100"
    )
    assert evaluate(form).execution_score == D("10.00")


# --- the campaign's due list: approved targets and forms outside the list -----------------


def _approved_form(**row) -> FormData:
    from tests.factories import clean_form_data

    form = clean_form_data()
    form.indicators[2] = replace(
        form.indicators[2], approved_target=">=98%", approved_weight=D("10"), **row
    )
    return form


def test_target_changed_is_silent_while_the_target_is_the_approved_one():
    assert evaluate(_approved_form()).codes == []
    # Width variants and spaces do not count as a change.
    assert evaluate(_approved_form(target="＞＝ 98％")).codes == []


def test_target_changed_names_the_row_and_old_and_new():
    result = evaluate(_approved_form(target=">=90%"))
    assert result.codes == ["TARGET_CHANGED"]
    finding = result.findings[0]
    assert (finding.severity, finding.indicator) == ("warning", 2)
    assert finding.message == (
        "第3行“工程质量达标率”的年度指标值与批复目标不同：批复 >=98%，现为 >=90%，"
        "提交时请说明调整原因。"
    )


def test_target_changed_on_a_changed_weight():
    form = _approved_form(weight=D("8"), score=D("8"))
    form.indicators[3] = replace(form.indicators[3], weight=D("12"), score=D("12"))
    result = evaluate(form)
    assert result.codes == ["TARGET_CHANGED"]
    assert "分值与批复分值不同：批复 10，现为 8" in result.findings[0].message


def test_rows_without_approved_values_never_raise_target_changed():
    form = _approved_form()
    form.indicators[2] = replace(form.indicators[2], approved_target="", approved_weight=None)
    form.indicators[2].target = ">=1%"
    assert "TARGET_CHANGED" not in evaluate(form).codes


@pytest.mark.parametrize("due,codes", [(True, []), (None, []), (False, ["NOT_IN_DUE_LIST"])])
def test_not_in_due_list_only_when_a_campaign_lists_other_projects(due, codes):
    form = _approved_form()
    form.due = due
    result = evaluate(form)
    assert result.codes == codes
    if codes:
        assert result.findings[0].message == "此项目不在本年度应评项目清单中。"
        assert result.findings[0].severity == "warning"
