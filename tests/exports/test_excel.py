"""Excel export in the official layout and the .xlsx importer reading it back."""

from __future__ import annotations

import zipfile
from decimal import Decimal
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from evaluations.importer.service import import_file
from evaluations.importer.xlsx import parse_xlsx
from evaluations.mapping import snapshot
from evaluations.models import Evaluation
from exports import excel
from tests.export_helpers import sample_form, sample_forms, sample_ids, store, unexpected

pytestmark = pytest.mark.django_db


def workbook_bytes(*forms) -> bytes:
    """A workbook with one official-layout sheet per form (no database)."""
    wb = Workbook()
    wb.remove(wb.active)
    for i, form in enumerate(forms, start=1):
        excel.write_form_sheet(wb.create_sheet(f"表{i}"), form)
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("prefix,index,form", sample_forms(), ids=sample_ids())
def test_it_reads_back_exactly_what_it_exported(prefix, index, form):
    evaluation = store(form)
    original = evaluation.as_form_data()
    result = parse_xlsx(excel.evaluations_xlsx([evaluation]))
    assert len(result.forms) == 1
    assert snapshot(result.forms[0]) == snapshot(original)
    assert unexpected(result.problems, original) == []


def test_a_departments_year_is_one_workbook_with_a_flat_sheet(dept_a):
    evaluations = [store(form, dept_a) for prefix, _i, form in sample_forms() if prefix == "000"]
    evaluations.sort(key=lambda e: (e.project_name, e.pk))
    data = excel.evaluations_xlsx(evaluations)
    wb = load_workbook(BytesIO(data))
    assert len(wb.sheetnames) == 11 and wb.sheetnames[-1] == "指标明细"
    assert wb.sheetnames[0].startswith("1_")

    flat = wb["指标明细"]
    header = [c.value for c in flat[1]]
    assert header[:9] == [
        "年度",
        "主管部门",
        "实施单位",
        "项目名称",
        "状态",
        "序号",
        "一级指标",
        "二级指标",
        "三级指标",
    ]
    rows = list(flat.iter_rows(min_row=2, values_only=True))
    assert len(rows) == sum(e.indicators.count() for e in evaluations)
    first = evaluations[0].as_form_data()
    ind = first.indicators[0]
    assert rows[0][:4] == (2021, dept_a.name, first.implementing_unit, first.project_name)
    assert rows[0][4] == "草稿"
    assert rows[0][6:11] == (ind.level1, ind.level2, ind.name, ind.target, ind.actual)
    assert Decimal(str(rows[0][11])) == ind.weight

    result = parse_xlsx(data)
    assert [f.project_name for f in result.forms] == [e.project_name for e in evaluations]
    for form, evaluation in zip(result.forms, evaluations, strict=True):
        assert snapshot(form) == snapshot(evaluation.as_form_data())


def test_the_sheet_has_the_official_merges_widths_and_print_setup():
    form = sample_form("000")
    wb = load_workbook(BytesIO(workbook_bytes(form)))
    ws = wb["表1"]
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A1:I1", "A2:I2", "B3:I3", "B4:D4", "F4:I4"} <= merged
    assert ws["A3"].value == "项目名称" and ws["B3"].value == form.project_name
    assert ws["A1"].value == "项目支出绩效自评表" and ws["A2"].value == "（2021年度）"
    # 项目资金 spans its header and four funding rows; each label spans B:C.
    assert "A5:A9" in merged and "B6:C6" in merged and ws["B6"].value == "年度资金总额"
    assert ws["H6"].number_format == "0.00%" and float(ws["H6"].value) == pytest.approx(0.8221)
    # 年度总体目标 over two rows, its texts over four columns each.
    assert {"A10:A11", "B10:E10", "F10:I10", "B11:E11", "F11:I11"} <= merged
    # 一级指标 merged down over its rows, 二级指标 over each group.
    header_row = 12
    assert ws.cell(header_row, 2).value == "一级指标"
    assert f"A{header_row}:A{header_row + len(form.indicators)}" in merged
    output_rows = sum(1 for i in form.indicators if i.level1 == "产出指标")
    assert f"B{header_row + 1}:B{header_row + output_rows}" in merged
    assert f"C{header_row + 1}:C{header_row + 3}" in merged  # three 数量指标
    total_row = header_row + len(form.indicators) + 1
    assert ws.cell(total_row, 1).value == "总分" and f"A{total_row}:F{total_row}" in merged
    # The stated total under 得分, the computed total's grade (core.grades) beside it.
    assert f"H{total_row}:I{total_row}" not in merged
    assert float(ws.cell(total_row, 8).value) == 97.06
    assert ws.cell(total_row, 9).value == "等级：优"
    # Borders on every position of a merged cell; widths; A4 portrait, one page wide.
    assert ws["I3"].border.right.style == "thin" and ws["E3"].border.top.style == "thin"
    assert ws.column_dimensions["D"].width == excel.COLUMN_WIDTHS[3]
    assert int(ws.page_setup.paperSize) == 9  # A4
    assert ws.page_setup.orientation == "portrait"
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert ws.print_title_rows == f"${header_row}:${header_row}"


def test_cells_starting_like_a_formula_stay_text():
    form = sample_form("000")
    form.project_name = '=HYPERLINK("http://evil.example","点击")'
    form.goal_target = "+1+1"
    form.indicators[0].name = "-2+3"
    form.indicators[0].deviation = "@SUM(A1:A2)"
    data = workbook_bytes(form)
    with zipfile.ZipFile(BytesIO(data)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    ws = load_workbook(BytesIO(data))["表1"]
    assert ws["B3"].data_type == "s" and ws["B3"].quotePrefix
    assert ws["B3"].value == form.project_name
    result = parse_xlsx(data)
    assert snapshot(result.forms[0]) == snapshot(form)


def test_the_flat_sheet_writes_formula_like_text_as_text(dept_a):
    form = sample_form("000")
    form.indicators[0].name = "=1+2"
    evaluation = store(form, dept_a)
    flat = load_workbook(BytesIO(excel.evaluations_xlsx([evaluation])))["指标明细"]
    cell = flat["I2"]
    assert cell.value == "=1+2" and cell.data_type == "s" and cell.quotePrefix


def test_sheet_titles_are_unique_and_valid():
    taken: set[str] = set()
    first = excel.sheet_title(1, "a/b:c*d?[x]" + "长" * 40, taken)
    second = excel.sheet_title(1, "a/b:c*d?[x]" + "长" * 40, taken)
    assert len(first) <= 31 and len(second) <= 31 and first != second
    assert not set("[]:*?/\\") & set(first)


# --------------------------------------------------------------------------- bad files


def test_a_text_where_a_number_belongs_is_reported_with_sheet_and_cell():
    form = sample_form("000")
    wb = load_workbook(BytesIO(workbook_bytes(form)))
    wb["表1"]["G13"] = "十分"
    buffer = BytesIO()
    wb.save(buffer)
    result = parse_xlsx(buffer.getvalue())
    assert len(result.forms) == 1
    assert result.forms[0].indicators[0].weight is None
    messages = [p.message for p in result.problems]
    assert any("工作表“表1”单元格 G13" in m and "十分" in m for m in messages), messages
    assert 13 in [p.line for p in result.problems]


def test_a_broken_merge_in_the_indicator_table_is_reported():
    form = sample_form("000")
    wb = load_workbook(BytesIO(workbook_bytes(form)))
    ws = wb["表1"]
    ws["H14"] = None
    ws.merge_cells("G14:H14")
    buffer = BytesIO()
    wb.save(buffer)
    result = parse_xlsx(buffer.getvalue())
    messages = [p.message for p in result.problems]
    assert any("工作表“表1”单元格 A14" in m and "合并单元格" in m for m in messages), messages


@pytest.mark.parametrize(
    "data,expected",
    [
        (b"just some text, not a workbook", "不是有效的 .xlsx 工作簿"),
        (b"PK\x03\x04broken zip", "不是有效的 .xlsx 工作簿"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "另存为 .xlsx"),
        (b"", "不是有效的 .xlsx 工作簿"),
    ],
)
def test_a_file_that_is_not_an_xlsx_gives_a_report(data, expected):
    result = parse_xlsx(data)
    assert result.forms == []
    assert len(result.problems) == 1 and expected in result.problems[0].message


def test_an_empty_workbook_gives_a_report():
    buffer = BytesIO()
    Workbook().save(buffer)
    result = parse_xlsx(buffer.getvalue())
    assert result.forms == []
    assert [p.message for p in result.problems] == ["工作簿是空的：没有找到任何内容。"]


def test_a_sheet_in_another_layout_is_reported_with_its_name():
    wb = Workbook()
    ws = wb.active
    ws.title = "工资表"
    ws.append(["姓名", "部门", "金额"])
    ws.append(["张三", "办公室", 1000])
    buffer = BytesIO()
    wb.save(buffer)
    result = parse_xlsx(buffer.getvalue())
    assert result.forms == []
    assert result.problems and all("工作表“工资表”" in p.message for p in result.problems)


def test_the_import_service_reads_xlsx_files(dept_a, staff_a):
    form = sample_form("000")
    report = import_file(
        data=workbook_bytes(form), name="自评表.xlsx", department=dept_a, user=staff_a
    )
    assert report.count("created") == 1
    evaluation = Evaluation.objects.get(department=dept_a, project_name=form.project_name)
    assert snapshot(evaluation.as_form_data()) == snapshot(form)


# --------------------------------------------------------------------------- views


def test_it_downloads_one_form_as_xlsx(client_a, dept_a):
    evaluation = store(sample_form("000"), dept_a)
    response = client_a.get(reverse("evaluations:xlsx", args=[evaluation.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert f'filename="evaluation-{evaluation.pk}.xlsx"' in response["Content-Disposition"]
    assert "filename*=UTF-8''2021" in response["Content-Disposition"]
    result = parse_xlsx(response.content)
    assert snapshot(result.forms[0]) == snapshot(evaluation.as_form_data())


@pytest.mark.django_db(transaction=True)
def test_it_downloads_a_departments_year_as_xlsx(client_a, client_b, dept_a):
    from tests.exports.test_export_pages import export_through_job

    store(sample_form("000"), dept_a)
    store(sample_form("000", 1), dept_a)
    url = reverse("evaluations:bulk_xlsx") + f"?year=2021&department={dept_a.pk}"
    assert client_a.get(url).status_code == 302  # the old URL: the pre-filled export form
    _job, response = export_through_job(client_a, year=2021, department=dept_a.pk, format="xlsx")
    data = b"".join(response.streaming_content)
    assert len(parse_xlsx(data).forms) == 2
    assert client_b.get(url).status_code == 404
