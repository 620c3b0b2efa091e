"""The checkable re-check rules (复核口径) on hand-made rows: what each finds and what not."""

from __future__ import annotations

from decimal import Decimal

from evaluations.core.evaluation_data import FundingData, RecheckContext
from evaluations.core.recheck_checks import (
    RECHECK_COPIED_INDICATOR,
    RECHECK_COST_MORE_IS_BETTER,
    RECHECK_DUPLICATE_INDICATOR,
    RECHECK_FULL_MARKS,
    RECHECK_HOLLOW_TARGET,
    RECHECK_NO_EVIDENCE,
    RECHECK_PAYMENT_AS_QUANTITY,
    RECHECK_SURVEY_MISSING,
)
from evaluations.core.scoring import ERROR, HINT, WARNING, evaluate
from tests.factories import clean_form_data

D = Decimal


def recheck_findings(form):
    return [(f.code, f.severity, f.indicator) for f in evaluate(form).findings]


def with_row(index: int, **fields):
    form = clean_form_data()
    for name, value in fields.items():
        setattr(form.indicators[index], name, value)
    return form


def keyed(form):
    for i, ind in enumerate(form.indicators):
        ind.key = f"k{i}"
    return form


def test_the_clean_form_breaks_no_rule():
    assert recheck_findings(clean_form_data()) == []
    assert recheck_findings(keyed(clean_form_data())) == []


def test_rule_9_the_same_indicator_under_output_and_effect_counts_once():
    form = with_row(6, name="改造农村住房户数")  # row 7 (效益) repeats row 1 (产出)
    (finding,) = evaluate(form).findings
    assert (finding.code, finding.severity, finding.indicator) == (
        RECHECK_DUPLICATE_INDICATOR,
        WARNING,
        6,
    )
    assert "第1行" in finding.message and "复核口径第9条" in finding.message
    # Twice under 产出 is not rule 9.
    assert recheck_findings(with_row(1, name="改造农村住房户数")) == []


def test_rule_10_a_payment_indicator_under_quantity():
    form = with_row(1, name="项目资金支付率", target=">=90%", actual="95%")
    assert recheck_findings(form) == [(RECHECK_PAYMENT_AS_QUANTITY, WARNING, 1)]
    form = with_row(1, name="预算执行进度", target="=100%", actual="100%")
    assert recheck_findings(form) == [(RECHECK_PAYMENT_AS_QUANTITY, WARNING, 1)]
    # Counting people paid, or a share of funds for a purpose, is a quantity.
    assert (
        recheck_findings(with_row(1, name="资金发放户数", target=">=100户", actual="120户")) == []
    )
    form = with_row(1, name="扶贫帮困资金比例", target=">=25%", actual="25%")
    assert recheck_findings(form) == []
    # The same payment indicator under 时效 or 成本 is not rule 10.
    assert recheck_findings(with_row(3, name="资金拨付及时率", target=">=95%", actual="96%")) == []


def test_a_cost_indicator_that_rewards_spending_more():
    form = with_row(4, target=">=21.50万元", actual="21.50万元")
    assert recheck_findings(form) == [(RECHECK_COST_MORE_IS_BETTER, WARNING, 4)]
    assert "复核口径第10条" in evaluate(form).findings[0].message
    assert recheck_findings(with_row(4, target="=21.50万元", actual="21.50万元")) == []


def test_rule_3_a_hollow_target_is_a_hint():
    form = with_row(5, name="社会组织服务功能逐步显现", target=">=70%", actual="70%")
    assert recheck_findings(form) == [(RECHECK_HOLLOW_TARGET, HINT, 5)]
    assert evaluate(form).warnings == []  # nothing to acknowledge at submission
    form = with_row(5, target="提升%", actual="有效改善")
    assert recheck_findings(form) == [(RECHECK_HOLLOW_TARGET, HINT, 5)]
    # A percentage of a named rate, or uptime, is measurable.
    assert recheck_findings(with_row(5, name="群众知晓率", target=">=70%", actual="80%")) == []
    form = with_row(5, name="网站日常运行稳定性", target=">=99.50%", actual="99.9%")
    assert recheck_findings(form) == []
    # A qualitative target is no hollow number (rule 8 judges it).
    assert recheck_findings(with_row(5, target="有效提升", actual="有效提升")) == []


def low_execution(form, executed: str):
    form.funding[0] = FundingData("total", D(70), D(70), D(executed))
    form.funding[1] = FundingData("current_year", D(70), D(70), D(executed))
    form.execution_score = evaluate(form).execution_score
    form.stated_total = evaluate(form).computed_total
    for ind in form.indicators:
        ind.deviation = "执行率偏低：部分合同尚未结算。"
    return form


def test_every_indicator_at_full_marks_while_the_execution_is_low():
    form = low_execution(clean_form_data(), "56")  # 80%
    assert recheck_findings(form) == [(RECHECK_FULL_MARKS, WARNING, None)]
    assert "执行率 80.00% 低于 90%" in evaluate(form).findings[0].message
    # At 90% it is not questioned; nor when a row is scored below its weight.
    form = low_execution(clean_form_data(), "63")
    for ind in form.indicators:
        ind.deviation = ""
    assert RECHECK_FULL_MARKS not in evaluate(form).codes
    form = low_execution(clean_form_data(), "56")
    form.indicators[0].score = D("9")
    form.stated_total = evaluate(form).computed_total
    assert RECHECK_FULL_MARKS not in evaluate(form).codes


def test_every_indicator_at_full_marks_with_a_shortfall_written():
    form = with_row(2, deviation="部分工程未完成验收。")
    assert recheck_findings(form) == [(RECHECK_FULL_MARKS, WARNING, None)]
    # An improvement measure is no shortfall.
    assert recheck_findings(with_row(2, deviation="仍需进一步加强监管。")) == []


def context(**fields) -> RecheckContext:
    return RecheckContext(**fields)


def test_rule_1_no_evidence_where_the_rule_set_asks_for_it():
    form = keyed(clean_form_data())
    form.recheck = context(requires_evidence=True)
    # No file at all: one finding for the form, not one per row.
    assert recheck_findings(form)[0] == (RECHECK_NO_EVIDENCE, WARNING, None)
    rows = {f"k{i}" for i in range(8)}
    form.recheck = context(
        requires_evidence=True, form_evidence=True, evidence_rows=rows - {"k2"}, survey_rows={"k7"}
    )
    assert recheck_findings(form) == [(RECHECK_NO_EVIDENCE, WARNING, 2)]
    # Not asked for: nothing.
    form.recheck = context(requires_evidence=False)
    assert recheck_findings(form) == []


def test_rule_4_a_satisfaction_row_needs_a_survey():
    form = keyed(clean_form_data())
    rows = frozenset(f"k{i}" for i in range(8))
    form.recheck = context(requires_evidence=True, form_evidence=True, evidence_rows=rows)
    assert recheck_findings(form) == [(RECHECK_SURVEY_MISSING, WARNING, 7)]
    assert "复核口径第4条" in evaluate(form).findings[0].message
    form.recheck = context(
        requires_evidence=True, form_evidence=True, evidence_rows=rows, survey_rows={"k7"}
    )
    assert recheck_findings(form) == []


def test_a_row_worded_as_another_departments_is_a_hint():
    form = keyed(clean_form_data())
    form.recheck = context(peer_rows=frozenset({("改造农村住房户数", "=1600户")}))
    assert recheck_findings(form) == [(RECHECK_COPIED_INDICATOR, HINT, 0)]
    # Short, common names are not evidence of copying; nor a satisfaction row.
    form.recheck = context(peer_rows=frozenset({("检查费用", "<=21.50万元")}))
    assert recheck_findings(form) == []


def test_the_rule_set_decides_which_checks_block_and_which_run():
    form = with_row(6, name="改造农村住房户数")
    form.recheck = context(blocking=frozenset({"9"}))
    assert recheck_findings(form) == [(RECHECK_DUPLICATE_INDICATOR, ERROR, 6)]
    form.recheck = context(inactive=frozenset({"9"}))
    assert recheck_findings(form) == []


def test_rows_without_keys_have_no_evidence_to_look_at():
    # An import or a new form: evidence rules say nothing before the rows are stored.
    form = clean_form_data()
    form.recheck = context(requires_evidence=True)
    assert recheck_findings(form) == []
