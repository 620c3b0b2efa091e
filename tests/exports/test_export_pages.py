"""The export pages (/exports/): start a job, its progress, cancel, retry, download, the badge.

A job is its user's only: everyone else (a colleague, another department, finance, the
administrator) gets 404, as for a job that does not exist. The old bulk URLs of
/evaluations/export/... lead to the pre-filled form and never start a job.
"""

from __future__ import annotations

import re
import zipfile
from datetime import timedelta
from io import BytesIO
from urllib.parse import quote, urlencode

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from lxml import html as lxml_html
from openpyxl import load_workbook
from pypdf import PdfReader

from evaluations.models import Evaluation, Status
from exports import jobs, pdf
from exports.context_processors import export_news
from exports.models import ExportJob, State
from tests.config.test_security import _assert_clean_page
from tests.conftest import client_for
from tests.export_helpers import sample_forms, store
from tests.tasks_helpers import run_worker

pytestmark = [pytest.mark.django_db, pytest.mark.files]

LIST = "/exports/"


def forms_of(department, count: int, prefix: str = "000", **kwargs):
    """``count`` sample forms of file ``prefix`` stored in ``department`` (2021 for 000/001)."""
    found = [form for p, _i, form in sample_forms() if p == prefix][:count]
    return [store(form, department, **kwargs) for form in found]


def print_order(evaluations) -> list[int]:
    ordered = sorted(evaluations, key=lambda e: (e.department.name, e.project_name, e.pk))
    return [e.pk for e in ordered]


def finished_job(user, *, content: bytes = b"%PDF-1.7 finished", **fields) -> ExportJob:
    """A done job whose file is in storage (as the assembling step leaves it)."""
    name = default_storage.save(f"exports/{user.pk}/test.pdf", ContentFile(content))
    now = timezone.now()
    values = {
        "user": user,
        "format": "pdf",
        "year": 2021,
        "state": State.DONE,
        "total": 2,
        "done": 2,
        "assembled": 2,
        "file": name,
        "filename": "2021年度_绩效自评表.pdf",
        "size": len(content),
        "finished_at": now,
        "expires_at": now + timedelta(days=7),
        **fields,
    }
    return ExportJob.objects.create(**values)


def download(client: Client, job: ExportJob) -> bytes:
    response = client.get(reverse("exports:download", args=[job.pk]))
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content)


def export_through_job(client: Client, **params) -> tuple[ExportJob, object]:
    """POST /exports/, run the worker, download: the job and the download response.

    The way a test gets a bulk file now that the old GET URLs only redirect (needs
    ``django_db(transaction=True)``: the worker uses its own transactions).
    """
    response = client.post(LIST, params)
    assert response.status_code == 302, response.content.decode()[:2000]
    job = ExportJob.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
    run_worker()
    job.refresh_from_db()
    assert job.state == State.DONE, job.message
    return job, client.get(reverse("exports:download", args=[job.pk]))


# --- starting an export ----------------------------------------------------------------------


def test_it_starts_a_staff_export_of_their_own_department_only(client_a, staff_a, dept_a, dept_b):
    own = forms_of(dept_a, 2)
    forms_of(dept_b, 2, prefix="001")  # another department's 2021 forms stay out
    response = client_a.post(LIST, {"year": "2021", "format": "pdf"})
    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("exports:detail", args=[job.pk])
    assert (job.user, job.year, job.format) == (staff_a, 2021, "pdf")
    # Their department is the export's, and names the file.
    assert (job.department, job.filename) == (dept_a, pdf.bulk_filename(2021, dept_a.name, "pdf"))
    assert job.evaluation_ids == print_order(own)
    assert (job.state, job.total, job.status_filter) == (State.QUEUED, 2, "")
    page = client_a.get(response["Location"]).content.decode()
    assert "已开始导出（共 2 张自评表）" in page


def test_it_starts_a_finance_export_of_every_or_one_department(client_finance, dept_a, dept_b):
    a = forms_of(dept_a, 2)
    b = forms_of(dept_b, 1, prefix="001", status=Status.APPROVED)
    client_finance.post(LIST, {"year": "2021", "format": "zip"})
    job = ExportJob.objects.get()
    assert job.evaluation_ids == print_order(a + b)
    assert job.filename == pdf.bulk_filename(2021, None, "zip")

    client_finance.post(
        LIST, {"year": "2021", "department": dept_b.pk, "status": "approved", "format": "xlsx"}
    )
    job = ExportJob.objects.order_by("-pk").first()
    assert job.evaluation_ids == [b[0].pk]
    assert (job.department, job.department_name, job.status_filter) == (
        dept_b,
        dept_b.name,
        "approved",
    )
    assert job.filename == pdf.bulk_filename(2021, dept_b.name, "xlsx")


def test_it_refuses_a_department_the_user_does_not_see(client_a, dept_a, dept_b):
    forms_of(dept_a, 1)
    forms_of(dept_b, 1, prefix="001")
    response = client_a.post(LIST, {"year": "2021", "department": dept_b.pk, "format": "pdf"})
    assert response.status_code == 200
    assert "主管部门不存在或无权导出。" in response.content.decode()
    assert ExportJob.objects.count() == 0


def test_it_shows_the_export_error_and_keeps_the_choice(client_finance, dept_a):
    forms_of(dept_a, 2)  # drafts
    response = client_finance.post(
        LIST, {"year": "2021", "department": dept_a.pk, "status": "approved", "format": "zip"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "没有符合条件的自评表。" in html
    assert re.search(r'<option value="2021" selected>', html)
    assert re.search(rf'<option value="{dept_a.pk}" selected>', html)
    assert re.search(r'<option value="approved" selected>', html)
    assert re.search(r'value="zip" checked', html)
    assert ExportJob.objects.count() == 0

    # A year without forms stays chosen too.
    html = client_finance.post(LIST, {"year": "1999", "format": "pdf"}).content.decode()
    assert "没有符合条件的自评表。" in html and '<option value="1999" selected>' in html


def test_it_shows_the_limit_on_forms_per_export(client_finance, dept_a, settings):
    settings.EXPORT_MAX_FORMS = 1
    forms_of(dept_a, 2)
    html = client_finance.post(LIST, {"year": "2021", "format": "pdf"}).content.decode()
    assert "一次最多导出 1 张自评表（所选 2 张）" in html
    assert ExportJob.objects.count() == 0


def test_it_refuses_an_export_beyond_the_users_bound_with_the_choice_kept(
    client_finance, finance, dept_a, settings
):
    settings.EXPORT_MAX_ACTIVE_PER_USER = 2
    forms_of(dept_a, 2)
    for fmt in ("pdf", "zip"):
        assert client_finance.post(LIST, {"year": "2021", "format": fmt}).status_code == 302
    response = client_finance.post(LIST, {"year": "2021", "status": "draft", "format": "xlsx"})
    assert response.status_code == 200
    html = response.content.decode()
    assert (
        "您已有 2 个导出正在排队或生成（每人同时最多 2 个）。"
        "请等其中一个完成，或在“我的导出”中取消一个，再开始新的导出。"
    ) in html
    assert re.search(r'<option value="draft" selected>', html) and 'value="xlsx" checked' in html
    assert ExportJob.objects.filter(user=finance).count() == 2
    assert not ExportJob.objects.filter(format="xlsx").exists()


def test_an_identical_post_opens_the_export_already_running_or_just_done(
    client_finance, finance, dept_a
):
    forms_of(dept_a, 2)
    first = client_finance.post(LIST, {"year": "2021", "format": "zip"})
    job = ExportJob.objects.get()
    again = client_finance.post(LIST, {"year": "2021", "format": "zip"})
    assert again["Location"] == first["Location"] == reverse("exports:detail", args=[job.pk])
    assert ExportJob.objects.count() == 1
    page = client_finance.get(again["Location"]).content.decode()
    assert "相同的导出正在进行，未重复开始；完成后可在此下载。" in page

    ExportJob.objects.filter(pk=job.pk).update(
        state=State.DONE, finished_at=timezone.now(), expires_at=timezone.now() + timedelta(days=7)
    )
    done = client_finance.post(LIST, {"year": "2021", "format": "zip"})
    assert done["Location"] == first["Location"] and ExportJob.objects.count() == 1
    page = client_finance.get(done["Location"]).content.decode()
    assert "相同的导出刚刚完成，所选自评表此后没有变化，可直接下载。" in page


def test_the_export_page_explains_the_bounds_per_user(client_a, settings):
    settings.EXPORT_MAX_ACTIVE_PER_USER = 3
    settings.EXPORT_MAX_BYTES_PER_USER = 2 * 1024**3
    html = client_a.get(LIST).content.decode()
    assert (
        "每人同时最多 3 个导出在排队或生成；重复提交相同的导出时，打开正在进行或刚刚完成的那一个，"
        "不再重新生成。每人保留的导出文件合计不超过 2.0\xa0GB：超出时自动删除最早完成的文件，"
        "最新的导出总会保留。"
    ) in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"format": "pdf"}, "请选择要导出的年度。"),
        ({"year": "²", "format": "pdf"}, "年度应为四位数字"),
        ({"year": "2021", "department": "x", "format": "pdf"}, "主管部门参数无效。"),
        ({"year": "2021", "status": "junk", "format": "pdf"}, "状态参数无效。"),
        ({"year": "2021", "format": "docx"}, "导出格式无效"),
        ({"year": "2021"}, "请选择导出格式。"),
    ],
)
def test_it_answers_a_malformed_post_with_the_form_and_its_message(
    client_finance, dept_a, data, message
):
    forms_of(dept_a, 1)
    response = client_finance.post(LIST, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert ExportJob.objects.count() == 0


def test_a_get_prefills_the_form_and_starts_nothing(client_finance, dept_a):
    forms_of(dept_a, 1)
    query = urlencode({"year": 2021, "department": dept_a.pk, "status": "draft", "format": "xlsx"})
    response = client_finance.get(f"{LIST}?{query}")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<option value="2021" selected>' in html
    assert f'<option value="{dept_a.pk}" selected>' in html
    assert '<option value="draft" selected>' in html
    assert 'value="xlsx" checked' in html
    assert ExportJob.objects.count() == 0
    # Hostile values are ignored, not an error page.
    response = client_finance.get(f"{LIST}?year=²&department=9999999&format=exe&page=x")
    assert response.status_code == 200
    assert 'value="pdf" checked' in response.content.decode()
    # Without a year asked for, the latest year with forms is chosen.
    forms_of(dept_a, 1, prefix="003")  # 2020
    html = client_finance.get(LIST).content.decode()
    assert '<option value="2021" selected>' in html and '<option value="2020">' in html


def test_the_list_shows_own_jobs_newest_first(client_a, staff_a, staff_b, settings):
    older = finished_job(staff_a, filename="older.pdf")
    newer = ExportJob.objects.create(user=staff_a, format="xlsx", year=2020, total=4, done=1)
    finished_job(staff_b, filename="someone-else.pdf")
    html = client_a.get(LIST).content.decode()
    rows = re.findall(r'<tr data-job="(\d+)">', html)
    assert rows == [str(newer.pk), str(older.pk)]
    assert reverse("exports:download", args=[older.pk]) in html
    assert reverse("exports:download", args=[newer.pk]) not in html
    assert "已生成 1 / 共 4 张" in html


def test_the_list_is_paginated(client_a, staff_a):
    ExportJob.objects.bulk_create(
        ExportJob(user=staff_a, format="pdf", year=2000 + n, total=1) for n in range(25)
    )
    first = client_a.get(LIST).content.decode()
    second = client_a.get(LIST + "?page=2").content.decode()
    assert len(re.findall(r'<tr data-job="', first)) == 20
    assert len(re.findall(r'<tr data-job="', second)) == 5
    assert "第 1 / 2 页" in first


# --- one job: progress, cancel, retry ---------------------------------------------------------


def test_the_detail_page_and_status_show_the_progress(client_a, staff_a, dept_a):
    forms_of(dept_a, 2)
    job = jobs.export_create(user=staff_a, year=2021, format="pdf")
    ExportJob.objects.filter(pk=job.pk).update(state=State.RUNNING, done=1)
    response = client_a.get(reverse("exports:detail", args=[job.pk]))
    html = response.content.decode()
    assert "已生成 1 / 共 2 张" in html
    assert (
        '<progress class="w-100 export-progress" id="export-progress" max="100" value="45"' in html
    )
    assert reverse("exports:cancel", args=[job.pk]) in html
    assert 'id="export-cancel" class=""' in html  # shown while active
    assert 'id="export-download" href=""' in html  # not downloadable yet
    assert "/static/js/exports.js" in html
    _assert_clean_page("detail", response)

    data = client_a.get(reverse("exports:status", args=[job.pk])).json()
    assert data == {
        "state": "running",
        "state_label": "正在生成",
        "done": 1,
        "total": 2,
        "assembled": 0,
        "percent": 45,
        "progress_text": "已生成 1 / 共 2 张",
        "message": "",
        "download_url": "",
        "finished": False,
        "expires_at": "",
        "finished_at": "",
        "retryable": False,
        "stalled": False,
        "worker_warning": "",
        "waiting_for_queue": False,
    }
    job.refresh_from_db()
    assert job.seen_at is None  # still running: nothing to announce yet


def test_a_job_queued_too_long_says_the_worker_may_not_run(client_a, staff_a):
    job = ExportJob.objects.create(user=staff_a, format="pdf", year=2021, total=3)
    html = client_a.get(reverse("exports:detail", args=[job.pk])).content.decode()
    assert 'alert alert-warning small d-none" id="export-stalled"' in html
    ExportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    html = client_a.get(reverse("exports:detail", args=[job.pk])).content.decode()
    assert 'alert alert-warning small" id="export-stalled"' in html
    assert "后台导出进程可能没有运行" in html
    assert client_a.get(reverse("exports:status", args=[job.pk])).json()["stalled"] is True


def test_a_job_waiting_its_turn_behind_moving_exports_is_not_called_stalled(client_a, staff_a):
    """Its user's earlier export (or anyone's) made progress lately: the workers run."""
    waiting = ExportJob.objects.create(user=staff_a, format="pdf", year=2021, total=3)
    earlier = timezone.now() - timedelta(minutes=5)
    ExportJob.objects.filter(pk=waiting.pk).update(created_at=earlier)
    ExportJob.objects.create(
        user=staff_a,
        format="zip",
        year=2021,
        total=3,
        state=State.RUNNING,
        heartbeat_at=timezone.now(),
    )
    html = client_a.get(reverse("exports:detail", args=[waiting.pk])).content.decode()
    assert 'alert alert-warning small d-none" id="export-stalled"' in html
    assert client_a.get(reverse("exports:status", args=[waiting.pk])).json()["stalled"] is False


def test_the_status_poll_recovers_a_chunk_a_killed_worker_left(client_a, staff_a, dept_a, settings):
    forms_of(dept_a, 2)
    job = jobs.export_create(user=staff_a, year=2021, format="pdf")
    chunk = job.chunks.get()
    gone = timezone.now() - timedelta(seconds=settings.EXPORT_STALE_SECONDS + 60)
    chunk.__class__.objects.filter(pk=chunk.pk).update(state=State.RUNNING, heartbeat_at=gone)
    ExportJob.objects.filter(pk=job.pk).update(state=State.RUNNING)
    data = client_a.get(reverse("exports:status", args=[job.pk])).json()
    chunk.refresh_from_db()
    assert (chunk.state, chunk.attempt) == (State.QUEUED, 2)
    assert data["finished"] is False


def test_a_failed_job_shows_its_message_and_offers_a_retry(client_a, staff_a):
    job = ExportJob.objects.create(
        user=staff_a,
        format="pdf",
        year=2021,
        total=2,
        state=State.FAILED,
        message="生成失败（OSError：磁盘已满）。",
        finished_at=timezone.now(),
    )
    html = client_a.get(reverse("exports:detail", args=[job.pk])).content.decode()
    assert "生成失败（OSError：磁盘已满）。" in html
    assert 'alert alert-danger small" id="export-message"' in html
    assert 'id="export-retry" class=""' in html
    assert 'id="export-cancel" class="d-none"' in html
    data = client_a.get(reverse("exports:status", args=[job.pk])).json()
    assert (data["state"], data["retryable"], data["finished"]) == ("failed", True, True)


def test_it_cancels_and_retries_a_job(client_a, staff_a, dept_a):
    forms_of(dept_a, 2)
    job = jobs.export_create(user=staff_a, year=2021, format="pdf")
    detail = reverse("exports:detail", args=[job.pk])

    response = client_a.post(reverse("exports:cancel", args=[job.pk]))
    assert response.status_code == 302 and response["Location"] == detail
    job.refresh_from_db()
    assert job.state == State.CANCELLED
    assert "导出已取消。" in client_a.get(detail).content.decode()

    client_a.post(reverse("exports:cancel", args=[job.pk]))
    assert "导出已经结束，无需取消。" in client_a.get(detail).content.decode()

    response = client_a.post(reverse("exports:retry", args=[job.pk]))
    assert response.status_code == 302 and response["Location"] == detail
    job.refresh_from_db()
    assert (job.state, job.attempt) == (State.QUEUED, 2)
    assert "已重新开始导出。" in client_a.get(detail).content.decode()

    client_a.post(reverse("exports:retry", args=[job.pk]))
    assert "只有失败或已取消的导出可以重试。" in client_a.get(detail).content.decode()
    job.refresh_from_db()
    assert job.attempt == 2


def test_the_actions_refuse_the_wrong_method(client_a, staff_a):
    job = finished_job(staff_a)
    assert client_a.get(reverse("exports:cancel", args=[job.pk])).status_code == 405
    assert client_a.get(reverse("exports:retry", args=[job.pk])).status_code == 405
    assert client_a.post(reverse("exports:download", args=[job.pk])).status_code == 405
    assert client_a.post(reverse("exports:status", args=[job.pk])).status_code == 405
    assert client_a.delete(LIST).status_code == 405


# --- downloads ----------------------------------------------------------------------------------


@pytest.mark.jobs
@pytest.mark.django_db(transaction=True)
def test_it_builds_and_downloads_each_format(client_finance, finance, dept_a, dept_b, settings):
    settings.EXPORT_CHUNK_SIZE = 2
    a = forms_of(dept_a, 3)
    forms_of(dept_b, 2, prefix="001")

    job, response = export_through_job(
        client_finance, year="2021", department=dept_a.pk, format="pdf"
    )
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    name = pdf.bulk_filename(2021, dept_a.name, "pdf")
    assert response["Content-Disposition"] == (
        f"attachment; filename=\"evaluations-2021.pdf\"; filename*=UTF-8''{quote(name, safe='')}"
    )
    data = b"".join(response.streaming_content)
    assert data.startswith(b"%PDF-") and len(data) == job.size
    reader = PdfReader(BytesIO(data))
    assert [item.title for item in reader.outline] == [
        f"2021 {e.project_name}" for e in sorted(a, key=lambda e: (e.project_name, e.pk))
    ]

    status = client_finance.get(reverse("exports:status", args=[job.pk])).json()
    assert (status["state"], status["percent"], status["finished"]) == ("done", 100, True)
    assert status["download_url"] == reverse("exports:download", args=[job.pk])
    assert status["progress_text"] == "已生成 3 / 共 3 张，已合并 3 张"

    job, response = export_through_job(client_finance, year="2021", format="zip")
    assert response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(BytesIO(b"".join(response.streaming_content))) as archive:
        assert len([n for n in archive.namelist() if n.endswith(".pdf")]) == 5
    status = client_finance.get(reverse("exports:status", args=[job.pk])).json()
    assert status["progress_text"] == "已生成 5 / 共 5 张，已打包 5 张"

    job, response = export_through_job(client_finance, year="2021", format="xlsx")
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    workbook = load_workbook(BytesIO(b"".join(response.streaming_content)), read_only=True)
    assert len(workbook.sheetnames) == 6  # one sheet per form, then the flat sheet
    status = client_finance.get(reverse("exports:status", args=[job.pk])).json()
    assert status["progress_text"] == "已生成 5 / 共 5 张"


def test_it_refuses_a_download_before_done_and_after_expiry(client_a, staff_a):
    running = ExportJob.objects.create(user=staff_a, format="pdf", year=2021, total=2)
    assert client_a.get(reverse("exports:download", args=[running.pk])).status_code == 404

    expired = finished_job(staff_a, expires_at=timezone.now() - timedelta(minutes=1))
    assert client_a.get(reverse("exports:download", args=[expired.pk])).status_code == 404
    html = client_a.get(reverse("exports:detail", args=[expired.pk])).content.decode()
    assert reverse("exports:download", args=[expired.pk]) not in html
    assert client_a.get(reverse("exports:status", args=[expired.pk])).json()["download_url"] == ""

    # The cleanup marks it expired and deletes the file: still 404.
    stored = expired.file
    jobs.cleanup_exports()
    expired.refresh_from_db()
    assert expired.state == State.EXPIRED and not default_storage.exists(stored)
    assert client_a.get(reverse("exports:download", args=[expired.pk])).status_code == 404


def test_it_downloads_the_stored_file(client_a, staff_a):
    job = finished_job(staff_a, content=b"%PDF-1.7 stored bytes")
    assert download(client_a, job) == b"%PDF-1.7 stored bytes"


@pytest.mark.parametrize("other", ["colleague_a", "staff_b", "finance", "admin_user", "head_a"])
def test_a_job_is_invisible_to_everyone_but_its_user(request, staff_a, other):
    job = finished_job(staff_a)
    client = client_for(request.getfixturevalue(other))
    for name in ("detail", "status", "download"):
        assert client.get(reverse(f"exports:{name}", args=[job.pk])).status_code == 404, name
    for name in ("cancel", "retry"):
        assert client.post(reverse(f"exports:{name}", args=[job.pk])).status_code == 404, name
    assert reverse("exports:detail", args=[job.pk]) not in client.get(LIST).content.decode()
    active = ExportJob.objects.create(user=staff_a, format="pdf", year=2021, total=1)
    assert client.post(reverse("exports:cancel", args=[active.pk])).status_code == 404
    active.refresh_from_db()
    job.refresh_from_db()
    assert (active.state, job.state, job.seen_at) == (State.QUEUED, State.DONE, None)


def test_anonymous_users_are_sent_to_login(staff_a):
    job = finished_job(staff_a)
    for url in (LIST, reverse("exports:detail", args=[job.pk])):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


# --- the old bulk URLs ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["pdf", "zip", "xlsx"])
def test_the_old_bulk_urls_redirect_to_the_prefilled_form(client_finance, dept_a, fmt):
    forms_of(dept_a, 1)
    url = reverse(f"evaluations:bulk_{fmt}")
    response = client_finance.get(f"{url}?year=2021&department={dept_a.pk}&status=draft")
    assert response.status_code == 302
    expected = urlencode({"year": 2021, "department": dept_a.pk, "status": "draft", "format": fmt})
    assert response["Location"] == f"{LIST}?{expected}"
    html = client_finance.get(response["Location"]).content.decode()
    assert f'value="{fmt}" checked' in html
    assert ExportJob.objects.count() == 0
    assert client_finance.get(f"{url}?year=2021").status_code == 302


def test_the_old_bulk_urls_keep_their_400_and_404(client_a, client_b, dept_a, dept_b):
    forms_of(dept_a, 1)
    url = reverse("evaluations:bulk_pdf")
    assert client_a.get(url).status_code == 400
    assert client_a.get(url + "?year=abc").status_code == 400
    assert client_a.get(url + "?year=2021&department=x").status_code == 400
    assert client_a.get(url + "?year=1999").status_code == 404
    assert client_b.get(url + f"?year=2021&department={dept_a.pk}").status_code == 404
    assert client_b.get(url + "?year=2021").status_code == 404  # nothing of theirs
    assert client_a.post(url + "?year=2021").status_code == 405


# --- the buttons that start exports -------------------------------------------------------------


def test_the_list_page_posts_its_filters_to_the_export(client_finance, dept_a):
    forms_of(dept_a, 1)
    html = client_finance.get(
        reverse("evaluations:list") + f"?year=2021&department={dept_a.pk}&status=draft"
    ).content.decode()
    form = re.search(
        r'<form method="post" action="/exports/"[^>]*bulk-export-form.*?</form>', html, re.S
    )
    assert form, "the list page has no export form"
    text = form.group(0)
    assert 'name="csrfmiddlewaretoken"' in text
    assert '<input type="hidden" name="year" value="2021">' in text
    assert f'<input type="hidden" name="department" value="{dept_a.pk}">' in text
    assert '<input type="hidden" name="status" value="draft">' in text
    assert re.findall(r'name="format" value="(\w+)"', text) == ["pdf", "zip", "xlsx"]
    assert reverse("evaluations:bulk_pdf") not in html


def test_the_dashboard_offers_the_years_forms_as_an_export(client_a, dept_a):
    forms_of(dept_a, 1)
    html = client_a.get(reverse("dashboard:index")).content.decode()
    assert reverse("dashboard:export") in html  # the summary workbook stays
    form = re.search(
        r'<form method="post" action="/exports/"[^>]*dashboard-forms-export.*?</form>', html, re.S
    )
    assert form
    assert '<input type="hidden" name="year" value="2021">' in form.group(0)
    assert re.findall(r'name="format" value="(\w+)"', form.group(0)) == ["pdf", "zip", "xlsx"]


def _dashboard_export_post(html: str, fmt: str, **chosen: str) -> dict[str, str]:
    """What the dashboard's forms export posts: its inputs, the selected state, a format."""
    form = lxml_html.fromstring(html).xpath('//form[contains(@class, "dashboard-forms-export")]')[0]
    data = {i.get("name"): i.get("value") for i in form.xpath(".//input[@type='hidden']")}
    select = form.xpath(".//select[@name='status']")[0]
    data["status"] = select.value or ""
    return {**data, "format": fmt, **chosen}


def test_the_dashboard_exports_forms_handed_in_unless_drafts_are_chosen(
    client_finance, finance, dept_a, dept_b
):
    draft, submitted = forms_of(dept_a, 2)
    approved, returned = forms_of(dept_b, 2, prefix="001")
    Evaluation.objects.filter(pk=submitted.pk).update(status=Status.SUBMITTED)
    Evaluation.objects.filter(pk=approved.pk).update(status=Status.APPROVED)
    Evaluation.objects.filter(pk=returned.pk).update(status=Status.RETURNED)
    html = client_finance.get(reverse("dashboard:index") + "?year=2021").content.decode()
    select = lxml_html.fromstring(html).xpath(
        '//form[contains(@class, "dashboard-forms-export")]//select[@name="status"]'
    )[0]
    assert select.value == "handed_in"
    assert [(o.get("value"), o.text) for o in select.xpath("./option")][:3] == [
        ("handed_in", "已提交和已通过"),
        ("", "全部状态（含草稿）"),
        ("draft", "草稿"),
    ]

    def exported(**chosen: str) -> list[int]:
        data = _dashboard_export_post(html, "pdf", **chosen)
        response = client_finance.post(LIST, data)
        assert response.status_code == 302
        return ExportJob.objects.filter(user=finance).latest("pk").evaluation_ids

    assert exported() == print_order([submitted, approved])
    assert exported(status="") == print_order([draft, submitted, approved, returned])
    assert exported(status="draft") == [draft.pk]
    job = ExportJob.objects.filter(user=finance).order_by("pk").first()
    page = client_finance.get(reverse("exports:detail", args=[job.pk])).content.decode()
    assert "2021年度 · 全部部门 · 已提交和已通过" in page


# --- the menu's badge ------------------------------------------------------------------------------


def test_the_menu_announces_finished_jobs_until_seen(client_a, staff_a, staff_b):
    done = finished_job(staff_a)
    failed = ExportJob.objects.create(
        user=staff_a, format="zip", year=2021, state=State.FAILED, message="x"
    )
    ExportJob.objects.create(user=staff_a, format="zip", year=2021, state=State.CANCELLED)
    ExportJob.objects.create(user=staff_a, format="zip", year=2021)  # still queued
    finished_job(staff_b)  # someone else's
    finished_job(staff_a, seen_at=timezone.now())  # seen already

    def badge() -> tuple[str, str] | None:
        html = client_a.get(reverse("evaluations:list")).content.decode()
        found = re.search(r'<a class="badge[^"]*export-news" href="([^"]+)"[^>]*>(\d+)</a>', html)
        return (found.group(1), found.group(2)) if found else None

    assert badge() == (reverse("exports:detail", args=[failed.pk]), "2")
    client_a.get(reverse("exports:detail", args=[failed.pk]))
    assert badge() == (reverse("exports:detail", args=[done.pk]), "1")
    download(client_a, done)  # downloading counts as seeing it
    assert badge() is None
    failed.refresh_from_db()
    assert failed.seen_at is not None


def test_the_menu_badge_costs_one_query_and_none_when_signed_out(
    staff_a, django_assert_num_queries
):
    from django.contrib.auth.models import AnonymousUser

    finished_job(staff_a)
    request = RequestFactory().get("/")
    request.user = staff_a
    with django_assert_num_queries(1):
        news = export_news(request)
    assert news["export_news"]["count"] == 1
    request.user = AnonymousUser()
    with django_assert_num_queries(0):
        assert export_news(request) == {"export_news": None}


def test_the_menu_links_to_the_exports_for_every_role_that_exports(
    client_a, client_finance, client_admin
):
    for client in (client_a, client_finance, client_admin):
        html = client.get(reverse("evaluations:list")).content.decode()
        assert f'<a class="nav-link" href="{LIST}">导出</a>' in html


def test_the_pages_carry_no_inline_code(client_a, staff_a):
    finished_job(staff_a)
    _assert_clean_page(LIST, client_a.get(LIST))
    job = ExportJob.objects.get()
    _assert_clean_page("detail", client_a.get(reverse("exports:detail", args=[job.pk])))


def test_the_pages_name_what_the_job_covers(client_a, client_finance, staff_a, finance, dept_a):
    own = finished_job(staff_a)
    html = client_a.get(reverse("exports:detail", args=[own.pk])).content.decode()
    assert "2021年度 · 本部门" in html  # staff export their own department only
    expires = timezone.localtime(own.expires_at).strftime("%Y-%m-%d %H:%M")
    assert f'id="export-expires">{expires}</dd>' in html
    one = finished_job(
        finance, department=dept_a, department_name=dept_a.name, status_filter="approved"
    )
    every = finished_job(finance)
    html = client_finance.get(reverse("exports:detail", args=[one.pk])).content.decode()
    assert f"2021年度 · {dept_a.name} · 已通过" in html
    html = client_finance.get(reverse("exports:detail", args=[every.pk])).content.decode()
    assert "2021年度 · 全部部门" in html
    html = client_finance.get(LIST).content.decode()
    assert f"2021年度 · {dept_a.name} · 已通过" in html and "2021年度 · 全部部门" in html
