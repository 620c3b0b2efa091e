"""The task queue down (Redis under RQ, the database queue's insert): queueing after commit.

An approval or an export is committed before its tasks are queued (exports/queueing.py): a
queue that refuses them must not answer 500, and what it refused is queued again by the
recovery (the job's progress poll, a finished part, the hourly cleanup) once it is back.

On RQ (``make test-rq``) the queue is really unreachable: its connection points at a closed
port. On the database backend the backend's enqueue raises DatabaseError instead, as an
unreachable database would.
"""

from __future__ import annotations

import re
import socket
from datetime import timedelta

import pytest
from django.db import DatabaseError
from django.urls import reverse
from django.utils import timezone
from django_tasks_db import DatabaseBackend

from evaluations.models import Status
from evaluations.workflow import evaluation_submit
from exports import jobs, pdfcache
from exports import pdf as pdf_module
from exports.models import ExportChunk, ExportJob, State
from tests.conftest import client_for
from tests.factories import make_evaluation
from tests.tasks_helpers import empty_queue, run_worker, uses_rq

pytestmark = [pytest.mark.jobs, pytest.mark.django_db(transaction=True)]

WAITING_TEXT = "后台任务服务暂时不可用，系统会自动重试"


def _closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Queue:
    """Takes the configured task queue down and brings it back, for the test's duration."""

    def __init__(self, settings, monkeypatch) -> None:
        self.settings = settings
        self.monkeypatch = monkeypatch
        self.rq_queues = settings.RQ_QUEUES
        self.enqueue = DatabaseBackend.enqueue
        self.get_result = DatabaseBackend.get_result

    def down(self) -> None:
        if uses_rq():
            url = f"redis://127.0.0.1:{_closed_port()}/0"
            self.settings.RQ_QUEUES = {"default": {**self.rq_queues["default"], "URL": url}}
        else:

            def refused(*args, **kwargs):
                raise DatabaseError("could not connect to server: Connection refused")

            self.monkeypatch.setattr(DatabaseBackend, "enqueue", refused)
            self.monkeypatch.setattr(DatabaseBackend, "get_result", refused)

    def up(self) -> None:
        if uses_rq():
            self.settings.RQ_QUEUES = self.rq_queues
        else:
            self.monkeypatch.setattr(DatabaseBackend, "enqueue", self.enqueue)
            self.monkeypatch.setattr(DatabaseBackend, "get_result", self.get_result)


@pytest.fixture
def queue(settings, monkeypatch) -> Queue:
    if settings.TASKS_BACKEND not in ("db", "rq"):
        pytest.skip("takes down the database queue or Redis; the immediate backend has none")
    empty_queue()
    settings.EXPORT_QUEUE_RETRY_SECONDS = 0
    return Queue(settings, monkeypatch)


@pytest.fixture
def forms(dept_a, staff_a) -> list:
    return [make_evaluation(dept_a, staff_a, project_name=f"排队测试{n}") for n in range(5)]


def _says_waiting_for_queue(client, job: ExportJob) -> bool:
    """Whether the job's page shows the notice that the queue is down (not hidden)."""
    page = client.get(reverse("exports:detail", args=[job.pk])).content.decode()
    notice = re.search(r'<div class="([^"]*)" id="export-unqueued"[^>]*>([^<]*)<', page)
    assert notice is not None and WAITING_TEXT in notice.group(2)
    return "d-none" not in notice.group(1).split()


def _poll(client, job: ExportJob) -> dict:
    response = client.get(reverse("exports:status", args=[job.pk]))
    assert response.status_code == 200
    return response.json()


def test_an_approval_with_the_queue_down_succeeds_and_its_pdf_is_rendered_later(
    dept_a, staff_a, finance, queue
):
    form = make_evaluation(dept_a, staff_a, project_name="审核时队列不可用")
    evaluation_submit(evaluation=form, user=staff_a)
    queue.down()
    response = client_for(finance).post(f"/review/{form.pk}/approve/", {"confirm": "1"})
    assert response.status_code == 302
    form.refresh_from_db()
    assert form.status == Status.APPROVED

    queue.up()
    run_worker()  # nothing was queued
    assert pdfcache.cached_pdf_name(form, render=False) is None
    assert jobs.cleanup_exports()["renders_queued"] == 1
    run_worker()
    assert pdfcache.cached_pdf_name(form, render=False) is not None
    assert jobs.cleanup_exports()["renders_queued"] == 0


def test_an_export_started_with_the_queue_down_waits_then_completes(
    forms, staff_a, settings, queue
):
    settings.EXPORT_CHUNK_SIZE = 2  # three parts, two in flight per user
    client = client_for(staff_a)
    queue.down()
    response = client.post(reverse("exports:list"), {"year": "2021", "format": "pdf"})
    assert response.status_code == 302
    job = ExportJob.objects.get(user=staff_a)
    chunks = job.chunks.order_by("index")
    assert job.state == State.QUEUED
    assert [(c.task_id, c.enqueued_at, c.attempt) for c in chunks] == [("", None, 1)] * 3
    data = _poll(client, job)  # the poll tries again: still refused, nothing spent
    assert (data["state"], data["waiting_for_queue"]) == ("queued", True)
    assert [(c.task_id, c.attempt) for c in chunks.all()] == [("", 1)] * 3
    assert _says_waiting_for_queue(client, job)

    queue.up()
    data = _poll(client, job)
    assert data["waiting_for_queue"] is False
    # The user's bound: two parts queued, the third when one of them ends.
    assert [bool(c.task_id) for c in chunks.all()] == [True, True, False]
    run_worker()
    job.refresh_from_db()
    assert (job.state, job.done, job.total) == (State.DONE, 5, 5)
    assert [c.attempt for c in chunks.all()] == [1, 1, 1]
    assert not _says_waiting_for_queue(client, job)


def test_an_excel_export_started_with_the_queue_down_completes_once_it_is_back(
    forms, staff_a, queue
):
    client = client_for(staff_a)
    queue.down()
    response = client.post(reverse("exports:list"), {"year": "2021", "format": "xlsx"})
    assert response.status_code == 302
    job = ExportJob.objects.get(user=staff_a)
    assert (job.state, job.assemble_task_id) == (State.QUEUED, "")
    assert _poll(client, job)["waiting_for_queue"] is True

    queue.up()
    assert _poll(client, job)["waiting_for_queue"] is False
    job.refresh_from_db()
    assert job.assemble_task_id and job.assemble_try == 0
    run_worker()
    job.refresh_from_db()
    assert (job.state, job.done, job.total) == (State.DONE, 5, 5)


def test_a_long_form_downloaded_with_the_queue_down_waits_and_is_asked_for_again(
    dept_a, staff_a, queue, monkeypatch
):
    monkeypatch.setattr(pdf_module, "QUICK_PRINT_MAX_CHARACTERS", 10)  # printed by the worker
    form = make_evaluation(dept_a, staff_a, project_name="下载时队列不可用")
    client = client_for(staff_a)
    url = f"/evaluations/{form.pk}/pdf/"
    queue.down()
    assert client.get(url).status_code == 202  # the waiting page, not a 500
    status = client.get(f"/evaluations/{form.pk}/pdf/status/").json()
    assert status == {"ready": False, "queued": False}  # not asked: the next visit asks

    queue.up()
    assert client.get(url).status_code == 202
    run_worker()
    response = client.get(url)
    assert (response.status_code, response["Content-Type"]) == (200, "application/pdf")


def test_a_queued_part_is_not_restarted_while_the_queue_cannot_be_asked(
    forms, finance, settings, queue
):
    settings.EXPORT_CHUNK_SIZE = 5
    job = jobs.export_create(user=finance, year=2021, format="pdf")
    chunk = job.chunks.get()
    assert chunk.task_id
    # Waiting in the queue past the stale limit: whether its task is lost can only be asked.
    long_ago = timezone.now() - timedelta(seconds=settings.EXPORT_STALE_SECONDS + 60)
    ExportChunk.objects.filter(pk=chunk.pk).update(enqueued_at=long_ago)
    queue.down()
    assert jobs.recover_stale(job=job) == 0
    chunk.refresh_from_db()
    assert (chunk.attempt, chunk.state) == (1, State.QUEUED)

    queue.up()
    run_worker()
    job.refresh_from_db()
    assert (job.state, job.done) == (State.DONE, 5)
