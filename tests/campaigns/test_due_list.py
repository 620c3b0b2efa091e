"""The due list (应评项目清单) workbook: the template, reading a hostile file, importing it."""

from __future__ import annotations

import datetime
import io
import json
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook, load_workbook

from campaigns.due_list import (
    PROJECTS_SHEET,
    TARGETS_SHEET,
    ProjectRow,
    due_list_workbook,
    import_due_list,
    parse_due_list,
)
from campaigns.models import Campaign, DueProject, DueTarget
from departments.models import Department
from tests.conftest import PROJECT_DIR, SAMPLE_DIR
from tests.factories import make_evaluation

pytestmark = pytest.mark.django_db

SAMPLE = SAMPLE_DIR / "due_list_2021.xlsx"
SAMPLE_DEPARTMENTS = [
    "昌吉回族自治州住房和城乡建设局",
    "昌吉回族自治州发展和改革委员会本级",
    "昌吉州民政局",
]
PROJECT_HEADER = ["主管部门", "实施单位", "项目名称", "项目编码", "年初预算数", "全年预算数"]
TARGET_HEADER = [
    "主管部门",
    "项目名称",
    "项目编码",
    "一级指标",
    "二级指标",
    "三级指标",
    "年度指标值",
    "分值",
]


def xlsx(projects: list[list], targets: list[list] | None = None) -> bytes:
    """A workbook written with openpyxl directly (not with the code under test)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = PROJECTS_SHEET
    sheet.append(PROJECT_HEADER)
    for row in projects:
        sheet.append(row)
    if targets is not None:
        other = workbook.create_sheet(TARGETS_SHEET)
        other.append(TARGET_HEADER)
        for row in targets:
            other.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.fixture
def campaign(db) -> Campaign:
    return Campaign.objects.create(
        year=2021, title="2021年度自评", deadline=datetime.date(2022, 3, 31)
    )


def problems(report) -> list[str]:
    return [f"{p.where}：{p.message}" if p.where else p.message for p in report.problems]


# --- the sample file and the template ---------------------------------------------------------


def test_it_previews_the_sample_without_writing_and_names_the_new_departments(campaign):
    report = import_due_list(
        campaign=campaign, data=SAMPLE.read_bytes(), name=SAMPLE.name, dry_run=True
    )
    assert report.problems == []
    assert not report.failed
    assert sorted(report.departments_created) == sorted(SAMPLE_DEPARTMENTS)
    assert report.count("would-create") == 38
    assert {r.department for r in report.rows} == set(SAMPLE_DEPARTMENTS)
    assert DueProject.objects.count() == 0
    assert Department.objects.count() == 0


def test_it_imports_the_sample_with_targets_and_a_second_time_changes_nothing(campaign):
    report = import_due_list(campaign=campaign, data=SAMPLE.read_bytes(), name=SAMPLE.name)
    assert report.count("created") == 38
    project = DueProject.objects.get(project_name="农村住房提升改造工程质量监督检查费")
    assert project.department.name == "昌吉回族自治州住房和城乡建设局"
    assert project.project_code == "65230120210001"
    assert (project.initial_budget, project.annual_budget) == (Decimal("70"), Decimal("70"))
    first = project.targets.order_by("position").first()
    assert (first.level1, first.level2, first.target, first.weight) == (
        "产出指标",
        "数量指标",
        "=1600户",
        Decimal("10"),
    )
    again = import_due_list(campaign=campaign, data=SAMPLE.read_bytes(), name=SAMPLE.name)
    assert again.count("unchanged") == 38
    assert again.departments_created == []
    assert DueProject.objects.count() == 38


def test_the_template_has_both_sheets_with_their_headers_and_no_rows():
    workbook = load_workbook(io.BytesIO(due_list_workbook()))
    assert workbook.sheetnames == [PROJECTS_SHEET, TARGETS_SHEET]
    # 部门编码 last: optional, files without it (PROJECT_HEADER) are read as before.
    assert [c.value for c in workbook[PROJECTS_SHEET][1]] == [*PROJECT_HEADER, "部门编码"]
    assert [c.value for c in workbook[TARGETS_SHEET][1]] == TARGET_HEADER
    assert workbook[PROJECTS_SHEET].max_row == 1


def test_an_empty_template_imports_nothing_and_says_so(campaign):
    report = import_due_list(campaign=campaign, data=due_list_workbook(), name="t.xlsx")
    assert problems(report) == ["应评项目：文件中没有找到应评项目。"]
    assert report.failed


def test_texts_that_look_like_formulas_stay_text():
    project = ProjectRow(
        row=0,
        department='=HYPERLINK("http://x")',
        implementing_unit="",
        project_name="=1+1",
        project_code="",
        initial_budget=None,
        annual_budget=None,
    )
    sheet = load_workbook(io.BytesIO(due_list_workbook([project])))[PROJECTS_SHEET]
    assert sheet["A2"].data_type == "s" and sheet["A2"].value == '=HYPERLINK("http://x")'
    assert sheet["C2"].data_type == "s"
    parsed = parse_due_list(due_list_workbook([project]))
    assert parsed.projects[0].project_name == "=1+1"


# --- problems: sheet and cell, and nothing written ----------------------------------------------


def test_each_problem_names_its_sheet_and_cell_and_a_file_with_problems_writes_nothing(campaign):
    data = xlsx(
        [
            ["部门甲", "单位", "项目一", "P1", 10, 10],
            ["部门甲", "单位", "", "P2", 1, 1],
            ["部门甲", "单位", "项目三", "P3", "abc", -1],
            ["部门甲", "单位", "项目四", "P1", 1, 1],
            ["", "单位", "项目五", "", 1.12345, None],
        ],
        [
            ["部门甲", "项目一", "P1", "产出指标", "数量指标", "户数", "=10户", 10],
            ["部门甲", "不存在", "", "产出指标", "数量指标", "户数", "=10户", 10],
            ["部门甲", "", "P1", "", "数量指标", "户数", "", "x"],
        ],
    )
    report = import_due_list(campaign=campaign, data=data, name="bad.xlsx")
    assert problems(report) == [
        "应评项目!C3：项目名称为空。",
        "应评项目!E4：“abc”不是数字。",
        "应评项目!F4：不能为负数。",
        "应评项目!D5：项目编码“P1”与第 2 行重复。",
        "应评项目!E6：小数位数不能超过 4 位。",
        "绩效目标!B3：在“应评项目”表中找不到该项目（部门甲：不存在）。",
        "绩效目标!H4：“x”不是数字。",
    ]
    assert report.failed
    assert [r.action for r in report.rows] == ["failed"]
    assert DueProject.objects.count() == 0
    assert Department.objects.count() == 0


def test_a_blank_department_is_a_problem_of_its_cell(campaign):
    report = import_due_list(
        campaign=campaign,
        data=xlsx([["", "单位", "项目五", "", 1, 1]]),
        name="x.xlsx",
        dry_run=True,
    )
    assert problems(report) == ["应评项目!A2：主管部门为空。"]


def test_a_file_without_the_projects_sheet_is_refused(campaign):
    workbook = Workbook()
    workbook.active.title = "Sheet1"
    out = io.BytesIO()
    workbook.save(out)
    report = import_due_list(campaign=campaign, data=out.getvalue(), name="x.xlsx")
    assert problems(report) == ["应评项目：工作簿中没有名为“应评项目”的工作表。"]
    assert report.failed


def test_a_header_is_found_below_a_title_row(campaign):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = PROJECTS_SHEET
    sheet.append(["2021年应评项目清单"])
    sheet.append(
        ["主管部门", "实施单位", "项目名称", "项目编码", "年初预算数（万元）", "全年预算数（万元）"]
    )
    sheet.append(["部门甲", "单位", "项目一", "", 5, 6])
    out = io.BytesIO()
    workbook.save(out)
    report = import_due_list(campaign=campaign, data=out.getvalue(), name="x.xlsx")
    assert report.problems == []
    assert DueProject.objects.get().annual_budget == Decimal("6")


# --- re-importing ------------------------------------------------------------------------------


def test_reimport_updates_by_code_replaces_targets_removes_unlisted_and_keeps_those_with_forms(
    campaign,
):
    first = xlsx(
        [
            ["部门甲", "单位", "项目一", "P1", 10, 10],
            ["部门甲", "单位", "项目二", "P2", 5, 5],
            ["部门甲", "单位", "有表的项目", "P3", 5, 5],
            ["部门甲", "单位", "无编码项目", "", 1, 1],
        ],
        [
            ["部门甲", "项目一", "P1", "产出指标", "数量指标", "户数", "=10户", 10],
            ["部门甲", "项目一", "P1", "满意度指标", "满意度指标", "满意度", ">=95%", 10],
        ],
    )
    import_due_list(campaign=campaign, data=first, name="1.xlsx")
    department = Department.objects.get(name="部门甲")
    with_form = DueProject.objects.get(project_code="P3")
    evaluation = make_evaluation(department, project_name="有表的项目")
    evaluation.due_project = with_form
    evaluation.save(update_fields=["due_project"])

    second = xlsx(
        [
            ["部门甲", "单位", "项目一（新名称）", "P1", 10, 12],
            ["部门甲", "单位", "无编码项目", "", 1, 1],
        ],
        [["部门甲", "", "P1", "产出指标", "质量指标", "合格率", ">=98%", 20]],
    )
    preview = import_due_list(campaign=campaign, data=second, name="2.xlsx", dry_run=True)
    # Projects not in the file first (by name), then the file's rows in order.
    assert [(r.project_name, r.action) for r in preview.rows] == [
        ("有表的项目", "kept"),
        ("项目二", "would-remove"),
        ("项目一（新名称）", "would-update"),
        ("无编码项目", "unchanged"),
    ]
    assert DueProject.objects.count() == 4

    report = import_due_list(campaign=campaign, data=second, name="2.xlsx")
    assert problems(report) == [
        "应评项目：“部门甲”的项目“有表的项目”不在本文件中，但已有自评表，仍保留在清单中。"
    ]
    assert not report.failed
    assert [(r.project_name, r.action) for r in report.rows] == [
        ("有表的项目", "kept"),
        ("项目二", "removed"),
        ("项目一（新名称）", "updated"),
        ("无编码项目", "unchanged"),
    ]
    assert set(DueProject.objects.values_list("project_name", flat=True)) == {
        "项目一（新名称）",
        "有表的项目",
        "无编码项目",
    }
    renamed = DueProject.objects.get(project_code="P1")
    assert renamed.annual_budget == Decimal("12")
    assert list(renamed.targets.values_list("name", "target", "weight")) == [
        ("合格率", ">=98%", Decimal("20"))
    ]
    evaluation.refresh_from_db()
    assert evaluation.due_project_id == with_form.pk


def test_a_file_without_a_targets_sheet_keeps_the_targets(campaign):
    import_due_list(
        campaign=campaign,
        data=xlsx(
            [["部门甲", "单位", "项目一", "", 1, 1]],
            [["部门甲", "项目一", "", "产出指标", "数量指标", "户数", "=10户", 10]],
        ),
        name="1.xlsx",
    )
    report = import_due_list(
        campaign=campaign, data=xlsx([["部门甲", "单位", "项目一", "", 1, 1]]), name="2.xlsx"
    )
    assert [r.action for r in report.rows] == ["unchanged"]
    assert DueTarget.objects.count() == 1


def test_a_project_with_a_form_is_never_deleted_even_by_an_empty_list(campaign):
    import_due_list(
        campaign=campaign, data=xlsx([["部门甲", "单位", "项目一", "", 1, 1]]), name="1.xlsx"
    )
    project = DueProject.objects.get()
    evaluation = make_evaluation(project.department, project_name="项目一")
    evaluation.due_project = project
    evaluation.save(update_fields=["due_project"])
    report = import_due_list(
        campaign=campaign, data=xlsx([["部门乙", "单位", "别的项目", "", 1, 1]]), name="2.xlsx"
    )
    assert [(r.project_name, r.action) for r in report.rows] == [
        ("项目一", "kept"),
        ("别的项目", "created"),
    ]
    assert DueProject.objects.filter(pk=project.pk).exists()


# --- a hostile file ----------------------------------------------------------------------------


def test_a_file_that_is_not_a_workbook_is_a_problem_not_a_crash(campaign):
    report = import_due_list(campaign=campaign, data=b"not a zip at all", name="x.xlsx")
    assert problems(report) == ["无法打开 Excel 文件：文件不是有效的 .xlsx 工作簿（BadZipFile）。"]
    assert report.failed


def test_an_old_excel_file_is_refused_with_advice(campaign):
    report = import_due_list(
        campaign=campaign, data=b"\xd0\xcf\x11\xe0" + b"\0" * 100, name="x.xls"
    )
    assert problems(report) == ["这是旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 后再导入。"]


def test_a_zip_bomb_is_refused_before_it_is_read(campaign, settings):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * (20 * 1024 * 1024))
    report = import_due_list(campaign=campaign, data=out.getvalue(), name="bomb.xlsx")
    assert problems(report) == ["文件的压缩比超过 100 倍（上限），可能是“压缩炸弹”，未读取。"]
    assert report.failed


def test_rows_beyond_the_limit_are_not_read_and_the_sheet_says_so(campaign, settings):
    settings.IMPORT_MAX_SHEET_ROWS = 3
    data = xlsx([["部门甲", "", f"项目{i}", "", 1, 1] for i in range(5)])
    report = import_due_list(campaign=campaign, data=data, name="x.xlsx", dry_run=True)
    assert problems(report) == ["应评项目：工作表“应评项目”超过3行（上限），只读取前3行。"]
    assert [r.project_name for r in report.rows] == ["项目0", "项目1"]
    assert report.failed


# --- the command -------------------------------------------------------------------------------


def test_the_command_prints_the_json_report_and_a_dry_run_writes_nothing(campaign, capsys):
    call_command("import_due_list", "--year", "2021", str(SAMPLE), "--dry-run", "--json")
    report = json.loads(capsys.readouterr().out)
    (file,) = report["files"]
    assert file["file"] == str(SAMPLE)
    assert file["problems"] == []
    assert sorted(file["departments_created"]) == sorted(SAMPLE_DEPARTMENTS)
    assert len(file["rows"]) == 38
    assert file["rows"][0] == {
        "department": "昌吉回族自治州住房和城乡建设局",
        "project_name": "农村住房提升改造工程质量监督检查费",
        "project_code": "65230120210001",
        "action": "would-create",
        "row": 2,
        "implementing_unit": "昌吉回族自治州住房和城乡建设局",
        "initial_budget": 70,
        "annual_budget": 70,
        "targets": 14,
    }
    assert DueProject.objects.count() == 0
    call_command("import_due_list", "--year", "2021", str(SAMPLE), "--json")
    assert {r["action"] for r in json.loads(capsys.readouterr().out)["files"][0]["rows"]} == {
        "created"
    }
    assert DueProject.objects.filter(campaign=campaign).count() == 38


def test_the_command_reports_problems_with_sheet_and_cell_and_fails(campaign, tmp_path, capsys):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(xlsx([["部门甲", "单位", "", "", 1, 1]]))
    with pytest.raises(CommandError) as error:
        call_command("import_due_list", "--year", "2021", str(path), "--json")
    assert error.value.returncode == 2
    report = json.loads(capsys.readouterr().out)
    assert report["files"][0]["problems"] == [
        {"sheet": "应评项目", "cell": "C2", "message": "项目名称为空。"}
    ]
    assert DueProject.objects.count() == 0


def test_the_command_needs_the_campaign_of_the_year(db):
    with pytest.raises(CommandError, match="2021 年度的自评任务不存在"):
        call_command("import_due_list", "--year", "2021", str(SAMPLE))


def test_the_sample_file_is_what_the_script_writes(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "due.xlsx"
    subprocess.run(
        [sys.executable, str(Path("scripts/make_due_list_sample.py").resolve()), str(out)],
        check=True,
        capture_output=True,
        cwd=PROJECT_DIR,
    )
    written = parse_due_list(out.read_bytes())
    sample = parse_due_list(SAMPLE.read_bytes())
    assert [(p.department, p.project_name, len(p.targets)) for p in written.projects] == [
        (p.department, p.project_name, len(p.targets)) for p in sample.projects
    ]
    assert {p.department for p in sample.projects} == set(SAMPLE_DEPARTMENTS)


def test_a_preview_with_problems_still_says_what_each_row_would_do(campaign):
    data = xlsx(
        [["部门甲", "单位", "项目一", "P1", 1, 1], ["部门甲", "单位", "项目二", "P2", "x", 1]],
        [
            ["部门甲", "", "P2", "产出指标", "数量指标", "户数", "=10户", 10],
            ["部门甲", "", "P2", "产出指标", "数量指标", "次数", "=2次", 10],
        ],
    )
    report = import_due_list(campaign=campaign, data=data, name="x.xlsx", dry_run=True)
    # The targets of the refused row 3 are not reported once more each.
    assert problems(report) == ["应评项目!E3：“x”不是数字。"]
    assert [(r.project_name, r.action) for r in report.rows] == [("项目一", "would-create")]
    assert report.failed
    assert DueProject.objects.count() == 0


def test_a_header_without_the_project_name_column_is_refused(campaign):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = PROJECTS_SHEET
    sheet.append(["主管部门", "实施单位", "项目编码"])
    sheet.append(["部门甲", "单位", "P1"])
    out = io.BytesIO()
    workbook.save(out)
    report = import_due_list(campaign=campaign, data=out.getvalue(), name="x.xlsx")
    assert problems(report) == ["应评项目!A1：表头缺少“项目名称”列。"]
    assert report.failed and DueProject.objects.count() == 0
