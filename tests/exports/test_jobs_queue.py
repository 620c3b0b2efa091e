"""Export jobs through the configured task queue, run by a real worker (tests/tasks_helpers.py).

``make test`` runs these tests (marked ``jobs``) on the database queue with SQLite and with
PostgreSQL, then once more on Redis with an RQ worker (``make test-rq``). The second test
checks that a run meant for RQ really goes through Redis, so that a settings slip cannot turn
the RQ run into a second database run.
"""

from __future__ import annotations

import os
import zipfile
from io import BytesIO

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from evaluations.models import Status
from exports import jobs
from exports.models import State
from tests.export_helpers import sample_forms, store
from tests.tasks_helpers import run_worker

pytestmark = [pytest.mark.jobs, pytest.mark.django_db(transaction=True)]

BACKENDS = {
    "db": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}


def _file_bytes(job) -> bytes:
    with jobs.export_file_open(job) as handle:
        return handle.read()


def test_every_format_is_built_by_the_worker(finance, settings):
    settings.EXPORT_CHUNK_SIZE = 3
    forms = [form for _prefix, _index, form in sample_forms()[:7]]
    for form in forms:
        store(form, status=Status.APPROVED)
    created = {
        fmt: jobs.export_create(user=finance, year=2021, format=fmt)
        for fmt in ("pdf", "zip", "xlsx")
    }
    for job in created.values():
        job.refresh_from_db()
        assert job.state == State.QUEUED
    assert created["pdf"].chunks.count() == 3  # 7 forms, 3 per chunk

    run_worker()

    for job in created.values():
        job.refresh_from_db()
        assert (job.state, job.total, job.message) == (State.DONE, 7, "")
        assert job.file and job.size == len(_file_bytes(job))
    pdf = PdfReader(BytesIO(_file_bytes(created["pdf"])))
    assert len(pdf.outline) == 7
    with zipfile.ZipFile(BytesIO(_file_bytes(created["zip"]))) as archive:
        pdfs = [name for name in archive.namelist() if name.endswith(".pdf")]
    assert len(pdfs) == 7
    workbook = load_workbook(BytesIO(_file_bytes(created["xlsx"])), read_only=True)
    assert len(workbook.sheetnames) == 8  # one sheet per form, then the flat sheet


def test_tasks_go_through_the_configured_queue(finance, settings):
    """TASKS_BACKEND picks the queue: the tasks are found there, and its worker runs them."""
    from django_tasks import TaskResultStatus, default_task_backend

    wanted = os.environ.get("TASKS_BACKEND", "db")
    assert settings.TASKS["default"]["BACKEND"] == BACKENDS[wanted]
    for _prefix, _index, form in sample_forms()[:2]:
        store(form, status=Status.APPROVED)
    job = jobs.export_create(user=finance, year=2021, format="pdf")
    task_ids = list(job.chunks.values_list("task_id", flat=True))
    assert task_ids and all(task_ids)

    if wanted == "rq":
        import django_rq

        queue = django_rq.get_queue("default")
        assert set(task_ids) <= set(queue.get_job_ids())
        # Nothing went to the database queue.
        from django_tasks_db.models import DBTaskResult

        assert not DBTaskResult.objects.exists()
    elif wanted == "db":
        from django_tasks_db.models import DBTaskResult

        # The database backend's ids are UUIDs; the chunk keeps their text.
        queued = {str(pk) for pk in DBTaskResult.objects.values_list("id", flat=True)}
        assert set(task_ids) <= queued
    for task_id in task_ids:
        assert default_task_backend.get_result(task_id).status == TaskResultStatus.READY

    run_worker()

    for task_id in task_ids:
        result = default_task_backend.get_result(task_id)
        assert result.status == TaskResultStatus.SUCCESSFUL
        assert result.worker_ids
    if wanted == "rq":
        assert not django_rq.get_queue("default").get_job_ids()
    job.refresh_from_db()
    assert job.state == State.DONE
