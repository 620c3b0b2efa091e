"""Importing files in the browser: upload, preview (nothing written), confirm."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from departments.models import Department
from evaluations.importer.service import import_paths, parse_file
from evaluations.models import Evaluation, ImportUpload, Status
from exports.excel import evaluations_xlsx
from tests.conftest import sample_path

pytestmark = pytest.mark.django_db


def sample_upload(prefix: str = "000", name: str | None = None) -> SimpleUploadedFile:
    path = sample_path(prefix)
    return SimpleUploadedFile(name or path.name, path.read_bytes(), content_type="text/plain")


def batch_of(page: str) -> str:
    match = re.search(r'name="batch" value="([0-9a-f-]+)"', page)
    assert match, "no confirm form on the page"
    return match.group(1)


def test_it_shows_the_upload_form_in_chinese(client_a, dept_a):
    page = client_a.get("/evaluations/import/").content.decode()
    assert "导入自评表文件" in page
    assert f"本部门（{dept_a.name}）" in page
    assert 'type="file"' in page and "multiple" in page
    assert "上传并预览" in page


@pytest.mark.files
def test_it_previews_without_writing_then_imports_on_confirm(client_a, staff_a, dept_a):
    response = client_a.post("/evaluations/import/", {"files": [sample_upload("000")]})
    page = response.content.decode()
    assert response.status_code == 200
    assert "导入预览" in page
    assert "将新建" in page
    assert "农村住房提升改造工程质量监督检查费" in page
    assert "97.06" in page  # the sample's stated total, with the computed one beside it
    assert not Evaluation.objects.exists()
    assert ImportUpload.objects.filter(owner=staff_a).exists()

    response = client_a.post("/evaluations/import/confirm/", {"batch": batch_of(page)})
    page = response.content.decode()
    assert response.status_code == 200
    assert "导入完成" in page
    assert "已新建" in page
    created = Evaluation.objects.all()
    assert created.exists()
    assert {e.department_id for e in created} == {dept_a.pk}
    assert all(e.created_by == staff_a for e in created)
    assert not ImportUpload.objects.exists()
    # The report links to what was created.
    first = created.order_by("pk").first()
    assert f"/evaluations/{first.pk}/" in page


def test_it_shows_findings_of_each_form_in_the_preview(client_a):
    page = client_a.post("/evaluations/import/", {"files": [sample_upload("000")]}).content.decode()
    assert "错误" in page and "提示" in page
    assert 'class="finding finding-' in page


def test_it_imports_staff_files_into_their_own_department(client_b, dept_b):
    # Sample 000 is a form of another department.
    page = client_b.post("/evaluations/import/", {"files": [sample_upload("000")]}).content.decode()
    assert f"将导入到您所在的部门“{dept_b.name}”" in page
    client_b.post("/evaluations/import/confirm/", {"batch": batch_of(page)})
    assert Evaluation.objects.exists()
    assert set(Evaluation.objects.values_list("department_id", flat=True)) == {dept_b.pk}


def test_it_imports_finance_files_into_the_stated_department(client_finance):
    page = client_finance.post(
        "/evaluations/import/", {"files": [sample_upload("000"), sample_upload("001")]}
    ).content.decode()
    assert page.count("import-file") == 2
    client_finance.post("/evaluations/import/confirm/", {"batch": batch_of(page)})
    names = set(Evaluation.objects.values_list("department__name", flat=True))
    assert "昌吉回族自治州住房和城乡建设局" in names
    assert len(names) >= 2
    assert Department.objects.count() >= 2


def test_it_reports_updates_on_a_second_import(client_a):
    for _ in range(2):
        page = client_a.post(
            "/evaluations/import/", {"files": [sample_upload("000")]}
        ).content.decode()
        client_a.post("/evaluations/import/confirm/", {"batch": batch_of(page)})
    page = client_a.post("/evaluations/import/", {"files": [sample_upload("000")]}).content.decode()
    assert "无变化" in page
    assert "将新建" not in page.split("导入预览", 2)[-1].split("import-file", 1)[-1]


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("表.pdf", b"%PDF-1.4"), "“表.pdf”格式不支持"),
        (SimpleUploadedFile("空.txt", b""), "“空.txt”是空文件"),
        (SimpleUploadedFile("表.exe", b"MZ"), "只能导入 .txt、.xlsx、.docx 文件"),
    ],
)
def test_it_refuses_bad_files_with_a_clear_message(client_a, upload, message):
    response = client_a.post("/evaluations/import/", {"files": [upload]})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ImportUpload.objects.exists()


def test_it_asks_for_a_file(client_a):
    page = client_a.post("/evaluations/import/", {}).content.decode()
    assert "请选择至少一个文件" in page


def test_it_refuses_files_that_are_too_big(client_a, settings):
    settings.IMPORT_MAX_FILE_SIZE = 100
    page = client_a.post(
        "/evaluations/import/", {"files": [sample_upload("000", "大.txt")]}
    ).content.decode()
    assert "“大.txt”太大" in page
    assert "单个文件不能超过" in page
    assert not ImportUpload.objects.exists()


def test_it_refuses_too_many_files(client_a, settings):
    settings.IMPORT_MAX_FILES = 2
    files = [sample_upload("000", f"{i}.txt") for i in range(3)]
    page = client_a.post("/evaluations/import/", {"files": files}).content.decode()
    assert "一次最多导入 2 个文件，您选择了 3 个" in page
    assert not ImportUpload.objects.exists()


def test_it_reports_an_unreadable_file_in_the_preview(client_a):
    upload = SimpleUploadedFile("乱码.txt", "这不是自评表\n随便写的内容\n".encode())
    page = client_a.post("/evaluations/import/", {"files": [upload]}).content.decode()
    assert "乱码.txt" in page
    assert "未能导入" in page
    assert "确认导入" in page and "disabled" in page


@pytest.mark.files
def test_it_refuses_to_confirm_someone_elses_batch(client_a, colleague_a):
    page = client_a.post("/evaluations/import/", {"files": [sample_upload("000")]}).content.decode()
    other = Client()
    other.force_login(colleague_a)
    response = other.post("/evaluations/import/confirm/", {"batch": batch_of(page)}, follow=True)
    assert "导入预览已过期或不存在" in response.content.decode()
    assert not Evaluation.objects.exists()
    assert ImportUpload.objects.exists()


def test_it_refuses_an_expired_batch(client_a):
    page = client_a.post("/evaluations/import/", {"files": [sample_upload("000")]}).content.decode()
    ImportUpload.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    response = client_a.post("/evaluations/import/confirm/", {"batch": batch_of(page)}, follow=True)
    assert "导入预览已过期或不存在" in response.content.decode()
    assert not Evaluation.objects.exists()


def test_it_refuses_a_malformed_batch(client_a):
    response = client_a.post("/evaluations/import/confirm/", {"batch": "../../etc"})
    assert response.status_code == 302
    assert response["Location"] == "/evaluations/import/"


def test_it_purges_expired_uploads_on_the_next_upload(client_a):
    client_a.post("/evaluations/import/", {"files": [sample_upload("000")]})
    ImportUpload.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    client_a.post("/evaluations/import/", {"files": [sample_upload("001")]})
    assert ImportUpload.objects.count() == 1
    assert ImportUpload.objects.get().name.startswith("001")


# --- the application's own workbook, and what the preview says of each form ------------------


def year_workbook_upload() -> SimpleUploadedFile:
    """The year workbook this application exports, of the three sample files."""
    import_paths([str(sample_path(p)) for p in ("000", "001", "003")])
    data = evaluations_xlsx(Evaluation.objects.order_by("pk"))
    return SimpleUploadedFile("2021年度自评表.xlsx", data)


def test_the_applications_own_year_workbook_imports_without_problems(client_finance):
    upload = year_workbook_upload()
    stored = {e.project_name: e.stated_total for e in Evaluation.objects.all()}
    # One sample form states no total (its cell reads 分): the workbook prints 100 | blank.
    assert None in stored.values()
    parsed = parse_file(upload.read(), upload.name)
    upload.seek(0)
    assert [p.message for p in parsed.problems] == []
    assert {f.project_name: f.stated_total for f in parsed.forms} == stored
    page = client_finance.post("/evaluations/import/", {"files": [upload]}).content.decode()
    assert "读取时发现的问题" not in page
    assert "总分行只有一个数字100" not in page
    assert page.count("import-unchanged") == 38


def test_a_total_row_of_one_number_and_no_total_cell_is_still_reported(client_a):
    text = sample_path("000").read_text(encoding="utf-8")
    # The first form's total row, with only one number and no cell after it: 总分 | 100.
    changed = text.replace("\t100\n\t97.06分\n\t\n", "\t100\n", 1)
    assert changed != text
    parsed = parse_file(changed.encode(), "000.txt")
    assert any("总分行只有一个数字100" in p.message for p in parsed.problems)


def test_each_previewed_form_names_its_sheet(client_finance):
    upload = year_workbook_upload()
    page = client_finance.post("/evaluations/import/", {"files": [upload]}).content.decode()
    sheets = re.findall(r"工作表“(\d+_.*?)”，从第 1 行开始", page)
    assert len(sheets) == 38
    assert len(set(sheets)) == 38
    assert sheets[0].startswith("1_")


def test_an_approved_form_is_named_with_its_state_once(client_finance, finance):
    import_paths([str(sample_path("003"))])
    evaluation = Evaluation.objects.order_by("pk").first()
    Evaluation.objects.filter(pk=evaluation.pk).update(status=Status.APPROVED)
    text = sample_path("003").read_text(encoding="utf-8")
    changed = text.replace(evaluation.goal_actual[:20], "改过的" + evaluation.goal_actual[:17], 1)
    assert changed != text
    upload = SimpleUploadedFile("003.txt", changed.encode(), content_type="text/plain")
    page = client_finance.post("/evaluations/import/", {"files": [upload]}).content.decode()
    assert f"“{evaluation.project_name}”的状态是“已通过”，不能通过导入修改。" in page
    assert "已已" not in page
