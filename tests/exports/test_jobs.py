"""The life of an export job: queued, running with progress, done, failed, cancelled, recovered.

Every test here runs on the configured task queue (tests/tasks_helpers.py): ``make test``
runs them on the database queue and again on Redis with an RQ worker. Tests that read the
database queue's own rows say so and are skipped on another backend. Parts of a job are run
by hand with ``jobs.run_chunk`` / ``jobs.run_assemble`` (what a task calls) to stop a job at
a chosen point; ``run_worker()`` then runs whatever the queue still holds.
"""

from __future__ import annotations

import hashlib
import math
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, timedelta
from io import BytesIO, StringIO
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from campaigns.models import Campaign, DueProject, DueTarget
from evaluations.models import Evaluation
from exports import compose as pdf_module
from exports import jobs, pdfcache
from exports.kinds import KINDS
from exports.models import ExportChunk, ExportJob, State
from tests.factories import make_evaluation
from tests.tasks_helpers import run_worker, uses_rq

pytestmark = [pytest.mark.jobs, pytest.mark.files, pytest.mark.django_db(transaction=True)]

NAMES = [f"导出测试项目{n:02d}" for n in range(1, 6)]


class Killed(BaseException):  # noqa: N818 - what a SIGKILL does to the task, as an exception
    """Stands for the worker being killed in the middle of a render."""


def db_queue_only() -> None:
    if settings.TASKS_BACKEND != "db":
        pytest.skip("reads the database queue's rows (django-tasks-db)")


@pytest.fixture
def forms(dept_a, staff_a) -> list[Evaluation]:
    """Five forms of one department, in print order (by project name)."""
    return [make_evaluation(dept_a, staff_a, project_name=name) for name in NAMES]


@pytest.fixture
def renders(monkeypatch) -> Counter:
    """Counts the forms rendered to PDF (by evaluation id); ``fail`` makes one raise."""
    counts: Counter = Counter()
    original = pdf_module.evaluation_pdf
    counts.fail = {}  # type: ignore[attr-defined]

    def spy(evaluation):
        error = counts.fail.get(evaluation.pk)  # type: ignore[attr-defined]
        if error is not None:
            raise error
        data = original(evaluation)
        counts[evaluation.pk] += 1
        return data

    monkeypatch.setattr(pdf_module, "evaluation_pdf", spy)
    return counts


def stored_files(folder: str) -> list[str]:
    try:
        _dirs, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return []
    return files


def export_files(job: ExportJob) -> list[str]:
    return stored_files(f"exports/{job.user_id}")


def file_bytes(job: ExportJob) -> bytes:
    with jobs.export_file_open(job) as handle:
        return handle.read()


def age() -> datetime:
    """A moment longer ago than the stale limit."""
    return timezone.now() - timedelta(seconds=settings.EXPORT_STALE_SECONDS + 5)


def chunks_of(job: ExportJob) -> list[ExportChunk]:
    return list(job.chunks.order_by("index"))


# --- queued, running, done ---------------------------------------------------------------------


def test_a_new_job_is_queued_with_its_chunks_planned(forms, finance, settings, renders):
    settings.EXPORT_CHUNK_SIZE = 2
    job = jobs.export_create(user=finance, year=2021, format="pdf")
    job.refresh_from_db()
    assert (job.state, job.total, job.done, job.assembled, job.percent) == (
        State.QUEUED,
        5,
        0,
        0,
        0,
    )
    assert job.evaluation_ids == [f.pk for f in forms]
    chunks = chunks_of(job)
    assert len(chunks) == math.ceil(5 / settings.EXPORT_CHUNK_SIZE) == 3
    assert [c.evaluation_ids for c in chunks] == [
        [forms[0].pk, forms[1].pk],
        [forms[2].pk, forms[3].pk],
        [forms[4].pk],
    ]
    # EXPORT_PARTS_IN_FLIGHT_PER_USER (2) chunks go into the task queue; the third waits its
    # turn and is queued when one of them ends.
    assert all(c.state == State.QUEUED for c in chunks)
    assert [bool(c.task_id and c.enqueued_at) for c in chunks] == [True, True, False]
    assert not renders and not stored_files("pdf-cache") and not export_files(job)
    assert job.filename == "2021年度_全部部门_绩效自评表.pdf"
    run_worker()  # leave an empty queue behind


def test_a_running_job_shows_its_progress(forms, finance, settings, renders):
    settings.EXPORT_CHUNK_SIZE = 2
    job = jobs.export_create(user=finance, year=2021, format="pdf")
    first = chunks_of(job)[0]

    jobs.run_chunk(first.pk, first.attempt)

    job.refresh_from_db()
    assert job.state == State.RUNNING and job.started_at is not None
    assert job.done == 2 and 0 < job.percent < 100
    assert job.percent == 36  # rendering counts for 90 %: 90 * 2 / 5
    assert not job.assembling and not job.file
    assert [c.state for c in chunks_of(job)] == [State.DONE, State.QUEUED, State.QUEUED]
    assert set(renders) == {forms[0].pk, forms[1].pk}
    # The task of the chunk run by hand finds it done and renders nothing again.
    run_worker()
    job.refresh_from_db()
    assert job.state == State.DONE and job.percent == 100
    assert renders == Counter({f.pk: 1 for f in forms})


def test_the_task_of_the_last_chunk_assembles_the_file(forms, finance, settings):
    """No wait in the queue between the last chunk and the assembling step."""
    settings.EXPORT_CHUNK_SIZE = 3
    job = jobs.export_create(user=finance, year=2021, format="zip")
    second, first = reversed(chunks_of(job))
    jobs.run_chunk(second.pk, second.attempt)
    job.refresh_from_db()
    assert (job.state, job.done, job.assembling) == (State.RUNNING, 2, False)
    jobs.run_chunk(first.pk, first.attempt)
    job.refresh_from_db()
    assert (job.state, job.done, job.assembled) == (State.DONE, 5, 5)
    assert default_storage.exists(job.file)
    run_worker()  # the chunks' own tasks find them done
    job.refresh_from_db()
    assert job.state == State.DONE and len(export_files(job)) == 1


def test_running_a_single_task_on_the_database_queue(forms, finance, settings):
    db_queue_only()
    settings.EXPORT_CHUNK_SIZE = 2
    job = jobs.export_create(user=finance, year=2021, format="pdf")
    call_command(
        "db_worker",
        batch=True,
        max_tasks=1,
        reload=False,
        startup_delay=False,
        verbosity=0,
    )
    job.refresh_from_db()
    assert job.state == State.RUNNING and job.done == 2 and 0 < job.percent < 100
    assert sorted(c.state for c in chunks_of(job)) == [State.DONE, State.QUEUED, State.QUEUED]
    run_worker()
    job.refresh_from_db()
    assert job.state == State.DONE


def test_a_done_pdf_job_holds_the_merged_file(forms, finance, settings):
    settings.EXPORT_CHUNK_SIZE = 2
    job = jobs.export_create(user=finance, year=2021, format="pdf")
    run_worker()
    job.refresh_from_db()
    assert (job.state, job.done, job.assembled, job.percent, job.message) == (
        State.DONE,
        5,
        5,
        100,
        "",
    )
    assert not job.assembling
    assert job.file.startswith(f"exports/{finance.pk}/") and job.file.endswith(".pdf")
    assert default_storage.exists(job.file)
    assert default_storage.size(job.file) == job.size == len(file_bytes(job))
    assert job.expires_at == job.finished_at + timedelta(days=settings.EXPORT_KEEP_DAYS)

    merged = PdfReader(BytesIO(file_bytes(job)))
    singles = [PdfReader(BytesIO(pdfcache.cached_pdf_bytes(form))) for form in forms]
    assert len(merged.pages) == sum(len(single.pages) for single in singles)
    assert [item.title for item in merged.outline] == [f"2021 {name}" for name in NAMES]
    # Page labels restart at 1 for each form.
    expected = [str(n) for single in singles for n in range(1, len(single.pages) + 1)]
    assert merged.page_labels == expected
    assert merged.metadata.title == "2021年度项目支出绩效自评表"


def test_a_done_zip_job_holds_one_pdf_per_form(forms, finance, settings):
    settings.EXPORT_CHUNK_SIZE = 2
    job = jobs.export_create(user=finance, year=2021, format="zip")
    run_worker()
    job.refresh_from_db()
    assert job.state == State.DONE and job.file.endswith(".zip")
    assert job.filename == "2021年度_全部部门_绩效自评表.zip"
    assert default_storage.size(job.file) == job.size
    with zipfile.ZipFile(BytesIO(file_bytes(job))) as archive:
        names = archive.namelist()
        assert names == [
            f"{n:03d}_2021年度_{name}_绩效自评表.pdf" for n, name in enumerate(NAMES, 1)
        ]
        for name, form in zip(names, forms, strict=True):
            data = archive.read(name)
            assert data == pdfcache.cached_pdf_bytes(form)
            assert len(PdfReader(BytesIO(data)).pages) >= 1


def test_a_done_xlsx_job_holds_the_workbook(forms, finance, settings, renders):
    job = jobs.export_create(user=finance, year=2021, format="xlsx")
    assert not job.chunks.exists()  # one assembling step, nothing rendered beforehand
    run_worker()
    job.refresh_from_db()
    assert (job.state, job.done, job.total, job.percent) == (State.DONE, 5, 5, 100)
    assert default_storage.size(job.file) == job.size
    workbook = load_workbook(BytesIO(file_bytes(job)), read_only=True)
    assert len(workbook.sheetnames) == 6  # one sheet per form, then the flat sheet
    assert not renders


# --- failed, retried -----------------------------------------------------------------------------


def test_a_failed_render_fails_the_job_with_a_message_and_a_retry_finishes_it(
    forms, finance, settings, renders
):
    settings.EXPORT_CHUNK_SIZE = 2
    renders.fail[forms[2].pk] = ValueError("字体文件缺失")
    job = jobs.export_create(user=finance, year=2021, format="pdf")
    run_worker()
    job.refresh_from_db()
    assert job.state == State.FAILED and job.finished_at is not None
    # The error's own text (which may name server paths) is for the log, not the user.
    assert "生成失败" in job.message and "重试" in job.message
    assert "ValueError" not in job.message and "字体文件缺失" not in job.message
    assert not job.file and not export_files(job)
    old_chunks = {c.pk: c.attempt for c in chunks_of(job)}

    # Fixed: the retry runs the job again.
    renders.fail.clear()
    jobs.export_retry(job=job)
    assert (job.state, job.attempt, job.done, job.message) == (State.QUEUED, 2, 0, "")
    # The tasks of the first run find a newer attempt and do nothing.
    for pk, attempt in old_chunks.items():
        jobs.run_chunk(pk, attempt)
    jobs.run_assemble(job.pk, 1, 0)
    job.refresh_from_db()
    assert (job.state, job.done, job.assembled, job.file) == (State.QUEUED, 0, 0, "")
    assert all(c.state == State.QUEUED and c.done == 0 for c in chunks_of(job))

    run_worker()
    job.refresh_from_db()
    assert (job.state, job.done, job.message) == (State.DONE, 5, "")
    assert default_storage.exists(job.file)
    # Every form rendered once: the retry took the first run's PDFs from the cache.
    assert renders == Counter({f.pk: 1 for f in forms})
    with pytest.raises(jobs.ExportError):
        jobs.export_retry(job=job)


def test_a_failure_while_assembling_fails_the_job(forms, finance, monkeypatch):
    def broken(forms, target, progress):
        raise OSError("磁盘已满")

    monkeypatch.setitem(KINDS, "xlsx", replace(KINDS["xlsx"], writer=broken))
    job = jobs.export_create(user=finance, year=2021, format="xlsx")
    run_worker()
    job.refresh_from_db()
    assert job.state == State.FAILED and "生成失败" in job.message
    assert "OSError" not in job.message and "磁盘已满" not in job.message  # in the log only
    assert not job.file and not export_files(job) and not job.assembling


# --- cancelled -------------------------------------------------------------------------------------


def test_a_job_cancelled_between_chunks_stops(forms, finance, settings, renders, monkeypatch):
    settings.EXPORT_CHUNK_SIZE = 2
    assembled = []
    monkeypatch.setattr(jobs, "run_assemble", lambda *args: assembled.append(args))
    job = jobs.export_create(user=finance, year=2021, format="pdf")
    first = chunks_of(job)[0]
    jobs.run_chunk(first.pk, first.attempt)

    assert jobs.export_cancel(job=job)
    assert job.state == State.CANCELLED and job.finished_at is not None
    assert not jobs.export_cancel(job=job)  # a second click changes nothing

    run_worker()
    job.refresh_from_db()
    assert (job.state, job.done, job.file) == (State.CANCELLED, 2, "")
    assert set(renders) == {forms[0].pk, forms[1].pk}  # the other chunks rendered nothing
    assert [c.state for c in chunks_of(job)][1:] == [State.QUEUED, State.QUEUED]
    assert not assembled and not export_files(job)


def test_a_job_cancelled_while_assembling_keeps_no_file(forms, finance, monkeypatch):
    monkeypatch.setattr(jobs, "_REPORT_EVERY", 1)
    original = jobs._forms

    def forms_then_cancel(job):
        for n, evaluation in enumerate(original(job)):
            if n == 2:
                jobs.export_cancel(job=ExportJob.objects.get(pk=job.pk))
            yield evaluation

    monkeypatch.setattr(jobs, "_forms", forms_then_cancel)
    job = jobs.export_create(user=finance, year=2021, format="zip")
    run_worker()
    job.refresh_from_db()
    assert (job.state, job.file, job.size) == (State.CANCELLED, "", 0)
    assert not export_files(job)


def test_a_cancelled_job_is_not_revived_by_its_assembling_step(forms, finance, monkeypatch):
    """A cancel landing just as the assembling step starts wins: the job stays cancelled."""
    job = jobs.export_create(user=finance, year=2021, format="xlsx")
    real_now = timezone.now
    calls = []

    class CancelOnFirstCall:
        @staticmethod
        def now():
            if not calls:  # the step's first clock reading follows its look at the job
                calls.append(True)
                ExportJob.objects.filter(pk=job.pk).update(state=State.CANCELLED)
            return real_now()

    monkeypatch.setattr(jobs, "timezone", CancelOnFirstCall)
    jobs.run_assemble(job.pk, job.attempt, job.assemble_try)
    monkeypatch.undo()
    job.refresh_from_db()
    assert calls and job.state == State.CANCELLED
    assert not job.file and not job.assembling and not export_files(job)
    run_worker()
    job.refresh_from_db()
    assert job.state == State.CANCELLED and not job.file


# --- a killed worker -------------------------------------------------------------------------------


def kill_chunk_at(renders: Counter, chunk: ExportChunk, evaluation_id: int) -> None:
    """Run the chunk as a worker would until it is killed at the given form."""
    renders.fail[evaluation_id] = Killed()
    with pytest.raises(Killed):
        jobs.run_chunk(chunk.pk, chunk.attempt)
    del renders.fail[evaluation_id]
    if settings.TASKS_BACKEND == "db":
        # The worker had claimed the task; killed, it never marked it finished.
        from django_tasks import TaskResultStatus
        from django_tasks_db.models import DBTaskResult

        DBTaskResult.objects.filter(id=chunk.task_id).update(status=TaskResultStatus.RUNNING)
    # Time passes: the heartbeat stops moving.
    ExportChunk.objects.filter(pk=chunk.pk).update(heartbeat_at=age())


def test_a_chunk_of_a_killed_worker_is_restarted_and_resumes(forms, finance, settings, renders):
    settings.EXPORT_CHUNK_SIZE = 3
    job = jobs.export_create(user=finance, year=2021, format="pdf")
    first = chunks_of(job)[0]
    kill_chunk_at(renders, first, forms[1].pk)
    job.refresh_from_db()
    first.refresh_from_db()
    assert (job.state, job.done, first.state, first.done) == (State.RUNNING, 1, State.RUNNING, 1)

    # Within the stale limit it is left alone (a worker may still be on it).
    ExportChunk.objects.filter(pk=first.pk).update(heartbeat_at=timezone.now())
    assert jobs.recover_stale(job=job) == 0
    ExportChunk.objects.filter(pk=first.pk).update(heartbeat_at=age())
    assert jobs.recover_stale(job=job) == 1
    first.refresh_from_db()
    assert (first.state, first.attempt, first.done) == (State.QUEUED, 2, 1)
    assert jobs.recover_stale(job=job) == 0  # restarted once, not on every poll
    run_worker()
    job.refresh_from_db()
    assert (job.state, job.done, job.total) == (State.DONE, 5, 5)
    # The form rendered before the kill was taken from the cache, not rendered again.
    assert renders == Counter({f.pk: 1 for f in forms})
    assert len(PdfReader(BytesIO(file_bytes(job))).outline) == 5


def test_the_killed_workers_task_is_marked_failed_in_the_database_queue(
    forms, finance, settings, renders
):
    db_queue_only()
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    settings.EXPORT_CHUNK_SIZE = 3
    job = jobs.export_create(user=finance, year=2021, format="pdf")
    first = chunks_of(job)[0]
    kill_chunk_at(renders, first, forms[0].pk)
    assert DBTaskResult.objects.get(id=first.task_id).status == TaskResultStatus.RUNNING
    assert jobs.recover_stale(job=job) == 1
    assert DBTaskResult.objects.get(id=first.task_id).status == TaskResultStatus.FAILED
    run_worker()
    job.refresh_from_db()
    assert job.state == State.DONE


def test_a_chunk_killed_every_time_fails_the_job_after_the_last_attempt(
    forms, finance, settings, renders
):
    settings.EXPORT_CHUNK_SIZE = 3
    settings.EXPORT_MAX_ATTEMPTS = 3
    job = jobs.export_create(user=finance, year=2021, format="pdf")
    for attempt in (1, 2, 3):
        chunk = chunks_of(job)[0]
        assert chunk.attempt == attempt
        kill_chunk_at(renders, chunk, forms[1].pk)
        jobs.recover_stale(job=job)
        job.refresh_from_db()
        expected = State.RUNNING if attempt < 3 else State.FAILED
        assert job.state == expected
    assert "多次中断" in job.message and "已尝试 3 次" in job.message
    assert job.finished_at is not None and not job.file
    run_worker()  # the queued tasks of the failed job do nothing
    job.refresh_from_db()
    assert job.state == State.FAILED and not export_files(job)


def test_a_retried_job_gets_every_attempt_again(forms, finance, settings, renders):
    """The attempts count within one run of the job: a user's retry starts them again."""
    settings.EXPORT_CHUNK_SIZE = 5
    settings.EXPORT_MAX_ATTEMPTS = 2
    job = jobs.export_create(user=finance, year=2021, format="pdf")
    for _attempt in (1, 2):
        kill_chunk_at(renders, chunks_of(job)[0], forms[1].pk)
        jobs.recover_stale(job=job)
    job.refresh_from_db()
    assert job.state == State.FAILED
    jobs.export_retry(job=job)
    kill_chunk_at(renders, chunks_of(job)[0], forms[1].pk)
    assert jobs.recover_stale(job=job) == 1  # one kill of this run: restarted, not failed
    job.refresh_from_db()
    assert job.state == State.RUNNING
    run_worker()
    job.refresh_from_db()
    assert job.state == State.DONE


def test_a_queued_chunk_whose_task_was_lost_is_enqueued_again(forms, finance, settings):
    settings.EXPORT_CHUNK_SIZE = 5
    job = jobs.export_create(user=finance, year=2021, format="pdf")
    chunk = chunks_of(job)[0]
    # Waiting for a free worker, however long: left alone.
    ExportChunk.objects.filter(pk=chunk.pk).update(enqueued_at=age())
    assert jobs.recover_stale(job=job) == 0
    # Enqueueing failed (the queue was down): no task id. Enqueued again.
    ExportChunk.objects.filter(pk=chunk.pk).update(task_id="")
    assert jobs.recover_stale(job=job) == 1
    chunk.refresh_from_db()
    assert chunk.attempt == 2 and chunk.task_id
    run_worker()
    job.refresh_from_db()
    assert job.state == State.DONE


def test_a_killed_assembling_step_is_restarted(forms, finance, settings, renders, monkeypatch):
    settings.EXPORT_CHUNK_SIZE = 5
    job = jobs.export_create(user=finance, year=2021, format="pdf")
    chunk = chunks_of(job)[0]

    def killed(forms, target, progress):
        next(forms)
        raise Killed

    monkeypatch.setitem(KINDS, "pdf", replace(KINDS["pdf"], writer=killed))
    with pytest.raises(Killed):
        jobs.run_chunk(chunk.pk, chunk.attempt)  # the last chunk goes on to assemble
    monkeypatch.undo()
    job.refresh_from_db()
    assert (job.state, job.assembling, job.done) == (State.RUNNING, True, 5)
    # Within the stale limit the step is left alone.
    assert jobs.recover_stale(job=job) == 0
    ExportJob.objects.filter(pk=job.pk).update(heartbeat_at=age())

    assert jobs.recover_stale(job=job) == 1
    job.refresh_from_db()
    assert (job.state, job.assembling, job.assemble_try) == (State.RUNNING, True, 1)
    run_worker()
    job.refresh_from_db()
    assert (job.state, job.assembled, job.assembling) == (State.DONE, 5, False)
    assert len(export_files(job)) == 1
    assert renders == Counter({f.pk: 1 for f in forms})


def test_an_assembling_step_killed_every_time_fails_the_job(forms, finance, settings):
    settings.EXPORT_MAX_ATTEMPTS = 2
    job = jobs.export_create(user=finance, year=2021, format="xlsx")
    for _try in (0, 1):
        # As a killed worker leaves it: the step's task taken from the queue (no longer
        # waiting there), the job assembling, its heartbeat old.
        ExportJob.objects.filter(pk=job.pk).update(
            state=State.RUNNING, assembling=True, heartbeat_at=age(), assemble_task_id=""
        )
        jobs.recover_stale(job=job)
    job.refresh_from_db()
    assert job.state == State.FAILED and "多次中断" in job.message
    run_worker()
    job.refresh_from_db()
    assert job.state == State.FAILED and not job.file


def test_an_xlsx_step_restarted_counts_its_forms_once(forms, finance, settings, monkeypatch):
    job = jobs.export_create(user=finance, year=2021, format="xlsx")
    original = jobs._forms

    def killed_after_three(job):
        for n, evaluation in enumerate(original(job)):
            if n == 3:
                raise Killed
            yield evaluation

    monkeypatch.setattr(jobs, "_forms", killed_after_three)
    with pytest.raises(Killed):
        jobs.run_assemble(job.pk, job.attempt, job.assemble_try)
    monkeypatch.undo()
    # The step's task was taken from the queue by the worker that was killed.
    ExportJob.objects.filter(pk=job.pk).update(heartbeat_at=age(), assemble_task_id="")
    assert jobs.recover_stale(job=job) == 1
    run_worker()
    job.refresh_from_db()
    assert (job.state, job.done, job.total) == (State.DONE, 5, 5)


# --- a really killed worker (PostgreSQL) ----------------------------------------------------------


def test_a_worker_process_killed_mid_job_is_recovered(forms, finance, settings, renders):
    """SIGKILL a real ``db_worker`` in the middle of a chunk; the job still finishes."""
    if settings.TASKS_BACKEND != "db":
        pytest.skip("starts a db_worker process")
    if connection.vendor != "postgresql":
        pytest.skip("a second process cannot see SQLite's in-memory test database")
    settings.EXPORT_CHUNK_SIZE = 5
    job = jobs.export_create(user=finance, year=2021, format="pdf")
    chunk = chunks_of(job)[0]

    db = connection.settings_dict
    login = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else "")
    url = f"postgres://{login}@{db['HOST']}:{db['PORT']}/{quote(db['NAME'])}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "TASKS_BACKEND": "db",
    }
    manage = settings.BASE_DIR / "manage.py"
    worker = subprocess.Popen(
        [sys.executable, "-c", _SLOW_WORKER, str(manage), str(settings.MEDIA_ROOT)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            chunk.refresh_from_db()
            if chunk.state == State.RUNNING and chunk.done >= 1:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the worker never started the chunk")
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    chunk.refresh_from_db()
    assert chunk.state == State.RUNNING and 1 <= chunk.done < 5
    killed_at = chunk.done
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    assert DBTaskResult.objects.get(id=chunk.task_id).status == TaskResultStatus.RUNNING

    settings.EXPORT_STALE_SECONDS = 0
    time.sleep(0.05)
    assert jobs.recover_stale(job=job) == 1
    assert DBTaskResult.objects.get(id=chunk.task_id).status == TaskResultStatus.FAILED
    run_worker()
    job.refresh_from_db()
    assert (job.state, job.done) == (State.DONE, 5)
    # The forms the killed worker finished came from the cache.
    assert sum(renders.values()) <= 5 - killed_at


# The worker process: the test's media folder, renders slowed down to a second each, then
# ``manage.py db_worker``.
_SLOW_WORKER = """
import os, sys, time
media_root = sys.argv[2]
sys.argv = [sys.argv[1], "db_worker", "--no-startup-delay", "--interval", "0.1"]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
django.setup()
from django.conf import settings
settings.MEDIA_ROOT = media_root
import exports.compose as p
_original = p.evaluation_pdf
def _slow(evaluation):
    time.sleep(1)
    return _original(evaluation)
p.evaluation_pdf = _slow
from django.core.management import execute_from_command_line
execute_from_command_line(sys.argv)
"""


# --- forms gone, expiry -------------------------------------------------------------------------


def test_a_form_deleted_or_hidden_after_creation_is_skipped(
    forms, staff_a, dept_b, settings, renders
):
    settings.EXPORT_CHUNK_SIZE = 2
    job = jobs.export_create(user=staff_a, year=2021, format="pdf")
    assert job.total == 5
    from evaluations.models import EvaluationEvent, EvaluationVersion

    # Forms are never deleted by the application; the database still may (an administrator).
    EvaluationEvent.objects.filter(evaluation=forms[1]).delete()
    EvaluationVersion.objects.filter(evaluation=forms[1]).delete()
    Evaluation.objects.filter(pk=forms[1].pk).delete()
    Evaluation.objects.filter(pk=forms[3].pk).update(department=dept_b)  # no longer visible
    run_worker()
    job.refresh_from_db()
    assert job.state == State.DONE
    assert job.message == "2 张自评表在导出期间被删除或已无权查看，未包含在文件中。"
    titles = [item.title for item in PdfReader(BytesIO(file_bytes(job))).outline]
    assert titles == [f"2021 {NAMES[n]}" for n in (0, 2, 4)]


def test_a_job_whose_forms_are_all_gone_fails_with_a_message(forms, staff_a, dept_b):
    job = jobs.export_create(user=staff_a, year=2021, format="pdf")
    Evaluation.objects.filter(pk__in=[f.pk for f in forms]).update(department=dept_b)
    run_worker()
    job.refresh_from_db()
    assert job.state == State.FAILED and not job.file and not export_files(job)
    assert "被删除或已无权查看" in job.message


def done_job(user, *, expires_in: timedelta) -> ExportJob:
    """A finished export with its file in storage, expiring after ``expires_in``."""
    name = default_storage.save(f"exports/{user.pk}/old.pdf", ContentFile(b"%PDF-1.7 test"))
    now = timezone.now()
    return ExportJob.objects.create(
        user=user,
        format="pdf",
        year=2021,
        state=State.DONE,
        total=1,
        done=1,
        file=name,
        filename="2021.pdf",
        size=13,
        finished_at=now,
        expires_at=now + expires_in,
    )


def test_cleanup_deletes_expired_files_and_fails_jobs_nobody_ran(finance):
    old = done_job(finance, expires_in=-timedelta(minutes=1))
    fresh = done_job(finance, expires_in=timedelta(days=6))
    waiting = ExportJob.objects.create(user=finance, format="pdf", year=2021, total=1)
    ExportJob.objects.filter(pk=waiting.pk).update(
        created_at=timezone.now() - timedelta(days=1, minutes=1)
    )
    recent = ExportJob.objects.create(user=finance, format="pdf", year=2021, total=1)
    old_file = old.file

    assert jobs.cleanup_exports() == {
        "expired": 1,
        "abandoned": 1,
        "restarted": 0,
        "orphaned": 0,
        "renders_queued": 0,
    }

    for job in (old, fresh, waiting, recent):
        job.refresh_from_db()
    assert (old.state, old.file) == (State.EXPIRED, "")
    assert not default_storage.exists(old_file)
    assert fresh.state == State.DONE and default_storage.exists(fresh.file)
    assert waiting.state == State.FAILED and waiting.finished_at is not None
    assert "一天内没有后台进程处理此导出" in waiting.message
    assert recent.state == State.QUEUED
    # Nothing left to do the second time.
    assert jobs.cleanup_exports() == {
        "expired": 0,
        "abandoned": 0,
        "restarted": 0,
        "orphaned": 0,
        "renders_queued": 0,
    }


def test_the_cleanup_command_prints_its_counts(finance):
    done_job(finance, expires_in=-timedelta(days=1))
    done_job(finance, expires_in=-timedelta(seconds=1))
    out = StringIO()
    call_command("cleanup_exports", stdout=out)
    assert out.getvalue().strip() == (
        "已过期 2 个，已停止 0 个，已重新启动 0 个，失去进程的后台任务 0 个已标为失败，"
        "补排已通过自评表的 PDF 生成 0 个。"
    )


def test_the_cleanup_task_runs_on_the_queue(finance):
    from exports import tasks

    old = done_job(finance, expires_in=-timedelta(days=1))
    tasks.cleanup_exports.enqueue()
    run_worker()
    old.refresh_from_db()
    assert old.state == State.EXPIRED and not default_storage.exists(
        f"exports/{finance.pk}/old.pdf"
    )


def test_cleanup_recovers_what_a_killed_worker_left(forms, finance, settings, renders):
    settings.EXPORT_CHUNK_SIZE = 5
    job = jobs.export_create(user=finance, year=2021, format="pdf")
    kill_chunk_at(renders, chunks_of(job)[0], forms[2].pk)
    assert jobs.cleanup_exports()["restarted"] == 1
    run_worker()
    job.refresh_from_db()
    assert job.state == State.DONE


def test_an_assembling_step_waiting_in_the_queue_is_not_restarted(forms, finance, settings):
    """A step queued behind other work for longer than the stale limit is not "lost"."""
    if settings.TASKS_BACKEND == "immediate":
        pytest.skip("the immediate backend has no queue")
    job = jobs.export_create(user=finance, year=2021, format="xlsx")
    job.refresh_from_db()
    assert job.assemble_task_id  # queued, not yet taken by a worker
    ExportJob.objects.filter(pk=job.pk).update(
        state=State.RUNNING, assembling=True, heartbeat_at=age()
    )
    assert jobs.recover_stale(job=job) == 0
    job.refresh_from_db()
    assert (job.assemble_try, job.state) == (0, State.RUNNING)
    run_worker()
    job.refresh_from_db()
    assert (job.state, job.done) == (State.DONE, job.total)


# --- bounds per user: active jobs, identical requests, bytes kept, fair turns -----------------


def queued_tasks() -> int:
    """How many tasks the configured queue holds (run or not)."""
    if uses_rq():
        import django_rq

        return len(django_rq.get_queue("default").get_job_ids())
    if settings.TASKS_BACKEND == "db":
        from django_tasks_db.models import DBTaskResult

        return DBTaskResult.objects.count()
    return 0


def test_an_export_beyond_the_users_bound_of_active_exports_is_refused_and_nothing_queued(
    forms, finance, staff_a, settings
):
    settings.EXPORT_MAX_ACTIVE_PER_USER = 2
    jobs.export_create(user=finance, year=2021, format="pdf")
    cancelled = jobs.export_create(user=finance, year=2021, format="pdf", status="draft")
    jobs.export_cancel(job=cancelled)
    jobs.export_create(user=finance, year=2021, format="zip")
    tasks_before = queued_tasks()

    with pytest.raises(jobs.ExportError) as refused:
        jobs.export_create(user=finance, year=2021, format="xlsx")

    assert str(refused.value) == (
        "您已有 2 个导出正在排队或生成（每人同时最多 2 个）。"
        "请等其中一个完成，或在“我的导出”中取消一个，再开始新的导出。"
    )
    assert ExportJob.objects.filter(user=finance).count() == 3
    assert queued_tasks() == tasks_before
    # Nor does a retry of the cancelled one start a third.
    with pytest.raises(jobs.ExportError, match="每人同时最多 2 个"):
        jobs.export_retry(job=cancelled)
    cancelled.refresh_from_db()
    assert cancelled.state == State.CANCELLED and queued_tasks() == tasks_before
    # The bound is each user's own: another user still exports.
    other = jobs.export_create(user=staff_a, year=2021, format="xlsx")
    assert other.state == State.QUEUED and not other.reused
    # Once the user's exports have ended, they may export again.
    run_worker()
    again = jobs.export_create(user=finance, year=2021, format="xlsx")
    assert again.state == State.QUEUED and ExportJob.objects.filter(user=finance).count() == 4
    run_worker()


def test_an_identical_request_is_answered_with_the_running_or_just_finished_job(
    forms, finance, settings
):
    settings.EXPORT_CHUNK_SIZE = 2
    first = jobs.export_create(user=finance, year=2021, format="zip")
    tasks_before = queued_tasks()

    running = jobs.export_create(user=finance, year=2021, format="zip")
    assert ExportJob.objects.count() == 1 and queued_tasks() == tasks_before
    assert (running.pk, running.reused, running.state) == (first.pk, True, State.QUEUED)
    # Another format or filter is another request.
    other = jobs.export_create(user=finance, year=2021, format="zip", status="draft")
    assert other.pk != first.pk and not other.reused

    run_worker()
    finished = jobs.export_create(user=finance, year=2021, format="zip")
    assert (finished.pk, finished.reused, finished.state) == (first.pk, True, State.DONE)
    assert ExportJob.objects.count() == 2

    # A form changed since: the file would differ, a new job makes it.
    Evaluation.objects.filter(pk=forms[2].pk).update(revision=F("revision") + 1)
    changed = jobs.export_create(user=finance, year=2021, format="zip")
    assert changed.pk != first.pk and not changed.reused
    run_worker()
    # Unchanged but finished longer ago than EXPORT_REUSE_SECONDS: made again.
    ExportJob.objects.filter(pk=changed.pk).update(
        finished_at=timezone.now() - timedelta(seconds=settings.EXPORT_REUSE_SECONDS + 1)
    )
    later = jobs.export_create(user=finance, year=2021, format="zip")
    assert later.pk not in (first.pk, changed.pk) and not later.reused
    run_worker()


def test_files_over_the_users_byte_bound_expire_oldest_first_keeping_the_newest(
    forms, finance, staff_a, settings
):
    oldest = done_job(finance, expires_in=timedelta(days=6))
    older = done_job(finance, expires_in=timedelta(days=6))
    someone_else = done_job(staff_a, expires_in=timedelta(days=6))
    now = timezone.now()
    ExportJob.objects.filter(pk=oldest.pk).update(finished_at=now - timedelta(hours=2))
    ExportJob.objects.filter(pk=older.pk).update(finished_at=now - timedelta(hours=1))
    files = {job.pk: job.file for job in (oldest, older)}
    # Room for the two older files (13 bytes each) but not for a third.
    settings.EXPORT_MAX_BYTES_PER_USER = 26

    job = jobs.export_create(user=finance, year=2021, format="pdf")
    run_worker()

    for each in (job, oldest, older, someone_else):
        each.refresh_from_db()
    assert job.state == State.DONE and job.size > 26 and default_storage.exists(job.file)
    # The newest is kept even alone over the bound; the oldest go first.
    assert (oldest.state, oldest.file) == (State.EXPIRED, "")
    assert (older.state, older.file) == (State.EXPIRED, "")
    assert not any(default_storage.exists(name) for name in files.values())
    assert oldest.message == (
        "您保留的导出文件合计超过 26\xa0字节，最早完成的文件已自动删除，以便保留较新的导出。"
        "需要时请重新导出。"
    )
    assert someone_else.state == State.DONE  # another user's files are theirs


def test_cleanup_expires_the_oldest_files_over_a_lowered_byte_bound(finance, settings):
    made = [done_job(finance, expires_in=timedelta(days=6)) for _n in range(3)]
    now = timezone.now()
    for age_hours, job in zip((3, 2, 1), made, strict=True):
        ExportJob.objects.filter(pk=job.pk).update(finished_at=now - timedelta(hours=age_hours))
    settings.EXPORT_MAX_BYTES_PER_USER = 30  # two files of 13 bytes fit, three do not

    assert jobs.cleanup_exports()["expired"] == 1

    states = [ExportJob.objects.get(pk=job.pk).state for job in made]
    assert states == [State.EXPIRED, State.DONE, State.DONE]
    assert not default_storage.exists(made[0].file) and default_storage.exists(made[2].file)


def test_another_users_export_runs_before_the_remaining_parts_of_a_busy_user(
    forms, finance, staff_a, settings, monkeypatch
):
    """A user's chunks enter the queue a bounded number at a time, whichever backend."""
    settings.EXPORT_CHUNK_SIZE = 1
    settings.EXPORT_PARTS_IN_FLIGHT_PER_USER = 1
    busy = [jobs.export_create(user=finance, year=2021, format=fmt) for fmt in ("pdf", "zip")]
    small = jobs.export_create(user=staff_a, year=2021, format="pdf", status="draft")
    processed: list[int] = []  # the user of each chunk, in the order the worker ran them
    original = jobs.run_chunk

    def spy(chunk_id: int, attempt: int) -> None:
        chunk = ExportChunk.objects.select_related("job").get(pk=chunk_id)
        if chunk.state != State.DONE and chunk.attempt == attempt:
            processed.append(chunk.job.user_id)
        original(chunk_id, attempt)

    monkeypatch.setattr(jobs, "run_chunk", spy)
    run_worker()

    assert len(processed) == 15
    # Only the busy user's one part in flight was ahead of the other user's first part.
    assert processed.index(staff_a.pk) == 1
    assert processed[:4] == [finance.pk, staff_a.pk, finance.pk, staff_a.pk]
    for job in (*busy, small):
        job.refresh_from_db()
        assert job.state == State.DONE, job.message


# --- evidence in a ZIP ---------------------------------------------------------------------------


def add_evidence(evaluation, name: str, data: bytes, row: str = ""):
    from evidence.models import EvidenceFile

    stored = default_storage.save(f"evidence/{evaluation.pk}/file", ContentFile(data))
    return EvidenceFile.objects.create(
        evaluation=evaluation,
        row=row,
        original_name=name,
        size=len(data),
        kind="pdf",
        sha256=hashlib.sha256(data).hexdigest(),
        stored_name=stored,
    )


def test_a_zip_stores_each_evidence_file_once_and_lists_where_each_forms_files_are(forms, finance):
    contract = b"%PDF-1.7 contract " + bytes(range(256)) * 40
    report = b"%PDF-1.7 report " + bytes(range(256)) * 30
    row = forms[0].indicators.order_by("position")[0].key
    add_evidence(forms[0], "合同.pdf", contract)
    add_evidence(forms[0], "合同副本.pdf", contract, row=row)  # repeated within a form
    add_evidence(forms[1], "合同.pdf", contract)  # shared with another form
    add_evidence(forms[1], "验收报告.pdf", report)

    job = jobs.export_create(user=finance, year=2021, format="zip")
    run_worker()
    job.refresh_from_db()
    assert job.state == State.DONE

    with zipfile.ZipFile(BytesIO(file_bytes(job))) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    stored = list(contents.values())
    assert stored.count(contract) == 1 and stored.count(report) == 1
    names = list(contents)
    index = contents["佐证材料清单.txt"].decode("utf-8-sig")
    first = f"001_2021年度_{NAMES[0]}_绩效自评表"
    second = f"002_2021年度_{NAMES[1]}_绩效自评表"
    assert f"{first}_佐证材料/01_合同.pdf" in names
    assert f"{second}_佐证材料/02_验收报告.pdf" in names
    assert not [name for name in names if name.endswith("合同副本.pdf")]
    # Each form's files, and the path the repeated ones are stored under.
    same = "（与前面的文件相同，只存一份）"
    assert index.split("\r\n") == [
        "各自评表的佐证材料及其在压缩包中的位置（相同的文件只存一份）：",
        "",
        f"{first}.pdf",
        f"  01 合同.pdf（整张表） → {first}_佐证材料/01_合同.pdf",
        f"  02 合同副本.pdf（第1行指标：改造农村住房户数） → {first}_佐证材料/01_合同.pdf{same}",
        "",
        f"{second}.pdf",
        f"  01 合同.pdf（整张表） → {first}_佐证材料/01_合同.pdf{same}",
        f"  02 验收报告.pdf（整张表） → {second}_佐证材料/02_验收报告.pdf",
        "",
    ]


def test_a_changed_approved_target_is_a_new_request_not_the_finished_job(forms, finance):
    campaign = Campaign.objects.create(year=2021, title="2021年度自评", deadline=date(2022, 3, 31))
    project = DueProject.objects.create(
        campaign=campaign, department=forms[0].department, project_name=forms[0].project_name
    )
    target = DueTarget.objects.create(
        project=project,
        position=1,
        level1="产出指标",
        level2="数量指标",
        name="户数",
        target="=10户",
    )
    Evaluation.objects.filter(pk=forms[0].pk).update(due_project=project)
    first = jobs.export_create(user=finance, year=2021, format="zip")
    run_worker()
    assert jobs.export_create(user=finance, year=2021, format="zip").pk == first.pk
    # The due list is imported again with another approved value: the 批复 notes change.
    DueTarget.objects.filter(pk=target.pk).update(target="=12户")
    again = jobs.export_create(user=finance, year=2021, format="zip")
    assert again.pk != first.pk and not again.reused
    run_worker()
