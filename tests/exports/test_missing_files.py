"""Files missing from storage (a database restored without its media): a Chinese 404 naming
what is missing, never a 500; exports go on without the file and say so."""

from __future__ import annotations

import datetime
import hashlib
import logging
import zipfile
from io import BytesIO, StringIO

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from lxml import html as lxml_html

from campaigns.models import Campaign
from evidence.models import EvidenceFile
from exports import compose as pdf_module
from exports import jobs, pdfcache
from exports.models import ExportJob, State
from tests.evidence.test_evidence import evidence_on, pdf_bytes
from tests.exports.test_export_pages import finished_job
from tests.factories import make_evaluation
from tests.tasks_helpers import run_worker

MISSING_EVIDENCE = (
    "佐证材料“验收报告.pdf”（自评表“缺文件的项目”）的文件在服务器上找不到，请联系管理员从备份恢复。"
)


def text_of(response) -> str:
    """The page's visible text, whitespace collapsed."""
    return " ".join(lxml_html.fromstring(response.content).text_content().split())


pytestmark = pytest.mark.files


@pytest.mark.django_db
@pytest.mark.parametrize("inline", ["", "?inline=1"])
def test_an_evidence_file_gone_from_storage_is_a_chinese_404_naming_file_and_form(
    client_finance, dept_a, staff_a, inline
):
    evaluation = make_evaluation(dept_a, staff_a, project_name="缺文件的项目")
    evidence = evidence_on(evaluation, staff_a, name="验收报告.pdf")
    default_storage.delete(evidence.stored_name)
    response = client_finance.get(f"/evaluations/{evaluation.pk}/evidence/{evidence.pk}/{inline}")
    assert response.status_code == 404
    assert MISSING_EVIDENCE in text_of(response)
    assert evidence.stored_name not in response.content.decode()


@pytest.mark.django_db
def test_a_notice_pdf_gone_from_storage_is_a_chinese_404(client_a, db):
    campaign = Campaign.objects.create(
        year=2021, title="2021年度项目支出绩效自评", deadline=datetime.date(2022, 3, 31)
    )
    campaign.notice_file.save("notice.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"))
    default_storage.delete(campaign.notice_file.name)
    response = client_a.get("/campaigns/2021/notice/")
    assert response.status_code == 404
    assert "2021年自评任务通知的PDF文件在服务器上找不到，请联系管理员从备份恢复。" in text_of(
        response
    )


@pytest.mark.django_db
def test_a_finished_export_whose_file_is_gone_says_so_and_offers_to_make_it_again(
    client_a, staff_a
):
    job = finished_job(staff_a)
    default_storage.delete(job.file)
    expected = (
        "导出文件“2021年度_绩效自评表.pdf”在服务器上找不到（可能是从备份恢复时没有恢复文件）。"
        "可以点击“重新生成”再生成一次。"
    )
    download = client_a.get(reverse("exports:download", args=[job.pk]))
    assert download.status_code == 404
    assert expected in text_of(download)

    page = lxml_html.fromstring(client_a.get(reverse("exports:detail", args=[job.pk])).content)
    assert expected in " ".join(page.get_element_by_id("export-message").text_content().split())
    assert "d-none" not in page.get_element_by_id("export-retry").get("class")
    assert "d-none" in page.get_element_by_id("export-download").get("class")
    status = client_a.get(reverse("exports:status", args=[job.pk])).json()
    assert (status["download_url"], status["retryable"]) == ("", True)

    # Making it again queues the job anew, without the file that is gone.
    response = client_a.post(reverse("exports:retry", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.state, job.file, job.attempt) == (State.QUEUED, "", 2)


@pytest.mark.django_db
def test_a_cached_pdf_gone_from_storage_is_rendered_again(client_a, dept_a, staff_a):
    evaluation = make_evaluation(dept_a, staff_a, project_name="缓存被删的项目")
    name = pdfcache.cached_pdf_name(evaluation)
    default_storage.delete(name)
    response = client_a.get(reverse("evaluations:pdf", args=[evaluation.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert default_storage.exists(name)


@pytest.mark.jobs
@pytest.mark.django_db(transaction=True)
def test_a_zip_export_leaves_out_a_missing_evidence_file_and_lists_it(dept_a, staff_a):
    evaluation = make_evaluation(dept_a, staff_a, project_name="缺文件的项目")
    gone = evidence_on(evaluation, staff_a, name="验收报告.pdf")
    kept_data = pdf_bytes("kept")
    kept = evidence_on(make_evaluation(dept_a, staff_a, project_name="有文件的项目"), staff_a)
    default_storage.delete(gone.stored_name)
    default_storage.delete(kept.stored_name)
    default_storage.save(kept.stored_name, ContentFile(kept_data))
    # Two different files (the helper gives every file the same hash).
    type(gone).objects.filter(pk=gone.pk).update(sha256="1" * 64)

    job = jobs.export_create(user=staff_a, year=2021, format="zip")
    run_worker()
    job.refresh_from_db()
    assert job.state == State.DONE, job.message
    assert "1 个佐证材料文件在服务器上找不到，未包含在压缩包中（“验收报告.pdf”" in job.message
    with jobs.export_file_open(job) as handle, zipfile.ZipFile(BytesIO(handle.read())) as archive:
        names = archive.namelist()
        index = archive.read("佐证材料清单.txt").decode("utf-8-sig")
        assert [archive.read(n) for n in names if n.endswith("_佐证材料/01_合同.pdf")] == [
            kept_data
        ]
    assert not [n for n in names if "验收报告" in n]
    assert "注意：1 个文件在服务器上找不到" in index
    assert "01 验收报告.pdf（整张表） → 【文件在服务器上找不到" in index


@pytest.mark.jobs
@pytest.mark.django_db(transaction=True)
def test_an_export_failure_shows_no_server_path_and_logs_it(dept_a, staff_a, monkeypatch, caplog):
    evaluation = make_evaluation(dept_a, staff_a)
    path = f"{settings.MEDIA_ROOT}/pdf-cache/{evaluation.pk}/font.ttf"

    def lost(_evaluation):
        raise FileNotFoundError(2, "No such file or directory", path)

    monkeypatch.setattr(pdf_module, "evaluation_pdf", lost)
    job = jobs.export_create(user=staff_a, year=2021, format="pdf")
    with caplog.at_level(logging.ERROR):
        run_worker()
    job.refresh_from_db()
    assert job.state == State.FAILED
    assert job.message == (
        "生成失败：服务器上缺少所需的文件。请联系管理员从备份恢复文件后点击“重试”。"
    )
    assert path in caplog.text
    for failed in ExportJob.objects.filter(state=State.FAILED):
        assert "/media" not in failed.message and str(settings.MEDIA_ROOT) not in failed.message


@pytest.mark.django_db
def test_check_files_reports_missing_and_changed_evidence_and_exits_non_zero(dept_a, staff_a):
    evaluation = make_evaluation(dept_a, staff_a, project_name="缺文件的项目")
    data = pdf_bytes()
    intact = evidence_on(evaluation, staff_a, name="完好.pdf")
    EvidenceFile.objects.filter(pk=intact.pk).update(sha256=hashlib.sha256(data).hexdigest())
    out = StringIO()
    call_command("check_files", stdout=out)
    assert "checked 1 evidence files, 0 notices, 0 export files: 0 problems" in out.getvalue()

    gone = evidence_on(make_evaluation(dept_a, staff_a, project_name="另一个"), staff_a)
    default_storage.delete(gone.stored_name)
    default_storage.delete(intact.stored_name)
    default_storage.save(intact.stored_name, ContentFile(b"%PDF-1.4 other bytes"))
    job = finished_job(staff_a)
    default_storage.delete(job.file)
    out = StringIO()
    with pytest.raises(CommandError, match="3 stored files are missing or changed"):
        call_command("check_files", stdout=out)
    lines = out.getvalue().splitlines()
    assert f"missing  evidence {gone.pk} (另一个 / 合同.pdf): {gone.stored_name}" in lines
    assert f"changed  evidence {intact.pk} (缺文件的项目 / 完好.pdf): {intact.stored_name}" in lines
    assert f"missing  export {job.pk}: {job.file}" in lines
