"""Numbers typed on the entry page: what is unambiguous is read, the rest is explained.

One reader (``values.read_number``) serves the form fields, the live score preview and,
through them, saving; scoring treats a refused value as "not given" (no findings from it).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from evaluations.core.scoring import (
    DEVIATION_MISSING,
    FUNDS_NOT_SUMMED,
    SCORE_EXCEEDS_WEIGHT,
    TARGET_CHANGED,
    WEIGHTS_NOT_100,
    evaluate,
    funding_path,
    header_path,
    indicator_path,
)
from evaluations.core.values import (
    MONEY_UNITS,
    NUMBER_NOT_A_NUMBER,
    NUMBER_OTHER_UNIT,
    POINTS_UNITS,
    parse_value,
    read_number,
)
from evaluations.models import Evaluation
from tests.evaluations.test_evaluation_pages import post_data
from tests.factories import clean_form_data, make_evaluation

D = Decimal

POINTS_MESSAGE = "只填数字，例如 9.5"


# --- the reader ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "units", "number", "understood"),
    [
        ("9.5", POINTS_UNITS, "9.5", ""),
        (" 9.5 ", POINTS_UNITS, "9.5", ""),
        ("\u30009.5\u3000", POINTS_UNITS, "9.5", ""),
        ("10分", POINTS_UNITS, "10", "10"),
        ("10.00 分", POINTS_UNITS, "10.00", "10.00"),
        ("9.5万", MONEY_UNITS, "9.5", "9.5"),
        ("9.5万元", MONEY_UNITS, "9.5", "9.5"),
        ("1,000", MONEY_UNITS, "1000", "1000"),
        ("1，000", MONEY_UNITS, "1000", "1000"),
        ("12,345,678.5", MONEY_UNITS, "12345678.5", "12345678.5"),
        ("１２３．５", POINTS_UNITS, "123.5", "123.5"),
        ("１，０００", MONEY_UNITS, "1000", "1000"),
        ("9。5", POINTS_UNITS, "9.5", "9.5"),
        ("+5", POINTS_UNITS, "5", "5"),
        ("-3", POINTS_UNITS, "-3", ""),  # the field's own rule refuses negatives
        ("0.001", MONEY_UNITS, "0.001", ""),
    ],
)
def test_it_reads_unambiguous_numbers(text, units, number, understood):
    reading = read_number(text, units=units)
    assert reading.ok
    assert reading.number == D(number)
    assert reading.understood == understood


@pytest.mark.parametrize("text", ["", "   ", "—", "-", "/", "分"])
def test_it_reads_blanks_as_blank(text):
    reading = read_number(text, units=POINTS_UNITS)
    assert reading.ok and reading.is_blank and reading.number is None


@pytest.mark.parametrize(
    ("text", "units", "problem"),
    [
        ("十分", POINTS_UNITS, NUMBER_NOT_A_NUMBER),
        ("abc", POINTS_UNITS, NUMBER_NOT_A_NUMBER),
        ("约10", POINTS_UNITS, NUMBER_NOT_A_NUMBER),
        ("57.", MONEY_UNITS, NUMBER_NOT_A_NUMBER),
        (".5", POINTS_UNITS, NUMBER_NOT_A_NUMBER),
        ("1,00", MONEY_UNITS, NUMBER_NOT_A_NUMBER),  # a decimal comma? not guessed
        ("1,5", POINTS_UNITS, NUMBER_NOT_A_NUMBER),
        ("1 000", MONEY_UNITS, NUMBER_NOT_A_NUMBER),
        ("1e5", POINTS_UNITS, NUMBER_NOT_A_NUMBER),
        ("9.5.1", POINTS_UNITS, NUMBER_NOT_A_NUMBER),
        ("1" * 20, MONEY_UNITS, NUMBER_NOT_A_NUMBER),
        ("١٢", POINTS_UNITS, NUMBER_NOT_A_NUMBER),  # digits of another script: not guessed
        ("95000元", MONEY_UNITS, NUMBER_OTHER_UNIT),  # 元 is not the field's 万元
        ("9.5万", POINTS_UNITS, NUMBER_OTHER_UNIT),
        ("10分", MONEY_UNITS, NUMBER_OTHER_UNIT),
        ("95%", POINTS_UNITS, NUMBER_OTHER_UNIT),
    ],
)
def test_it_refuses_what_is_not_a_number_of_the_field(text, units, problem):
    reading = read_number(text, units=units)
    assert not reading.ok
    assert reading.number is None
    assert reading.problem == problem


@pytest.mark.parametrize("text", [None, object(), "\ud800", "9" * 10_000])
def test_it_never_raises(text):
    read_number(text, units=MONEY_UNITS)


# --- wordings of ≥ where targets are compared ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "comparator"),
    [
        ("95%（含）以上", ">="),
        ("95%(含)以上", ">="),
        ("95%以上（含95%）", ">="),
        ("95%含以上", ">="),
        ("95%及以上", ">="),
        ("95%以上", ">="),
        ("不低于95%", ">="),
        ("不得低于95%", ">="),
        ("高于或等于95%", ">="),
        ("≥95%", ">="),
        ("＞＝95％", ">="),
        ("90%（含）以下", "<="),
    ],
)
def test_it_understands_wordings_of_at_least(text, comparator):
    parsed = parse_value(text)
    assert parsed.is_number
    assert (parsed.comparator, parsed.unit) == (comparator, "%")
    assert parsed.number in (D(95), D(90))


def test_it_compares_a_target_worded_95_percent_or_more():
    data = clean_form_data()
    data.indicators[7].target = "95%（含）以上"
    data.indicators[7].actual = "95%"
    result = evaluate(data)
    row = result.indicators[7]
    assert (row.comparable, row.met, row.more_is_better) == (True, True, True)
    assert result.findings_for_indicator(7) == []

    data.indicators[7].actual = "90%"
    data.indicators[7].score = D("9.47")
    data.indicators[7].deviation = "部分群众不了解政策。"
    result = evaluate(data)
    assert result.indicators[7].met is False
    assert result.indicators[7].suggested_score == D("9.47")


# --- scoring: a value that was not read is not given ----------------------------------------


def test_an_unread_weight_draws_no_findings():
    data = clean_form_data()
    data.indicators[0].weight = None  # "十分" typed: refused
    data.indicators[0].score = D("15")
    plain = evaluate(data)
    # Read as blank it would mislead: 得分 15.00 超出范围 0–0.00, and weights of 90.
    assert SCORE_EXCEEDS_WEIGHT in plain.codes and WEIGHTS_NOT_100 in plain.codes
    result = evaluate(data, unreadable={indicator_path(0, "weight")})
    assert result.findings_for_indicator(0) == []
    assert WEIGHTS_NOT_100 not in result.codes
    assert not any("超出范围" in f.message for f in result.findings)


def test_an_unread_score_draws_no_findings_on_its_row():
    data = clean_form_data()
    data.indicators[1].score = None
    assert DEVIATION_MISSING in evaluate(data).codes
    result = evaluate(data, unreadable={indicator_path(1, "score")})
    assert result.findings_for_indicator(1) == []


def test_an_unread_execution_weight_leaves_the_weights_unjudged():
    data = clean_form_data()
    data.execution_weight = D(10)  # what the mapping puts for a refused weight
    data.indicators[0].weight = D(5)
    data.indicators[0].score = D(5)
    assert WEIGHTS_NOT_100 in evaluate(data).codes
    result = evaluate(data, unreadable={header_path("execution_weight")})
    assert WEIGHTS_NOT_100 not in result.codes
    assert result.execution_score is None


def test_an_unread_amount_leaves_the_rate_and_sums_unjudged():
    data = clean_form_data()
    data.funding[0].executed = None  # "57.55元" typed in 万元: refused
    data.funding[1].executed = D(70)
    result = evaluate(data, unreadable={funding_path("total", "executed")})
    assert result.execution_rate is None
    assert FUNDS_NOT_SUMMED not in result.codes

    data = clean_form_data()
    data.funding[1].annual_budget = None
    assert FUNDS_NOT_SUMMED in evaluate(data).codes
    result = evaluate(data, unreadable={funding_path("current_year", "annual_budget")})
    assert FUNDS_NOT_SUMMED not in result.codes


def test_an_unread_weight_is_no_change_of_the_approved_weight():
    data = clean_form_data()
    data.indicators[0].approved_weight = D(10)
    data.indicators[0].weight = None
    assert TARGET_CHANGED in evaluate(data).codes
    result = evaluate(data, unreadable={indicator_path(0, "weight")})
    assert TARGET_CHANGED not in result.codes


# --- the entry page ------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_saves_numbers_typed_with_units_and_separators(client_a):
    body = post_data(clean_form_data(project_name="宽松数字"))
    body["ind-0-weight"] = "10分"
    body["ind-0-score"] = "１０"
    body["funding-total-annual_budget"] = "70万"
    body["funding-total-executed"] = "1,000"
    body["funding-total-initial_budget"] = " 70 "
    body["funding-current_year-executed"] = "１２３．５"
    body["funding-carryover-executed"] = "876.5万元"
    body["execution_weight"] = "10 分"
    response = client_a.post("/evaluations/new/", body, follow=True)
    evaluation = Evaluation.objects.get(project_name="宽松数字")
    first = evaluation.indicators.get(position=1)
    assert (first.weight, first.score) == (D(10), D(10))
    total = evaluation.funding_rows.get(kind="total")
    assert (total.initial_budget, total.annual_budget, total.executed) == (D(70), D(70), D(1000))
    assert evaluation.funding_rows.get(kind="current_year").executed == D("123.5")
    assert evaluation.funding_rows.get(kind="carryover").executed == D("876.5")
    assert evaluation.execution_weight == D(10)
    page = response.content.decode()
    # What was understood is said after the save.
    assert "已按数字保存" in page
    assert "第1行分值“10分”按 10 填写" in page
    assert "年度资金总额·全年执行数“1,000”按 1000 填写" in page
    assert "当年财政拨款·全年执行数“１２３．５”按 123.5 填写" in page
    assert "“ 70 ”" not in page  # surrounding spaces are nothing to report


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("ind-0-weight", "十分", POINTS_MESSAGE),
        ("ind-0-score", "abc", POINTS_MESSAGE),
        ("execution_weight", "1,5", POINTS_MESSAGE),
        ("funding-total-executed", "57.55元", "金额以万元为单位"),
        ("funding-total-executed", "五十", "只填数字（单位：万元），例如 57.55"),
    ],
)
def test_it_keeps_garbage_and_says_what_to_type_under_the_field(client_a, field, typed, message):
    body = post_data(clean_form_data(project_name="乱填"))
    body[field] = typed
    response = client_a.post("/evaluations/new/", body)
    assert response.status_code == 200
    assert not Evaluation.objects.exists()
    page = response.content.decode()
    assert f'value="{typed}"' in page
    # The message is in the page under the box (not a tooltip), Django's is not.
    assert f'<div class="invalid-feedback d-block" id="id_{field}_error"><div>{message}' in page
    # The box is marked and points at its message (a screen reader reads both).
    assert f'aria-invalid="true" aria-describedby="id_{field}_error" id="id_{field}"' in page
    assert "输入一个数字" not in page
    assert f'title="{message}' not in page


@pytest.mark.django_db
def test_a_refused_weight_draws_no_follow_on_findings_on_the_page(client_a):
    body = post_data(clean_form_data(project_name="不连带"))
    body["ind-0-weight"] = "十分"
    body["ind-0-score"] = "15"
    page = client_a.post("/evaluations/new/", body).content.decode()
    assert POINTS_MESSAGE in page
    assert "超出范围" not in page
    assert "分值合计为" not in page  # WEIGHTS_NOT_100


@pytest.mark.django_db
def test_the_live_check_reads_explains_and_draws_no_follow_on_findings(client_a):
    body = post_data(clean_form_data())
    body["ind-0-weight"] = "十分"
    body["ind-0-score"] = "15"
    body["ind-1-weight"] = "10分"
    body["funding-total-executed"] = "1,000"
    body["funding-total-annual_budget"] = "１，０００"
    result = client_a.post("/evaluations/score-preview/", body).json()
    assert result["field_errors"] == {"ind-0-weight": [POINTS_MESSAGE]}
    assert result["field_notes"] == {
        "ind-1-weight": "已按 10 填写",
        "funding-total-executed": "已按 1000 填写",
        "funding-total-annual_budget": "已按 1000 填写",
    }
    codes = [f["code"] for f in result["findings"]]
    assert WEIGHTS_NOT_100 not in codes
    assert not [f for f in result["findings"] if f["row"] == 0]
    assert result["execution_rate"] == "100.00%"


@pytest.mark.django_db
def test_a_failed_save_says_how_the_other_numbers_were_read(client_a):
    body = post_data(clean_form_data(project_name="部分有误"))
    body["ind-0-weight"] = "十分"
    body["ind-1-weight"] = "10分"
    page = client_a.post("/evaluations/new/", body).content.decode()
    assert 'value="10分"' in page
    assert 'data-understood="已按 10 填写"' in page


@pytest.mark.django_db
def test_it_edits_a_stored_form_with_lenient_numbers(client_a, dept_a, staff_a):
    evaluation = make_evaluation(dept_a, staff_a)
    body = post_data(evaluation.as_form_data(), revision=1)
    body["ind-2-score"] = "9.5分"
    body["ind-2-deviation"] = "个别项目返工。"
    response = client_a.post(f"/evaluations/{evaluation.pk}/edit/", body)
    assert response.status_code == 302
    assert evaluation.indicators.get(position=3).score == D("9.5")
