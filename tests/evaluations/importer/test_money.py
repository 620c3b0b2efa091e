"""The money block of imported forms: units, columns by heading, every funding row, doubts.

Each variant file in tests/data (made by tests/data/make_money_variants.py) is read
figure for figure: amounts in 万元, the execution rate, the problems and the findings.
"""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest
from openpyxl import Workbook

from evaluations.core import layout as L
from evaluations.core.evaluation_data import FormData, FundingData
from evaluations.core.scoring import evaluate
from evaluations.importer.money import YUAN_SUSPECT, to_wan
from evaluations.importer.results import ParseResult
from evaluations.importer.service import import_file
from evaluations.importer.text import parse_text
from evaluations.importer.xlsx import parse_xlsx
from evaluations.models import Evaluation, FundingRow
from exports import compose, excel
from tests.evaluations.test_evaluation_pages import post_data
from tests.export_helpers import pdf_pages, squash

DATA = Path(__file__).resolve().parents[2] / "data"
ALL_KINDS = ["total", "fiscal", "current_year", "carryover", "special_account", "unit", "other"]


def read(name: str) -> ParseResult:
    data = (DATA / name).read_bytes()
    return parse_xlsx(data) if name.endswith(".xlsx") else parse_text(data)


def amounts(form: FormData) -> dict[str, tuple[D | None, D | None, D | None]]:
    return {f.kind: (f.initial_budget, f.annual_budget, f.executed) for f in form.funding}


# --- units ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "unit_at", "where"),
    [
        ("variant-money-yuan.txt", 14, "项目资金 （元）"),
        ("variant-money-yuan.xlsx", 5, "项目资金（元）"),
    ],
)
def test_it_converts_amounts_in_yuan_to_wan_and_says_so(name, unit_at, where):
    result = read(name)
    (form,) = result.forms
    assert amounts(form) == {
        "total": (D("40.0000"), D("38.7665"), D("35.0000")),
        "current_year": (D("38.7665"), D("38.7665"), D("35.0000")),
        "carryover": (D("0.0000"), D("0.0000"), D("0.0000")),
        "other": (D("1.2335"), D("0.0000"), D("0.0000")),
    }
    assert (form.execution_weight, form.execution_score, form.stated_total) == (
        D(10),
        D("9.03"),
        D("99.03"),
    )
    scored = evaluate(form)
    assert (scored.execution_rate, scored.execution_score) == (D("0.9028"), D("9.03"))
    assert scored.codes == []
    (problem,) = result.problems
    assert problem.line == unit_at
    assert f"“{where}”" in problem.message and "已换算为万元" in problem.message
    assert "四舍五入保留4位小数" in problem.message


def test_it_reads_the_unit_of_a_label_on_a_row_above_the_heading():
    text = (DATA / "variant-money-yuan.txt").read_text(encoding="utf-8")
    # 项目资金 / （元） on a row of its own, the heading row below starting blank.
    moved = text.replace("\t项目资金\n（元）\n\t\n", "\t项目资金\n（元）\n\n\t\n\t\n", 1)
    assert moved != text
    result = parse_text(moved)
    (form,) = result.forms
    assert form.funding_row("total").annual_budget == D("38.7665")
    assert [(p.line, "已换算为万元" in p.message) for p in result.problems] == [(14, True)]


def test_it_rounds_yuan_half_up_to_the_yuan_the_form_stores():
    assert to_wan(D("387664.62")) == D("38.7665")  # 38.766462
    assert to_wan(D("12335.38")) == D("1.2335")  # 1.233538
    assert to_wan(D("5")) == D("0.0005")
    assert to_wan(D("0.50")) == D("0.0001")  # half a yuan rounds up
    assert to_wan(D("0.49")) == D("0.0000")


def test_it_reads_a_unit_line_above_the_table_and_a_and_b_headings():
    result = read("variant-money-ab.txt")
    (form,) = result.forms
    assert amounts(form) == {
        "total": (None, D("125.0000"), D("118.7500")),
        "current_year": (None, D("125.0000"), D("118.7500")),
        "carryover": (None, D("0.0000"), D("0.0000")),
        "other": (None, D("0.0000"), D("0.0000")),
    }
    assert (form.execution_weight, form.execution_score) == (D(10), D("9.5"))
    scored = evaluate(form)
    assert (scored.execution_rate, scored.execution_score, scored.computed_total) == (
        D("0.9500"),
        D("9.50"),
        D("99.50"),
    )
    assert scored.codes == []
    assert [(p.line, "“单位：元”" in p.message) for p in result.problems] == [(6, True)]


def test_a_unit_line_above_the_title_belongs_to_the_form_below_it():
    text = (DATA / "variant-money-ab.txt").read_text(encoding="utf-8")
    moved = "\n\t单位：元\n" + text.replace("\t单位：元\n\n", "", 1)
    result = parse_text(moved)
    (form,) = result.forms
    assert form.funding_row("total").annual_budget == D("125.0000")
    assert [p.line for p in result.problems] == [2]


def test_it_checks_a_stated_rate_against_the_converted_amounts():
    text = (DATA / "variant-money-yuan.txt").read_text(encoding="utf-8")
    result = parse_text(text.replace("\t90.28%\n\t9.03", "\t92.28%\n\t9.03", 1))
    (form,) = result.forms
    assert form.funding_row("total").executed == D("35.0000")  # still imported
    assert [p.line for p in result.problems] == [14, 30]
    assert "92.28%" in result.problems[1].message
    assert "35.0000 ÷ 全年预算数 38.7665 = 90.28%" in result.problems[1].message


def test_it_skips_a_form_without_a_unit_whose_amounts_only_make_sense_in_yuan():
    result = read("variant-money-unit-missing.txt")
    assert result.forms == []
    assert [p.line for p in result.problems] == [23, 2]
    assert "没有注明金额单位" in result.problems[0].message
    assert "“年度资金总额”的“年初预算数”为 400000 万元" in result.problems[0].message
    assert "农村公路养护（未注明单位）" in result.problems[1].message
    assert "未导入" in result.problems[1].message


@pytest.mark.parametrize(("amount", "imported"), [("9999.99", True), ("10000", False)])
def test_without_a_unit_ten_thousand_wan_is_where_yuan_is_suspected(amount, imported):
    assert D(10000) == YUAN_SUSPECT
    text = (DATA / "variant-money-unit-missing.txt").read_text(encoding="utf-8")
    for written in ("400000", "387664.62", "350000"):
        text = text.replace(f"\t{written}\n", "\t100\n")
    result = parse_text(text.replace("\t100\n", f"\t{amount}\n", 1))
    assert len(result.forms) == int(imported)
    if imported:
        assert result.forms[0].funding_row("total").initial_budget == D(amount)


def test_it_skips_a_form_whose_units_contradict_or_whose_rows_are_unknown():
    result = read("variant-money-conflict.txt")
    assert result.forms == []
    assert [p.line for p in result.problems] == [33, 14, 2]
    unknown, contradiction, skipped = (p.message for p in result.problems)
    assert "“政府性基金”不是可识别的资金行" in unknown
    assert "“项目资金（元）”（元）、“全年预算数（万元）”（万元）" in contradiction
    assert "未导入" in skipped


def test_it_skips_a_form_with_an_amount_under_a_heading_that_is_no_money_column():
    text = (DATA / "variant-money-rate-row.txt").read_text(encoding="utf-8")
    result = parse_text(text.replace("\t全年执行数（万元）\n", "\t调整数\n", 1))
    assert result.forms == []
    # One for each row with an amount in that column, at the cell.
    assert [p.line for p in result.problems] == [26, 38, 46, 2]
    assert "“年度资金总额”在“调整数”栏的“45”不属于任何资金栏" in result.problems[0].message


# --- columns by heading, every row ---------------------------------------------------------


def test_it_reads_the_adjusted_budget_headings_and_every_source_row():
    result = read("variant-money-adjusted.txt")
    (form,) = result.forms
    assert [f.kind for f in form.funding] == ALL_KINDS
    assert amounts(form) == {
        "total": (D(120), D(100), D(95)),
        "fiscal": (D(100), D(90), D(85)),
        "current_year": (D(80), D(70), D(65)),
        "carryover": (D(20), D(20), D(20)),
        "special_account": (D(5), D(0), D(0)),
        "unit": (D(10), D(5), D(5)),
        "other": (D(5), D(5), D(5)),
    }
    assert (form.execution_weight, form.execution_score, form.stated_total) == (
        D(10),
        D("9.5"),
        D("99.5"),
    )
    scored = evaluate(form)
    assert (scored.execution_rate, scored.execution_score) == (D("0.9500"), D("9.50"))
    # 当年财政拨款 and 上年结转资金 are parts of 财政资金: the sources add up to the total.
    assert scored.codes == ["EXECUTION_UNEXPLAINED"]
    (problem,) = result.problems
    assert problem.line == 32 and "“原因”未导入" in problem.message
    assert "部分采购节约" in problem.message


def test_it_reads_the_rate_written_on_a_row_of_its_own():
    result = read("variant-money-rate-row.txt")
    (form,) = result.forms
    assert amounts(form) == {
        "total": (D(60), D(60), D(45)),
        "current_year": (D(60), D(60), D(45)),
        "other": (D(0), D(0), D(0)),
    }
    scored = evaluate(form)
    assert (scored.execution_rate, scored.execution_score, scored.computed_total) == (
        D("0.7500"),
        D("7.50"),
        D("97.50"),
    )
    # Every indicator at full marks with three quarters spent: the re-check rules' warning.
    assert scored.codes == ["RECHECK_FULL_MARKS"]
    assert result.problems == []
    text = (DATA / "variant-money-rate-row.txt").read_text(encoding="utf-8")
    wrong = parse_text(text.replace("\t75.00%\n", "\t57.00%\n", 1))
    assert len(wrong.forms) == 1
    assert [p.line for p in wrong.problems] == [32]
    assert "57.00%" in wrong.problems[0].message and "= 75.00%" in wrong.problems[0].message


# --- stored, shown, printed ----------------------------------------------------------------


def adjusted_form() -> FormData:
    return read("variant-money-adjusted.txt").forms[0]


def test_the_sources_of_another_template_are_laid_out_in_order_beside_the_standard_ones():
    form = adjusted_form()
    labels = ["年度资金总额", "财政资金", "其中：当年财政拨款", "上年结转资金"]
    labels += ["财政专户管理资金", "单位资金", "其他资金"]
    for every_kind in (False, True):
        sheet = L.form_layout(form, evaluate(form), every_funding_kind=every_kind)
        assert [r.funding_kind for r in sheet.funding_rows] == ALL_KINDS
        assert [r.cells[0].text for r in sheet.funding_rows] == labels
    # A form of the national template keeps its four rows.
    entry = L.form_layout(FormData(funding=[FundingData("total")]), None, every_funding_kind=True)
    assert [r.funding_kind for r in entry.funding_rows] == [
        "total",
        "current_year",
        "carryover",
        "other",
    ]


@pytest.mark.django_db
def test_the_web_form_pdf_and_excel_keep_every_funding_row(client_a, dept_a):
    data = (DATA / "variant-money-adjusted.txt").read_bytes()
    report = import_file(data=data, name="variant-money-adjusted.txt", department=dept_a)
    assert not report.failed
    evaluation = Evaluation.objects.get()
    stored = {r.kind: r.annual_budget for r in FundingRow.objects.filter(evaluation=evaluation)}
    assert stored == {
        "total": D(100),
        "fiscal": D(90),
        "current_year": D(70),
        "carryover": D(20),
        "special_account": D(0),
        "unit": D(5),
        "other": D(5),
    }

    page = client_a.get(f"/evaluations/{evaluation.pk}/edit/").content.decode()
    for kind in ALL_KINDS:
        assert f'name="funding-{kind}-annual_budget"' in page
    assert 'name="funding-fiscal-annual_budget" value="90"' in page
    form = evaluation.as_form_data()
    form.funding_row("fiscal").executed = D("86")
    response = client_a.post(f"/evaluations/{evaluation.pk}/edit/", post_data(form, revision=1))
    assert response.status_code == 302
    saved = {r.kind: r.executed for r in FundingRow.objects.filter(evaluation=evaluation)}
    assert sorted(saved) == sorted(ALL_KINDS)
    assert saved["fiscal"] == D(86) and saved["unit"] == D(5)

    text = squash("".join(pdf_pages(compose.evaluation_pdf(evaluation))))
    for label in ("财政资金", "财政专户管理资金", "单位资金", "其他资金", "86.00"):
        assert label in text

    workbook = Workbook()
    excel.write_form_sheet(workbook.active, evaluation.as_form_data())
    cells = {str(c.value) for row in workbook.active.iter_rows() for c in row if c.value}
    assert {"财政资金", "财政专户管理资金", "单位资金", "其他资金"} <= cells


@pytest.mark.django_db
def test_a_blank_entry_page_still_shows_the_four_standard_rows(client_a):
    page = client_a.get("/evaluations/new/").content.decode()
    for kind in ("total", "current_year", "carryover", "other"):
        assert f'name="funding-{kind}-annual_budget"' in page
    for kind in ("fiscal", "special_account", "unit"):
        assert f'name="funding-{kind}-annual_budget"' not in page
