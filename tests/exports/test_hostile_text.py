"""Hostile text where text leaves: workbooks, PDFs and download names carry no control characters.

A form stored before the forms cleaned their input (simulated with a raw ``update()``)
may hold control characters or U+FFFE/U+FFFF: every export still works and drops them.
Generated file names never carry bidirectional controls such as U+202E.
"""

from __future__ import annotations

import io
import zipfile
from urllib.parse import unquote

import pytest
from django.db import connection
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from common.http import content_disposition
from departments.models import Department
from evaluations.models import Evaluation, Indicator
from exports import excel
from exports.pdf import bulk_filename, export_filename, safe_filename
from tests.export_helpers import pdf_pages
from tests.exports.test_export_pages import export_through_job
from tests.factories import make_evaluation

pytestmark = pytest.mark.django_db

RLO = "\u202e"
# Characters XML (so .xlsx) cannot hold, that PostgreSQL stores (NUL it refuses).
HOSTILE = "\x01\x08\x1f\ufffe\uffff"


def legacy(evaluation: Evaluation, **fields: str) -> Evaluation:
    """Store texts the forms would have cleaned, as data from before the cleaning."""
    Evaluation.objects.filter(pk=evaluation.pk).update(**fields)
    evaluation.refresh_from_db()
    return evaluation


@pytest.fixture
def hostile(dept_a) -> Evaluation:
    evaluation = make_evaluation(dept_a, project_name="项目")
    Indicator.objects.filter(evaluation=evaluation, position=1).update(
        name=f"指标{HOSTILE}名称", deviation="偏差\ufffe说明"
    )
    return legacy(
        evaluation,
        project_name="P\x01Q",
        goal_target=f"目标{HOSTILE}一",
        implementing_unit="单位\uffff",
    )


def _workbook(content: bytes):
    return load_workbook(io.BytesIO(content))


def test_it_exports_one_form_with_control_characters_to_xlsx(client_a, hostile):
    response = client_a.get(reverse("evaluations:xlsx", args=[hostile.pk]))
    assert response.status_code == 200
    workbook = _workbook(response.content)
    assert workbook.sheetnames == ["1_PQ", "指标明细"]
    sheet = workbook["1_PQ"]
    assert sheet["B3"].value == "PQ"
    assert sheet["F4"].value == "单位"
    goal = next(c.value for row in sheet.iter_rows() for c in row if c.value == "目标一")
    assert goal == "目标一"
    flat = workbook["指标明细"]
    assert flat["I2"].value == "指标名称"
    assert flat["P2"].value == "偏差说明"
    assert flat["D2"].value == "PQ"


@pytest.mark.django_db(transaction=True)
def test_it_exports_the_year_workbook_with_control_characters(client_finance, hostile, dept_a):
    make_evaluation(dept_a, project_name="另一个项目")
    _job, response = export_through_job(client_finance, year=2021, format="xlsx")
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert _workbook(body).sheetnames == ["1_PQ", "2_另一个项目", "指标明细"]


def test_it_exports_the_dashboard_with_control_characters(client_finance, dept_a, staff_a):
    odd = Department.objects.create(name=f"部门{HOSTILE}甲")
    make_evaluation(odd, staff_a, project_name="X")
    response = client_finance.get("/dashboard/export.xlsx?year=2021")
    assert response.status_code == 200
    sheet = _workbook(response.content).active
    assert sheet.title == "2021"
    names = [row[0].value for row in sheet.iter_rows(min_row=3)]
    assert names == [dept_a.name, "部门甲", "合计"]


def test_it_prints_a_form_with_control_characters(client_a, hostile):
    response = client_a.get(reverse("evaluations:pdf", args=[hostile.pk]))
    assert response.status_code == 200
    text = "".join(pdf_pages(response.content))
    assert "PQ" in text and "目标一" in text and "指标名称" in text


@pytest.mark.skipif(connection.vendor == "postgresql", reason="PostgreSQL cannot store NUL at all")
def test_it_exports_a_legacy_nul_on_sqlite(client_a, dept_a):
    evaluation = legacy(make_evaluation(dept_a), goal_target="保障\x00居民")
    response = client_a.get(reverse("evaluations:xlsx", args=[evaluation.pk]))
    assert response.status_code == 200
    values = [c.value for row in _workbook(response.content).worksheets[0].iter_rows() for c in row]
    assert "保障居民" in values
    assert client_a.get(reverse("evaluations:pdf", args=[evaluation.pk])).status_code == 200


def test_one_helper_writes_every_text_cell_and_sheet_title():
    cell = Workbook().active["A1"]
    excel.set_text(cell, f"=SUM(A1){HOSTILE}\x00")
    assert cell.value == "=SUM(A1)" and cell.data_type == "s" and cell.quotePrefix
    excel.set_text(cell, "行一\n行二\t列")
    assert cell.value == "行一\n行二\t列"
    assert excel.safe_sheet_title("a[b]c:d*e?f/g\\h\x01\ufffe") == "a_b_c_d_e_f_g_h"
    assert excel.safe_sheet_title("'引号'") == "引号"
    assert excel.safe_sheet_title("行一\n行二") == "行一 行二"
    assert excel.safe_sheet_title("history") == "history_"
    assert excel.safe_sheet_title("\x01", "备用") == "备用"
    assert len(excel.safe_sheet_title("长" * 40)) == 31
    assert excel.safe_sheet_title("😀" * 20) == "😀" * 15  # Excel counts UTF-16 units
    taken: set[str] = set()
    titles = [excel.sheet_title(1, "[项目]/一" + "长" * 40, taken) for _ in range(2)]
    first = ("1__项目__一" + "长" * 40)[:31]
    assert titles == [first, first[:29] + "~2"]
    wb = Workbook()
    for title in titles:
        wb.create_sheet(title)
    wb.save(io.BytesIO())


# --------------------------------------------------------------------------- file names


def test_it_strips_bidi_controls_from_generated_file_names(dept_a):
    evaluation = legacy(make_evaluation(dept_a), project_name=f"发票{RLO}fdp.exe")
    assert export_filename(evaluation, "pdf") == "2021年度_发票fdp.exe_绩效自评表.pdf"
    assert (
        bulk_filename(2021, f"部门{RLO}\u2066甲\u2069", "zip") == "2021年度_部门甲_绩效自评表.zip"
    )
    assert safe_filename(f"a\u200fb\u061cc{RLO}d\x00e/f") == "abcde_f"
    header = content_disposition(f"x{RLO}.pdf", f'fallback{RLO}\r\n".pdf')
    assert header == "attachment; filename=\"fallback.pdf\"; filename*=UTF-8''x.pdf"


@pytest.mark.parametrize("route", ["evaluations:pdf", "evaluations:xlsx"])
def test_it_sends_download_names_without_bidi_controls(client_a, dept_a, route):
    evaluation = legacy(make_evaluation(dept_a), project_name=f"发票{RLO}fdp.exe")
    response = client_a.get(reverse(route, args=[evaluation.pk]))
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    name = unquote(disposition.split("filename*=UTF-8''", 1)[1])
    extension = route.split(":")[1]
    assert name == f"2021年度_发票fdp.exe_绩效自评表.{extension}"
    assert RLO not in unquote(disposition) and "%E2%80%AE" not in disposition


@pytest.mark.django_db(transaction=True)
def test_it_zips_and_merges_without_bidi_controls(client_finance, dept_a):
    department = Department.objects.create(name=f"部门{RLO}甲")
    legacy(make_evaluation(department, project_name="项目"), project_name=f"发票{RLO}fdp.exe")
    _job, response = export_through_job(
        client_finance, year=2021, department=department.pk, format="zip"
    )
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert unquote(disposition.split("''", 1)[1]) == "2021年度_部门甲_绩效自评表.zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.namelist() == ["001_2021年度_发票fdp.exe_绩效自评表.pdf"]
    _job, response = export_through_job(
        client_finance, year=2021, department=department.pk, format="pdf"
    )
    assert response.status_code == 200
    assert RLO not in unquote(response["Content-Disposition"])
