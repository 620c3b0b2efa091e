"""The shipped scoring rule sets, each on hand-worked examples (the arithmetic in comments)."""

from __future__ import annotations

import importlib
from dataclasses import replace
from decimal import Decimal

import pytest

from evaluations.core.evaluation_data import FormData, FundingData, IndicatorData
from evaluations.core.rulesets import (
    BANDS_50,
    EXECUTION_20,
    NATIONAL,
    PRESETS,
    rules_fingerprint,
    rules_from_dict,
    rules_problems,
    rules_to_dict,
)
from evaluations.core.scoring import (
    ACHIEVED,
    CATEGORY_WEIGHTS_NOT_STANDARD,
    NOT_ACHIEVED,
    OVER_ACHIEVEMENT,
    PARTLY_ACHIEVED,
    TOTAL_MISMATCH,
    WEIGHTS_NOT_100,
    ScoringRules,
    evaluate,
    evaluate_indicator,
)

D = Decimal
NATIONAL_RULES = PRESETS[NATIONAL].rules
EXECUTION_20_RULES = PRESETS[EXECUTION_20].rules
BANDS_50_RULES = PRESETS[BANDS_50].rules


def cost_row(target: str, actual: str, weight: str = "4") -> IndicatorData:
    """A missed "less is better" cost target, scored 0 by the department."""
    return IndicatorData(
        level1="产出指标",
        level2="成本指标",
        name="单位造价",
        target=target,
        actual=actual,
        weight=D(weight),
        score=D(0),
        deviation="材料涨价。",
    )


# --- national: weight × target / actual -----------------------------------------------------


def test_national_scores_a_missed_ceiling_by_target_over_actual() -> None:
    # 4 × 20 / 25 = 4 × 0.8 = 3.20
    result = evaluate_indicator(0, cost_row("<=20万元", "25万元"), NATIONAL_RULES)
    assert result.met is False
    assert result.suggested_score == D("3.20")


def test_national_never_reaches_zero_for_a_missed_ceiling() -> None:
    # 4 × 20 / 50 = 4 × 0.4 = 1.60 (the ratio never reaches 0 at any finite actual)
    result = evaluate_indicator(0, cost_row("<=20万元", "50万元"), NATIONAL_RULES)
    assert result.suggested_score == D("1.60")


def test_national_qualitative_bands_are_80_60() -> None:
    # weight 10: achieved 10 × 0.8 – 10 × 1 = 8–10; partly 6–8; not 0–6
    assert NATIONAL_RULES.qualitative_range(D(10), ACHIEVED) == (D("8.00"), D("10.00"))
    assert NATIONAL_RULES.qualitative_range(D(10), PARTLY_ACHIEVED) == (D("6.00"), D("8.00"))
    assert NATIONAL_RULES.qualitative_range(D(10), NOT_ACHIEVED) == (D("0.00"), D("6.00"))


# --- execution 20, first level 70/20/10 of the other 80, linear ceiling ---------------------


def test_execution_20_scores_a_missed_ceiling_linearly() -> None:
    # 4 × (1 − (25 − 20) / 20) = 4 × (1 − 0.25) = 4 × 0.75 = 3.00
    result = evaluate_indicator(0, cost_row("<=20万元", "25万元"), EXECUTION_20_RULES)
    assert result.suggested_score == D("3.00")


def test_execution_20_gives_nothing_at_twice_the_ceiling_or_beyond() -> None:
    # 4 × (1 − (40 − 20) / 20) = 4 × 0 = 0; at 50: 4 × (1 − 1.5) = −2, never below 0
    at_twice = evaluate_indicator(0, cost_row("<=20万元", "40万元"), EXECUTION_20_RULES)
    beyond = evaluate_indicator(0, cost_row("<=20万元", "50万元"), EXECUTION_20_RULES)
    assert at_twice.suggested_score == D("0.00")
    assert beyond.suggested_score == D("0.00")


def test_execution_20_leaves_a_met_ceiling_at_full_weight() -> None:
    # 18 <= 20: met, full weight 4
    row = cost_row("<=20万元", "18万元")
    row.score = D(4)
    assert evaluate_indicator(0, row, EXECUTION_20_RULES).suggested_score == D("4.00")


def execution_20_form() -> FormData:
    """Execution 20 (80 of 100 万元 spent) and 产出 56 / 效益 16 / 满意度 8."""
    rows = [
        ("产出指标", "数量指标", "改造户数", "=100户", "100户", "36", "36"),
        ("产出指标", "成本指标", "单位造价", "<=20万元", "25万元", "20", "15"),
        ("效益指标", "社会效益指标", "居住条件", "有效改善", "有效改善", "16", "16"),
        ("满意度指标", "满意度指标", "群众满意度", ">=90%", "95%", "8", "8"),
    ]
    return FormData(
        year=2024,
        project_name="农村危房改造",
        department="某县住建局",
        funding=[FundingData("total", D(100), D(100), D(80))],
        execution_weight=D(20),
        # 20 × 80 / 100 = 16.00; total 16 + 36 + 15 + 16 + 8 = 91.00
        execution_score=D(16),
        stated_total=D(91),
        indicators=[
            IndicatorData(
                level1=a,
                level2=b,
                name=c,
                target=t,
                actual=x,
                weight=D(w),
                score=D(s),
                deviation="造价超支。" if s != w else "",
            )
            for a, b, c, t, x, w, s in rows
        ],
    )


def test_execution_20_form_scores_and_weighs_by_its_rules() -> None:
    result = evaluate(execution_20_form(), EXECUTION_20_RULES)
    # Execution: 20 × min(80 / 100, 1) = 20 × 0.8 = 16.00
    assert result.execution_score == D("16.00")
    # Weights: 20 + 36 + 20 + 16 + 8 = 100; first level 56 / 16 / 8 as the rule set says
    assert result.weight_sum == D(100)
    assert WEIGHTS_NOT_100 not in result.codes
    assert CATEGORY_WEIGHTS_NOT_STANDARD not in result.codes
    # The cost row: 20 × (1 − (25 − 20) / 20) = 20 × 0.75 = 15.00, as stated
    assert result.indicators[1].suggested_score == D("15.00")
    assert "SCORE_DIFFERS_FROM_RULE" not in result.codes
    assert result.computed_total == D("91.00")


def test_the_same_form_under_national_rules_is_flagged() -> None:
    result = evaluate(execution_20_form(), NATIONAL_RULES)
    # National first-level weights are 50 / 30 / 10: 56 / 16 / 8 is not the standard split
    assert CATEGORY_WEIGHTS_NOT_STANDARD in result.codes
    # National ceiling: 20 × 20 / 25 = 16.00, not the stated 15
    assert result.indicators[1].suggested_score == D("16.00")
    assert "SCORE_DIFFERS_FROM_RULE" in result.codes


# --- bands 80/50, over-achievement deduction and the cap by execution rate ------------------


def test_bands_50_qualitative_bands_are_80_50() -> None:
    # weight 10: achieved 8–10; partly 10 × 0.5 – 10 × 0.8 = 5–8; not 0–5
    assert BANDS_50_RULES.qualitative_range(D(10), ACHIEVED) == (D("8.00"), D("10.00"))
    assert BANDS_50_RULES.qualitative_range(D(10), PARTLY_ACHIEVED) == (D("5.00"), D("8.00"))
    assert BANDS_50_RULES.qualitative_range(D(10), NOT_ACHIEVED) == (D("0.00"), D("5.00"))


def bands_50_form() -> FormData:
    """55 of 100 万元 spent; one target exceeded by 30%."""
    rows = [
        ("产出指标", "数量指标", "培训人次", ">=100人次", "130人次", "50", "50"),
        ("效益指标", "社会效益指标", "技能水平", "有效提高", "有效提高", "30", "30"),
        ("满意度指标", "满意度指标", "学员满意度", ">=90%", "95%", "10", "10"),
    ]
    return FormData(
        year=2024,
        project_name="职业技能培训",
        department="某县人社局",
        funding=[FundingData("total", D(100), D(100), D(55))],
        execution_weight=D(10),
        execution_score=D("5.5"),
        stated_total=D("95.5"),
        indicators=[
            IndicatorData(
                level1=a,
                level2=b,
                name=c,
                target=t,
                actual=x,
                weight=D(w),
                score=D(s),
                deviation="部分资金未支付。",
            )
            for a, b, c, t, x, w, s in rows
        ],
    )


def test_bands_50_deducts_for_over_achievement_and_caps_by_execution_rate() -> None:
    result = evaluate(bands_50_form(), BANDS_50_RULES)
    # 130 >= 100 × (1 + 30%): exceeded by 30%, the row is capped at 50 − 2 = 48
    assert OVER_ACHIEVEMENT in result.codes
    assert result.deductions == D(2)
    # 5.50 + 50 + 30 + 10 − 2 = 93.50; execution 55% is below 60%: at most 69
    assert result.total_cap == D(69)
    assert result.computed_total == D("69.00")
    assert TOTAL_MISMATCH in result.codes


def test_national_rules_neither_deduct_nor_cap_the_same_form() -> None:
    result = evaluate(bands_50_form(), NATIONAL_RULES)
    # 10 × 55 / 100 = 5.50; 5.50 + 50 + 30 + 10 = 95.50, as stated
    assert result.deductions == D(0)
    assert result.total_cap is None
    assert result.computed_total == D("95.50")
    assert TOTAL_MISMATCH not in result.codes


# --- rule sets as data ----------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(PRESETS))
def test_a_rule_set_reads_back_as_it_was_written(code: str) -> None:
    rules = PRESETS[code].rules
    assert rules_from_dict(rules_to_dict(rules)) == rules
    assert rules_problems(rules) == []


def test_the_migration_ships_the_presets_figure_for_figure() -> None:
    migration = importlib.import_module("evaluations.migrations.0013_shipped_scoring_rule_sets")
    shipped = {item["code"]: item for item in migration.RULE_SETS}
    assert set(shipped) == set(PRESETS)
    for code, preset in PRESETS.items():
        assert shipped[code]["rules"] == rules_to_dict(preset.rules)
        assert shipped[code]["fingerprint"] == rules_fingerprint(preset.rules)


def test_rules_missing_from_stored_data_read_as_the_national_default() -> None:
    assert rules_from_dict({"execution_weight": "10"}) == ScoringRules()


def test_an_unusable_rule_set_is_refused_with_its_reasons() -> None:
    broken = replace(
        NATIONAL_RULES,
        execution_weight=D(20),
        qualitative_bands=(D("0.5"), D("0.8")),
        less_is_better="other",
    )
    problems = rules_problems(broken)
    assert problems == [
        "预算执行分值与一级指标分值合计为 110，应为总分值 100。",
        "反向指标计分公式不正确。",
        "定性指标分档应满足 0 < 部分实现下限 < 实现下限 < 1。",
    ]
    with pytest.raises(ValueError, match="合计为 110"):
        rules_from_dict(rules_to_dict(broken))


def test_fingerprints_tell_rule_sets_apart() -> None:
    fingerprints = {rules_fingerprint(p.rules) for p in PRESETS.values()}
    assert len(fingerprints) == len(PRESETS)
