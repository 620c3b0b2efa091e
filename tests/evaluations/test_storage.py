"""A full disk, and the files nothing refers to: uploads and exports say so in Chinese and
leave no partial file, a rendered PDF is served though the cache cannot keep it,
``cleanup_storage`` removes old leftovers only, ``/healthz?detail=1`` reports free space.

The full disk is a test double of the OS error (ENOSPC/EDQUOT raised by the storage's write
after part of the file is on disk); everything else is real.
"""

from __future__ import annotations

import errno
import os
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management import call_command
from django.db.models import F
from django.test import Client
from django.utils import timezone

from evaluations.models import Evaluation, Status
from evidence.models import EvidenceFile
from exports import cleanup, jobs, pdfcache
from exports import compose as pdf_module
from exports.models import ExportJob, State
from tests.conftest import PROJECT_DIR, client_for
from tests.evidence.test_evidence import messages_of, pdf_bytes, upload
from tests.export_helpers import pdf_pages, squash
from tests.factories import make_evaluation
from tests.storage_helpers import NoPathInMemoryStorage, stored_names
from tests.tasks_helpers import run_worker

FULL = "存储空间不足，请联系管理员"


def files_under(folder: str) -> list[str]:
    """The stored names under ``folder``, temporary files included."""
    return stored_names(folder)


def _full_disk_save(code: int):
    """A local-disk save that writes part of the file, then fails as a full disk does."""

    def save(self, name, content):
        path = Path(self.path(name))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(next(iter(content.chunks()))[:10])
        raise OSError(code, os.strerror(code), str(path))

    return save


def fill_disk(monkeypatch, code: int = errno.ENOSPC) -> None:
    """Storage saves write part of the file, then fail as a full disk does."""
    monkeypatch.setattr(FileSystemStorage, "_save", _full_disk_save(code))


def fill_cache_disk(monkeypatch) -> None:
    """The PDF cache's saves write part of the PDF, then fail: disk full."""
    original = FileSystemStorage._save
    full = _full_disk_save(errno.ENOSPC)

    def save(self, name, content):
        cached_pdf = name.startswith("pdf-cache/") and ".pdf" in name
        return (full if cached_pdf else original)(self, name, content)

    monkeypatch.setattr(FileSystemStorage, "_save", save)


@pytest.fixture
def draft(dept_a, staff_a) -> Evaluation:
    return make_evaluation(dept_a, staff_a, project_name="存储测试项目")


# --- uploads -----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
def test_an_upload_on_a_full_disk_says_so_and_leaves_no_file(client_a, draft, monkeypatch, code):
    fill_disk(monkeypatch, code)
    response = upload(client_a, draft, ("合同.pdf", pdf_bytes(), "施工合同"))
    assert response.status_code == 302
    assert messages_of(response) == [f"“合同.pdf”未上传：{FULL}。"]
    assert not EvidenceFile.objects.exists()
    assert files_under("evidence") == []


@pytest.mark.django_db
def test_an_upload_script_on_a_full_disk_keeps_the_page_and_the_other_files(
    client_a, draft, monkeypatch
):
    real = FileSystemStorage._save
    fill_disk(monkeypatch)
    monkeypatch.setattr(FileSystemStorage, "_save", _first_only(real, FileSystemStorage._save))
    response = client_a.post(
        f"/evaluations/{draft.pk}/evidence/upload/",
        {
            "back": "edit",
            "evidence-TOTAL_FORMS": "2",
            "evidence-INITIAL_FORMS": "0",
            "evidence-0-file": ContentFile(pdf_bytes(), name="a.pdf"),
            "evidence-1-file": ContentFile(pdf_bytes("b"), name="b.pdf"),
        },
        headers={"X-Requested-With": "XMLHttpRequest"},
    )
    # The script replaces only the 佐证材料 section: what was typed in the form stays.
    assert response.status_code == 200
    assert response.json()["messages"] == [
        {"level": "success", "text": "已上传“a.pdf”。"},
        {"level": "danger", "text": f"“b.pdf”未上传：{FULL}。"},
    ]
    kept = EvidenceFile.objects.get()
    assert kept.original_name == "a.pdf"
    assert files_under("evidence") == [kept.stored_name]


def _first_only(real, full):
    """A save that succeeds once, then finds the disk full."""
    calls = []

    def save(self, name, content):
        calls.append(name)
        return (real if len(calls) == 1 else full)(self, name, content)

    return save


# --- exports -----------------------------------------------------------------------------------


@pytest.fixture
def forms(dept_a, staff_a) -> list[Evaluation]:
    return [make_evaluation(dept_a, staff_a, project_name=f"存储导出{n}") for n in range(3)]


@pytest.mark.jobs
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("format", ["pdf", "zip", "xlsx"])
def test_an_export_on_a_full_disk_fails_saying_so_and_leaves_no_file(
    forms, finance, monkeypatch, format
):
    fill_disk(monkeypatch)
    job = jobs.export_create(user=finance, year=2021, format=format)
    run_worker()
    job.refresh_from_db()
    assert (job.state, job.message, job.file) == (State.FAILED, FULL, "")
    assert files_under("exports") == []


@pytest.mark.jobs
@pytest.mark.django_db(transaction=True)
def test_an_export_whose_cache_write_fails_says_the_disk_is_full_and_leaves_no_tmp(
    forms, finance, monkeypatch
):
    fill_cache_disk(monkeypatch)
    job = jobs.export_create(user=finance, year=2021, format="pdf")
    run_worker()
    job.refresh_from_db()
    assert (job.state, job.message) == (State.FAILED, FULL)
    assert files_under("pdf-cache") == [] and files_under("exports") == []


# --- the PDF of one form -----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_pdf_of_an_approved_form_is_served_when_the_cache_cannot_keep_it(
    draft, staff_a, monkeypatch, caplog
):
    Evaluation.objects.filter(pk=draft.pk).update(status=Status.APPROVED)
    fill_cache_disk(monkeypatch)
    response = client_for(staff_a).get(f"/evaluations/{draft.pk}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert "存储测试项目" in squash("".join(pdf_pages(response.content)))
    assert files_under("pdf-cache") == []  # no half-written .tmp
    assert f"the PDF of evaluation {draft.pk} was not cached" in caplog.text


# --- a form written during every render ------------------------------------------------------


@pytest.fixture
def keeps_changing(monkeypatch):
    """Every render of the PDF sees the form written meanwhile (an editor saving again)."""
    original = pdf_module.evaluation_pdf

    def render(evaluation):
        data = original(evaluation)
        Evaluation.objects.filter(pk=evaluation.pk).update(revision=F("revision") + 1)
        return data

    monkeypatch.setattr(pdf_module, "evaluation_pdf", render)
    return monkeypatch


@pytest.mark.jobs
@pytest.mark.django_db(transaction=True)
def test_an_export_of_a_form_that_keeps_changing_names_it_in_chinese(
    forms, finance, keeps_changing
):
    job = jobs.export_create(user=finance, year=2021, format="pdf")
    run_worker()
    job.refresh_from_db()
    assert job.state == State.FAILED
    assert job.message == f"自评表“{forms[0].project_name}”在生成期间被多次修改，请稍后重试。"


@pytest.mark.django_db
def test_a_download_of_a_form_that_keeps_changing_waits_for_the_worker(
    draft, staff_a, keeps_changing
):
    response = client_for(staff_a).get(f"/evaluations/{draft.pk}/pdf/")
    assert response.status_code == 202
    assert pdfcache.pdf_ready(draft) == {"ready": False, "queued": True}


# --- cleanup_storage ---------------------------------------------------------------------------


def put(name: str) -> str:
    """A file in the storage, written now."""
    return default_storage.save(name, ContentFile(b"x" * 100))


@pytest.mark.files
@pytest.mark.django_db
def test_cleanup_removes_old_orphans_and_keeps_fresh_ones_and_every_referenced_file(
    draft, staff_a, finance, monkeypatch
):
    # Object storage cannot back-date a file: the "old" files are written first, the fresh
    # ones two seconds later (S3 keeps whole seconds), and the cleanup's clock is set so
    # that a day ago falls between them.
    kept_evidence = put(f"evidence/{draft.pk}/referenced")
    EvidenceFile.objects.create(
        evaluation=draft,
        original_name="合同.pdf",
        size=100,
        kind="pdf",
        sha256="0" * 64,
        stored_name=kept_evidence,
        uploaded_by=staff_a,
    )
    kept_export = put(f"exports/{finance.pk}/1-done.pdf")
    ExportJob.objects.create(
        user=finance, year=2021, format="pdf", state=State.DONE, file=kept_export
    )
    kept_current = put(f"pdf-cache/{draft.pk}/current.pdf")
    orphans = {
        put(f"evidence/{draft.pk}/no-row"),
        put("evidence/999999/of-a-deleted-form"),
        put(f"exports/{finance.pk}/3-no-job.pdf"),
        put(f"pdf-cache/{draft.pk}/.old.deadbeef.tmp"),
        put(f"pdf-cache/{draft.pk}/.old.1234abcd.queued"),
        put("pdf-cache/999999/deleted-form.pdf"),
    }
    a_day_ago = timezone.now() + timedelta(seconds=1)
    time.sleep(2.1)
    kept = {
        kept_evidence,
        kept_export,
        kept_current,
        put(f"evidence/{draft.pk}/fresh-upload"),
        put(f"exports/{finance.pk}/2-being-written.pdf"),
        put(f"pdf-cache/{draft.pk}/.current.1234abcd.tmp"),
        put(f"pdf-cache/{draft.pk}/.current.queued"),
    }
    monkeypatch.setattr(
        cleanup, "timezone", SimpleNamespace(now=lambda: a_day_ago + timedelta(days=1))
    )

    def present() -> set[str]:
        return {*stored_names("evidence"), *stored_names("exports"), *stored_names("pdf-cache")}

    assert present() == kept | orphans
    out = StringIO()
    call_command("cleanup_storage", dry_run=True, stdout=out)
    assert present() == kept | orphans
    assert "无记录的佐证材料：将删除 2 个文件" in out.getvalue()
    assert "试运行" in out.getvalue()

    out = StringIO()
    call_command("cleanup_storage", stdout=out)
    assert present() == kept
    summary = out.getvalue()
    assert "无记录的佐证材料：已删除 2 个文件（200\xa0字节）" in summary
    assert "无导出任务的导出文件：已删除 1 个文件" in summary
    assert "PDF 缓存的临时文件和锁文件：已删除 2 个文件" in summary
    assert "已删除自评表的 PDF 缓存：已删除 1 个文件" in summary


def test_cleanup_storage_is_in_the_cron_list():
    text = (PROJECT_DIR / "docs" / "deployment.md").read_text(encoding="utf-8")
    assert "manage.py cleanup_storage" in text.split("```cron", 1)[1].split("```", 1)[0]


# --- /healthz ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_detail_reports_free_space_and_answers_503_when_low(settings):
    plain = Client().get("/healthz")
    assert (plain.status_code, plain.json()) == (200, {"status": "ok"})

    settings.STORAGE_MIN_FREE_BYTES = 1
    detail = Client().get("/healthz?detail=1")
    storage = detail.json()["storage"]
    assert detail.status_code == 200 and detail.json()["status"] == "ok"
    free = os.statvfs(settings.MEDIA_ROOT)
    assert abs(storage["free_bytes"] - free.f_bavail * free.f_frsize) < 512 * 1024**2
    assert storage["min_free_bytes"] == 1 and storage["low"] is False

    settings.STORAGE_MIN_FREE_BYTES = storage["free_bytes"] * 1000
    low = Client().get("/healthz?detail=1")
    assert low.status_code == 503
    assert low.json()["status"] == "error" and low.json()["storage"]["low"] is True
    # The load balancer's probe is not taken down by the disk.
    assert Client().get("/healthz").status_code == 200


@pytest.mark.django_db
def test_healthz_detail_on_object_storage_has_no_free_space_to_watch(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": f"{NoPathInMemoryStorage.__module__}.NoPathInMemoryStorage"},
    }
    settings.STORAGE_MIN_FREE_BYTES = 10**18
    detail = Client().get("/healthz?detail=1")
    assert detail.status_code == 200
    assert detail.json() == {
        "status": "ok",
        "storage": {"free_bytes": None, "min_free_bytes": 10**18, "low": False},
    }


# --- saves on this machine's disk appear whole ------------------------------------------------


class _Watched(ContentFile):
    """Content that records, while it is being written, whether its name is visible yet."""

    def __init__(self, name: str, seen: list[bool]) -> None:
        super().__init__(b"")
        self.target, self.seen = name, seen

    def chunks(self, chunk_size=None):
        for part in (b"%PDF-1.7\n", b"half ", b"of it\n%%EOF\n"):
            self.seen.append(default_storage.exists(self.target))
            yield part


def test_a_file_saved_on_disk_is_visible_under_its_name_only_once_whole():
    seen: list[bool] = []
    name = default_storage.save("pdf-cache/1/key.pdf", _Watched("pdf-cache/1/key.pdf", seen))
    assert name == "pdf-cache/1/key.pdf"
    assert seen == [False, False, False]
    with default_storage.open(name) as handle:
        assert handle.read() == b"%PDF-1.7\nhalf of it\n%%EOF\n"
    # A second file of the same name gets a name of its own; no temporary file stays.
    other = default_storage.save(name, ContentFile(b"other"))
    assert other != name and other.startswith("pdf-cache/1/key_")
    assert files_under("pdf-cache") == sorted([name, other])
