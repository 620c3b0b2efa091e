"""Deductions cite their rule: scores chosen by a 复核口径 rule, reasons required, the report."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from rechecks import report
from rechecks.models import NATIONAL_RULE_SET, RecheckRule, RecheckStatus, RuleEffect
from rechecks.scoring import RuleChoice
from tests.conftest import client_for
from tests.rechecks.test_rechecks import approved, in_progress, page_values

D = Decimal


def choice(effect: str, percent: int | None = None) -> RuleChoice:
    return RuleChoice(rule_id=1, code="3", wording="", effect=effect, percent=percent)


@pytest.mark.parametrize(
    ("effect", "percent", "weight", "own", "expected"),
    [
        (RuleEffect.ZERO, None, "10", "10", "0.00"),
        (RuleEffect.ONCE, None, "15", "12", "0.00"),
        (RuleEffect.NONE, None, "10", "8.5", "8.5"),
        (RuleEffect.PERCENT, 30, "10", "10", "7.00"),
        (RuleEffect.PERCENT, 60, "15", "15", "6.00"),
        (RuleEffect.PERCENT, 100, "10", "10", "0.00"),
        # Taken from what the department gave itself, never below 0.
        (RuleEffect.PERCENT, 30, "10", "8", "5.00"),
        (RuleEffect.PERCENT, 60, "10", "4", "0.00"),
    ],
)
def test_a_rule_gives_the_score_of_its_effect(effect, percent, weight, own, expected):
    assert choice(effect, percent).score(D(weight), D(own)) == D(expected)


def test_a_rule_is_shown_with_its_percentage():
    assert choice(RuleEffect.PERCENT, 30).label == "第3条 扣分值的30%"
    assert choice(RuleEffect.ZERO).label == "第3条 得0分"


def rule(code: str) -> RecheckRule:
    return RecheckRule.objects.get(rule_set__name=NATIONAL_RULE_SET, code=code)


def by_rule(ev, chosen: dict[int, str], reasons: dict[int, str], opinion="复核意见"):
    """The page's POST with rows scored by rule (row index -> option value)."""
    data = page_values(ev, {}, reasons, opinion)
    keys = [ind.key for ind in ev.indicators.order_by("position")]
    for i, key in enumerate(keys):
        data[f"rule_{key}"] = chosen.get(i, "")
    return data


@pytest.mark.django_db
def test_a_score_chosen_by_rule_follows_the_rule_and_the_total_follows(
    dept_a, staff_a, finance, client_finance
):
    ev = approved(dept_a, staff_a, finance)
    in_progress(ev, finance)
    r1, r3 = rule("1"), rule("3")
    # Row 1 (10) by rule 1 -> 0; row 6 (15) by rule 3 at 60% -> 6; row 3 (10) rule 3 30% -> 7.
    data = by_rule(ev, {0: str(r1.pk), 5: f"{r3.pk}:60", 2: f"{r3.pk}:30"}, {})
    # A score posted beside a rule does not count: the rule decides.
    data[f"score_{ev.indicators.get(position=1).key}"] = "9"
    figures = client_finance.post(f"/rechecks/{ev.pk}/preview/", data).json()
    assert figures["total"] == "78.00"  # 100 - 10 - 9 - 3
    keys = [ind.key for ind in ev.indicators.order_by("position")]
    assert figures["scores"][keys[0]] == "0.00" and figures["scores"][keys[5]] == "6.00"
    assert figures["percents"][keys[5]] == "60.00" and figures["percents"][keys[0]] == "100.00"
    assert sorted(figures["reasons_missing"]) == sorted([keys[0], keys[2], keys[5]])


@pytest.mark.django_db
def test_completing_with_a_deduction_without_a_reason_is_refused_and_keeps_what_was_typed(
    dept_a, staff_a, finance, client_finance
):
    ev = approved(dept_a, staff_a, finance)
    recheck = in_progress(ev, finance)
    r1, r3 = rule("1"), rule("3")
    chosen = {0: str(r1.pk), 5: f"{r3.pk}:60", 2: f"{r3.pk}:30"}
    data = by_rule(ev, chosen, {0: "无佐证材料", 5: "指标无法核实"}, "三项扣分")
    response = client_finance.post(f"/rechecks/{ev.pk}/complete/", data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "第3行扣分未说明理由" in page
    assert "无佐证材料" in page and "指标无法核实" in page and "三项扣分" in page
    assert f'value="{r3.pk}:60" data-score="6.00"' in page and "selected" in page
    recheck.refresh_from_db()
    assert recheck.status == RecheckStatus.IN_PROGRESS and recheck.opinion == ""
    assert not recheck.rows.exclude(rule=None).exists()

    data = by_rule(
        ev, chosen, {0: "无佐证材料", 5: "指标无法核实", 2: "达标率无计算口径"}, "三项扣分"
    )
    assert client_finance.post(f"/rechecks/{ev.pk}/complete/", data).status_code == 302
    recheck.refresh_from_db()
    assert recheck.status == RecheckStatus.DONE and recheck.total == D("78")
    row6 = recheck.rows.get(key=ev.indicators.get(position=6).key)
    assert (row6.rule, row6.percent, row6.score) == (r3, 60, D("6"))

    # The department sees each deduction with its rule and reason.
    page = client_for(staff_a).get(f"/evaluations/{ev.pk}/").content.decode()
    assert "第3条 扣分值的60%" in page and "指标无法核实" in page
    assert "第1条 得0分" in page


@pytest.mark.django_db
def test_saving_a_deduction_without_a_reason_is_allowed(dept_a, staff_a, finance, client_finance):
    ev = approved(dept_a, staff_a, finance)
    recheck = in_progress(ev, finance)
    data = by_rule(ev, {0: str(rule("1").pk)}, {})
    assert client_finance.post(f"/rechecks/{ev.pk}/", data).status_code == 302
    recheck.refresh_from_db()
    assert recheck.total == D("90") and recheck.status == RecheckStatus.IN_PROGRESS


def complete(client, ev, finance, chosen, reasons):
    in_progress(ev, finance)
    data = by_rule(ev, chosen, reasons, "意见")
    assert client.post(f"/rechecks/{ev.pk}/complete/", data).status_code == 302


@pytest.mark.django_db
def test_the_report_counts_deductions_by_rule_per_department_and_for_the_year(
    dept_a, dept_b, staff_a, staff_b, finance, client_finance
):
    r1, r3 = rule("1"), rule("3")
    a1 = approved(dept_a, staff_a, finance, "甲一")
    a2 = approved(dept_a, staff_a, finance, "甲二")
    b1 = approved(dept_b, staff_b, finance, "乙一")
    complete(
        client_finance, a1, finance, {0: str(r1.pk), 1: str(r1.pk)}, {0: "无佐证", 1: "无佐证"}
    )
    complete(client_finance, a2, finance, {2: f"{r3.pk}:30"}, {2: "无法核实"})
    in_progress(b1, finance)
    data = by_rule(b1, {0: str(r1.pk)}, {0: "无佐证", 3: "完成时间无法核实"}, "意见")
    data[f"score_{b1.indicators.get(position=4).key}"] = "5"  # typed, citing no rule
    assert client_finance.post(f"/rechecks/{b1.pk}/complete/", data).status_code == 302

    deductions = report.year_deductions(2021)
    counts = {
        c.label: (c.department, c.year) for c in report.counts_by_rule(deductions, dept_a.name)
    }
    assert counts == {"第1条": (2, 3), "第3条": (1, 1), "未引用复核口径": (0, 1)}

    pdf = client_finance.get(f"/rechecks/report/?year=2021&department={dept_a.pk}")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    # Named in Chinese as every other download, with an ASCII name for old browsers.
    assert f'filename="recheck-2021-{dept_a.pk}.pdf"' in pdf["Content-Disposition"]
    assert quote(f"2021年复核报告-{dept_a.name}.pdf") in pdf["Content-Disposition"]

    response = client_finance.get("/rechecks/report.xlsx?year=2021")
    assert quote("2021年复核扣分统计.xlsx") in response["Content-Disposition"]
    book = load_workbook(BytesIO(response.content))
    listed = [[c.value for c in row] for row in book.worksheets[0].iter_rows(min_row=2)]
    assert len(listed) == 5
    typed = next(r for r in listed if r[0] == dept_b.name and r[2] == 4)
    assert typed[1] == "乙一" and typed[3] == "完成时间"
    assert [D(str(v)) for v in typed[4:9]] == [D(10), D(10), D(5), D(5), D(50)]
    assert typed[9:] == ["未引用复核口径", "完成时间无法核实"]
    table = [[c.value for c in row] for row in book.worksheets[1].iter_rows()]
    assert table[0] == ["主管部门", "第1条", "第3条", "未引用复核口径", "合计"]
    assert table[-1] == ["全年合计", 3, 1, 1, 5]
    assert [dept_a.name, 2, 1, 0, 3] in table and [dept_b.name, 1, 0, 1, 2] in table


@pytest.mark.django_db
def test_the_department_sees_the_rules_its_forms_broke_most(
    dept_a, dept_b, staff_a, staff_b, finance, client_finance
):
    r1, r3, r5 = rule("1"), rule("3"), rule("5")
    a1 = approved(dept_a, staff_a, finance, "甲一")
    a2 = approved(dept_a, staff_a, finance, "甲二")
    b1 = approved(dept_b, staff_b, finance, "乙一")
    # 不扣分 (rule 5) is no deduction; department B's deductions are not A's.
    complete(
        client_finance,
        a1,
        finance,
        {0: str(r1.pk), 1: str(r1.pk), 2: str(r5.pk)},
        {0: "无佐证", 1: "无佐证"},
    )
    complete(client_finance, a2, finance, {2: f"{r3.pk}:30"}, {2: "无法核实"})
    complete(client_finance, b1, finance, {2: f"{r3.pk}:60", 3: f"{r3.pk}:30"}, {2: "x", 3: "y"})

    page = client_for(staff_a).get(f"/evaluations/{a2.pk}/").content.decode()
    section = page[page.index("本部门历次复核中扣分最多的复核口径") :]
    assert section.index("第1条（2 项扣分）") < section.index("第3条（1 项扣分）")
    assert "第5条" not in section[: section.index("</ol>")]


@pytest.mark.django_db
def test_the_page_spells_out_each_rule_its_selects_cite(dept_a, staff_a, finance, client_finance):
    ev = approved(dept_a, staff_a, finance)
    in_progress(ev, finance)
    page = client_finance.get(f"/rechecks/{ev.pk}/").content.decode()
    legend = page.split('class="small mb-2 recheck-rule-texts"', 1)[1].split("</details>", 1)[0]
    for code in ("1", "3", "10"):
        assert (
            f'<dt class="col-sm-1">第{code}条</dt><dd class="col-sm-11 mb-1">{rule(code).wording}</dd>'
            in legend
        )
    assert legend.count("<dt") == len(
        {c.code for c in RecheckRule.objects.filter(rule_set__name=NATIONAL_RULE_SET, active=True)}
    )
