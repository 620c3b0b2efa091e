"""Tests for parsing indicator target/actual text."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evaluations.core.values import (
    KIND_DATE,
    KIND_EMPTY,
    KIND_NUMBER,
    KIND_QUALITATIVE,
    ParsedValue,
    compare_dates,
    db_fields,
    normalise_text,
    parse_value,
    unit_factor,
)

D = Decimal


@pytest.mark.parametrize(
    ("text", "comparator", "number", "unit"),
    [
        ("=1600户", "=", "1600", "户"),
        ("1600", "", "1600", ""),
        (">=95%", ">=", "95", "%"),
        ("≥10件", ">=", "10", "件"),
        ("≧1", ">=", "1", ""),
        ("<=21.50万元", "<=", "21.50", "万元"),
        ("9.05万元", "", "9.05", "万元"),
        ("≤5万元", "<=", "5", "万元"),
        ("≦12", "<=", "12", ""),
        ("＞＝９５％", ">=", "95", "%"),
        ("＝10个", "=", "10", "个"),
        ("> = 95 %", ">=", "95", "%"),
        ("　>=98%　", ">=", "98", "%"),
        ("=2次", "=", "2", "次"),
        (">10次", ">", "10", "次"),
        ("<3天", "<", "3", "天"),
        ("10.00分", "", "10.00", "分"),
        ("13万", "", "13", "万"),
        ("1,600人", "", "1600", "人"),
        ("1，600人", "", "1600", "人"),
        ("=1000吨", "=", "1000", "吨"),
        ("<=30万元/套", "<=", "30", "万元/套"),
        (">=50万吨标准煤", ">=", "50", "万吨标准煤"),
        ("=25矿次", "=", "25", "矿次"),
        ("10(个)", "", "10", "个"),
        ("10（个）", "", "10", "个"),
        ("大于等于95%", ">=", "95", "%"),
        ("不低于90%", ">=", "90", "%"),
        ("不少于10人", ">=", "10", "人"),
        ("90%以上", ">=", "90", "%"),
        ("≥90%以上", ">=", "90", "%"),
        ("小于等于20万元", "<=", "20", "万元"),
        ("不高于5%", "<=", "5", "%"),
        ("不超过30天", "<=", "30", "天"),
        ("3天以内", "<=", "3", "天"),
        ("5万元以下", "<=", "5", "万元"),
        ("<=24小时", "<=", "24", "小时"),
        ("99.50%", "", "99.50", "%"),
        ("0", "", "0", ""),
        ("-5%", "", "-5", "%"),
        ("1年", "", "1", "年"),
        ("=12个月", "=", "12", "个月"),
        ("98%。", "", "98", "%"),
    ],
)
def test_it_parses_numbers(text: str, comparator: str, number: str, unit: str) -> None:
    parsed = parse_value(text)
    assert parsed.kind == KIND_NUMBER
    assert (parsed.comparator, parsed.number, parsed.unit) == (comparator, D(number), unit)


@pytest.mark.parametrize(
    ("text", "comparator", "date_value"),
    [
        ("2021年12月31日", "", (2021, 12, 31)),
        ("12月31日", "", (None, 12, 31)),
        ("8月13日", "", (None, 8, 13)),
        ("2021年12月", "", (2021, 12, None)),
        ("12月", "", (None, 12, None)),
        ("12月底前", "<=", (None, 12, None)),
        ("12月30日前", "<=", (None, 12, 30)),
        ("2021年6月30日之前", "<=", (2021, 6, 30)),
        ("年底前", "<=", (None, 12, None)),
        ("年底", "", (None, 12, None)),
        ("2021年底", "", (2021, 12, None)),
        ("2021年", "", (2021, None, None)),
        ("2021.12.31", "", (2021, 12, 31)),
        ("2021-08-31", "", (2021, 8, 31)),
        ("1-12月", "", (None, 12, None)),
        ("1月-8月", "", (None, 8, None)),
        ("2021年1月-12月", "", (2021, 12, None)),
        ("2021年1月-2021年12月", "", (2021, 12, None)),
        ("1月至10月", "", (None, 10, None)),
        ("<=2021年12月31日", "<=", (2021, 12, 31)),
        ("１２月３１日", "", (None, 12, 31)),
    ],
)
def test_it_parses_dates(text: str, comparator: str, date_value: tuple) -> None:
    parsed = parse_value(text)
    assert parsed.kind == KIND_DATE
    assert parsed.comparator == comparator
    assert parsed.date_value == date_value
    assert parsed.number is None


@pytest.mark.parametrize(
    "text",
    [
        "有效改善",
        "逐步提高",
        "保障",
        "达标",
        "合格",
        "是",
        "无",
        "长期",
        "有效维护",
        "80-90%",
        "达到",
        "以上",
        ">=",
        "5万吨标煤以下企业诊断费用",
        "12月30日前完成对社会组织党组织建设工作进行督导检查1次以上",
        "按时完成",
    ],
)
def test_it_reads_text_without_a_value_as_qualitative(text: str) -> None:
    parsed = parse_value(text)
    assert parsed.kind == KIND_QUALITATIVE
    assert (parsed.comparator, parsed.number, parsed.unit, parsed.date_value) == (
        "",
        None,
        "",
        None,
    )
    assert not parsed.is_quantitative


@pytest.mark.parametrize("text", ["", "   ", "　", "/", "-", "—", "——", None])
def test_it_reads_blank_and_placeholders_as_empty(text: str | None) -> None:
    assert parse_value(text).kind == KIND_EMPTY


def test_it_keeps_the_normalised_text() -> None:
    assert parse_value("≥ 10 件").text == ">=10件"
    assert normalise_text("＞＝　９５％") == ">=95%"


def test_it_returns_a_frozen_value() -> None:
    parsed = parse_value("=1600户")
    with pytest.raises(AttributeError):
        parsed.number = D(1)  # type: ignore[misc]
    assert parsed == ParsedValue(
        kind=KIND_NUMBER, comparator="=", number=D(1600), unit="户", text="=1600户"
    )


def test_it_marks_numbers_and_dates_as_quantitative() -> None:
    assert parse_value("=1600户").is_quantitative
    assert parse_value("12月31日").is_quantitative
    assert parse_value("12月31日").is_date
    assert parse_value(">=95%").is_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<=21.50万元", ("<=", D("21.50"), "万元")),
        ("=1600户", ("=", D("1600"), "户")),
        (">=95%", (">=", D("95"), "%")),
        ("有效改善", ("", None, "")),
        ("12月31日前", ("<=", None, "")),
        ("", ("", None, "")),
        ("1.123456789%", ("", D("1.123457"), "%")),
        ("99999999999999", ("", D("99999999999999"), "")),
        ("999999999999999", ("", None, "")),
    ],
)
def test_db_fields_fit_the_model_columns(text: str, expected: tuple) -> None:
    comparator, number, unit = db_fields(text)
    assert (comparator, number, unit) == expected
    assert len(comparator) <= 2
    assert len(unit) <= 20


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((2021, 12, 31), (2021, 12, 31), 0),
        ((2021, 11, 30), (2021, 12, 31), -1),
        ((2022, 1, 5), (2021, 12, 31), 1),
        ((None, 8, 13), (None, 8, 14), -1),
        ((None, 12, 31), (2021, 12, 31), 0),  # a missing year is skipped
        ((None, 12, None), (2021, 12, 15), 0),  # month precision on one side
        ((2021, None, None), (2022, 3, 1), -1),
        ((2021, None, None), (None, 12, 31), None),  # nothing in common
    ],
)
def test_compare_dates(a: tuple, b: tuple, expected: int | None) -> None:
    assert compare_dates(a, b) == expected


@pytest.mark.parametrize(
    ("target", "actual", "factor"),
    [
        ("户", "", D(1)),
        ("", "%", D(1)),
        ("%", "%", D(1)),
        ("万元", "元", D("0.0001")),
        ("元", "万元", D(10000)),
        ("万", "", D(1)),
        ("万", "万人", D(1)),
        ("天", "日", D(1)),
        ("个", "件", None),
        ("%", "个", None),
        ("万元", "吨", None),
    ],
)
def test_unit_factor(target: str, actual: str, factor: Decimal | None) -> None:
    assert unit_factor(target, actual) == factor


@given(st.text())
def test_parse_value_never_raises_on_arbitrary_text(text: str) -> None:
    parsed = parse_value(text)
    assert parsed.kind in (KIND_NUMBER, KIND_DATE, KIND_QUALITATIVE, KIND_EMPTY)
    assert parsed.comparator in ("", ">=", "<=", "=", ">", "<")
    assert (parsed.number is not None) == (parsed.kind == KIND_NUMBER)
    assert (parsed.date_value is not None) == (parsed.kind == KIND_DATE)
    comparator, _number, unit = db_fields(text)
    assert len(comparator) <= 2 and len(unit) <= 20


@given(st.text(alphabet="0123456789.,-%><=≥≤≧≦年月日底前以上下内万元户个次 ()（）/　", max_size=20))
def test_parse_value_never_raises_on_value_like_text(text: str) -> None:
    parsed = parse_value(text)
    assert parsed.kind in (KIND_NUMBER, KIND_DATE, KIND_QUALITATIVE, KIND_EMPTY)
    if parsed.date_value is not None:
        _year, month, day = parsed.date_value
        assert month is None or 1 <= month <= 12
        assert day is None or 1 <= day <= 31
