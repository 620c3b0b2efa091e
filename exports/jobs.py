"""Bulk exports as background jobs: create, render in chunks, assemble, cancel, retry, recover.

    export_create ──▶ chunks queued, a few per user at a time ──(render_chunk ×N, in
        parallel)──▶ all chunks done
        ──▶ assembling (merged PDF or ZIP from the PDF cache, by the task that finished the
            last chunk; an Excel job's one step, or a restarted one, is an assemble_export
            task) ──▶ done

The job's rows (exports/models.py) are the truth the pages read; the task queue only carries
"run chunk 7 of job 12, attempt 2". Every task checks, before it writes, that the job is still
active and that its attempt number is still the current one: a cancelled job, a user's retry
or a recovered chunk makes the older task stop without touching anything.

A worker that is killed leaves its chunk "running" with a heartbeat that stops moving.
``recover_stale`` (run by every progress poll of the job's page and by ``cleanup_exports``)
starts such a chunk again, up to EXPORT_MAX_ATTEMPTS runs, then marks the job failed with a
message: no job stays "running" forever. A chunk resumes where it stopped (the forms it had
finished are in the PDF cache).

What one user may hold is bounded, so that one user cannot wear the service down for the
others: EXPORT_MAX_ACTIVE_PER_USER jobs queued or running (an identical request is answered
with the running or just-finished job instead), EXPORT_MAX_BYTES_PER_USER of finished files
(the oldest expire first), and EXPORT_PARTS_IN_FLIGHT_PER_USER chunk tasks in the queue at
a time (``_dispatch`` queues the next when one ends), so another user's export is queued
behind a few of this user's parts, not all of them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from typing import IO, TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, F, Max, Q, QuerySet, Sum
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import TaskResultStatus, default_task_backend, task
from django_tasks_db.models import DBTaskResult

from campaigns.models import DueTarget
from campaigns.selectors import campaign_years
from evaluations.models import Evaluation
from evaluations.rules import rules_fingerprints
from evaluations.selectors import visible_evaluations
from evaluations.storage import out_of_space, out_of_space_message, save_whole
from evidence.models import EvidenceFile
from exports.bulk import with_campaign_flags
from exports.kinds import kind_of
from exports.models import ACTIVE_STATES, ExportChunk, ExportJob, State, filter_states
from exports.pdf import bulk_filename
from exports.pdfcache import (
    KeptChanging,
    cached_pdf_name,
    layout_fingerprint,
    queue_missing_renders,
)
from exports.queueing import QUEUE_ERRORS, enqueue
from exports.workers import fail_orphaned_tasks
from rechecks.models import Recheck, RecheckStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from departments.models import Department

logger = logging.getLogger(__name__)

# How often (in forms) the assembling step reports progress and looks for a cancellation.
_REPORT_EVERY = 5
# A chunk's attempt number is its task's ticket: every run of the job (a user's retry) starts
# its chunks at a new block of numbers, (job attempt - 1) * _RUN_SPAN + 1, so that the tasks
# of the previous run never match, while the restarts of a killed chunk within one run are
# counted from 1 (``_chunk_runs``) against EXPORT_MAX_ATTEMPTS.
_RUN_SPAN = 1000


class ExportError(Exception):
    """A request the user must change (nothing to export, too many forms, wrong state)."""


# --- selection and creation ----------------------------------------------------------------


def _selected(
    *, user: AbstractBaseUser, year: int, department: Department | None, status: str
) -> QuerySet[Evaluation]:
    """The forms the user may read that the request covers, in print order.

    ``status`` is a state filter of ``exports.models`` ("" every state, a state, a group).
    """
    evaluations = visible_evaluations(user).filter(year=year)
    if department is not None:
        evaluations = evaluations.filter(department=department)
    if states := filter_states(status):
        evaluations = evaluations.filter(status__in=states)
    return evaluations.order_by("department__name", "project_name", "pk")


def export_selection(
    *, user: AbstractBaseUser, year: int, department: Department | None, status: str
) -> list[int]:
    """The ids of the forms the user may read, in print order (department, project)."""
    selected = _selected(user=user, year=year, department=department, status=status)
    return list(selected.values_list("pk", flat=True))


def selection_key(evaluations: QuerySet[Evaluation]) -> str:
    """A name for what these forms would export now: a change to any of them changes it.

    Each form's row (every write bumps ``revision`` or ``updated_at``; its state and dates,
    the approver with ``approved_at``, its department's name), the evidence and published
    re-checks printed beside it, the due list's approved targets, the years with a campaign,
    the scoring rules each form is scored with and the print layout: what exports/pdfcache.py's ``print_key`` covers form by form, in a few queries.
    """
    rows = evaluations.values_list(
        "pk",
        "revision",
        "updated_at",
        "status",
        "submitted_at",
        "approved_at",
        "department__name",
        "scoring_rules_version",
    )
    evidence = EvidenceFile.objects.filter(evaluation__in=evaluations.values("pk")).aggregate(
        count=Count("pk"), last=Max("pk"), ids=Sum("pk")
    )
    rechecks = Recheck.objects.filter(
        evaluation__in=evaluations.values("pk"), status=RecheckStatus.DONE
    ).aggregate(count=Count("pk"), last=Max("completed_at"))
    # The due list's approved targets the rows are compared with (批复 notes, warnings).
    targets = DueTarget.objects.filter(
        project__in=evaluations.exclude(due_project=None).values("due_project")
    ).values_list("project_id", "position", "level1", "level2", "name", "target", "weight")
    parts = [
        layout_fingerprint(),
        rules_fingerprints(evaluations),
        settings.PDF_AUTHOR,
        sorted(campaign_years()),
        [list(row) for row in rows],
        evidence,
        rechecks,
        sorted(list(row) for row in targets),
    ]
    text = json.dumps(parts, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _reusable(user: AbstractBaseUser, request: dict, key: str) -> ExportJob | None:
    """The user's job for the identical request: still running, or just finished unchanged."""
    now = timezone.now()
    same = ExportJob.objects.filter(user=user, inputs_key=key, **request)
    running = same.filter(state__in=ACTIVE_STATES)
    recent = same.filter(
        state=State.DONE,
        finished_at__gte=now - timedelta(seconds=settings.EXPORT_REUSE_SECONDS),
        expires_at__gt=now,
    )
    return (running | recent).order_by("-created_at", "-pk").first()


def export_create(
    *,
    user: AbstractBaseUser,
    year: int,
    format: str,
    department: Department | None = None,
    status: str = "",
) -> ExportJob:
    """The job that answers the request, its tasks queued once the transaction commits.

    An identical request (same user, format and filters, forms unchanged) is answered with
    the job already queued or running, or finished within EXPORT_REUSE_SECONDS (``reused``
    is then True). A new job is refused while the user has EXPORT_MAX_ACTIVE_PER_USER jobs
    queued or running.
    """
    evaluations = _selected(user=user, year=year, department=department, status=status)
    ids = list(evaluations.values_list("pk", flat=True))
    if not ids:
        raise ExportError(_("没有符合条件的自评表。"))
    if len(ids) > settings.EXPORT_MAX_FORMS:
        raise ExportError(
            _("一次最多导出 %(limit)s 张自评表（所选 %(count)s 张），请按主管部门分批导出。")
            % {"limit": settings.EXPORT_MAX_FORMS, "count": len(ids)}
        )
    key = selection_key(evaluations)
    department_name = department.name if department is not None else ""
    request = {
        "format": format,
        "year": year,
        "department": department,
        "status_filter": status or "",
    }
    with transaction.atomic():
        # One request of a user at a time: two posts at once must not both find room.
        _lock_user(user.pk)
        found = _reusable(user, request, key)
        if found is not None:
            found.reused = True
            return found
        _check_room(user.pk)
        job = ExportJob.objects.create(
            user=user,
            **request,
            department_name=department_name,
            evaluation_ids=ids,
            inputs_key=key,
            total=len(ids),
            filename=bulk_filename(year, department_name or None, kind_of(format).extension),
        )
        _plan(job)
        transaction.on_commit(lambda: _start(job.pk))
    return job


def _check_room(user_id: int) -> None:
    """Refuse another export while the user has EXPORT_MAX_ACTIVE_PER_USER queued or running."""
    active = ExportJob.objects.filter(user_id=user_id, state__in=ACTIVE_STATES).count()
    if active >= settings.EXPORT_MAX_ACTIVE_PER_USER:
        raise ExportError(
            _(
                "您已有 %(count)s 个导出正在排队或生成（每人同时最多 %(limit)s 个）。"
                "请等其中一个完成，或在“我的导出”中取消一个，再开始新的导出。"
            )
            % {"count": active, "limit": settings.EXPORT_MAX_ACTIVE_PER_USER}
        )


def _lock_user(user_id: int) -> None:
    """Lock the user's row until the transaction ends: their exports change one at a time."""
    list(get_user_model().objects.select_for_update().filter(pk=user_id).values_list("pk"))


def _plan(job: ExportJob) -> None:
    """Split a job whose kind renders PDFs into chunks; any other is one assembling step."""
    if not kind_of(job.format).renders_pdfs:
        return
    size = max(1, settings.EXPORT_CHUNK_SIZE)
    ids = job.evaluation_ids
    ExportChunk.objects.bulk_create(
        ExportChunk(job=job, index=n, evaluation_ids=ids[start : start + size])
        for n, start in enumerate(range(0, len(ids), size))
    )


def _start(job_id: int) -> None:
    job = ExportJob.objects.get(pk=job_id)
    if not job.chunks.exists():
        _enqueue_assemble(job)
        return
    _dispatch(job.user_id)


def _dispatch(user_id: int) -> int:
    """Queue the user's next waiting chunks, up to EXPORT_PARTS_IN_FLIGHT_PER_USER in flight.

    A job's chunks wait here (``enqueued_at`` None) instead of all going into the task queue
    at once: another user's export is queued behind at most this many of the user's parts,
    whichever backend runs the tasks (the database queue and RQ run tasks in the order they
    were queued). Called when a job starts, after each chunk or assembling step, after a
    cancel, and by ``recover_stale`` (should a worker die between its chunk and this call).
    The user's oldest job goes first. Returns how many chunks were queued.
    """
    limit = max(1, settings.EXPORT_PARTS_IN_FLIGHT_PER_USER)
    with transaction.atomic():
        _lock_user(user_id)
        active = ExportJob.objects.filter(user_id=user_id, state__in=ACTIVE_STATES)
        pending = ExportChunk.objects.filter(job__in=active, state__in=ACTIVE_STATES)
        # An assembling step runs in the worker of the job's last chunk: it counts too.
        in_flight = pending.filter(enqueued_at__isnull=False).count() + (
            active.filter(assembling=True).count()
        )
        if in_flight >= limit:
            return 0
        waiting = list(
            pending.filter(enqueued_at__isnull=True, state=State.QUEUED).order_by(
                "job__created_at", "job_id", "index"
            )[: limit - in_flight]
        )
        ExportChunk.objects.filter(pk__in=[chunk.pk for chunk in waiting]).update(
            enqueued_at=timezone.now()
        )
        for chunk in waiting:
            # robust: a queue that is down is logged; the chunk, marked queued without a task
            # id, is queued again by ``recover_stale``.
            transaction.on_commit(lambda chunk=chunk: _enqueue_chunk(chunk), robust=True)
    return len(waiting)


def _enqueue_chunk(chunk: ExportChunk) -> None:
    """Queue the chunk's task; when the queue is down, the chunk goes back to wait its turn."""
    current = ExportChunk.objects.filter(pk=chunk.pk, attempt=chunk.attempt)
    current.update(enqueued_at=timezone.now())
    # With the immediate backend the task has already run when enqueue returns: only the
    # task id is written afterwards, never the chunk's state.
    task_id = enqueue(render_chunk, chunk.pk, chunk.attempt)
    if task_id is None:
        # Never queued, so never run: it takes no place among the user's parts in flight,
        # and ``_dispatch`` (the next progress poll, finished part or cleanup) queues it
        # again with the same attempt number.
        current.filter(task_id="").update(enqueued_at=None)
        ExportJob.objects.filter(pk=chunk.job_id).update(unqueued_at=timezone.now())
        return
    current.update(task_id=task_id)
    ExportJob.objects.filter(pk=chunk.job_id, unqueued_at__isnull=False).update(unqueued_at=None)


def _enqueue_assemble(job: ExportJob) -> None:
    """Queue the job's assembling step; when the queue is down, mark the job for a retry."""
    ExportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now(), assemble_task_id="")
    task_id = enqueue(assemble_export, job.pk, job.attempt, job.assemble_try)
    current = ExportJob.objects.filter(pk=job.pk, assemble_try=job.assemble_try)
    if task_id is None:
        # ``recover_stale`` queues the step again (same try: it never ran).
        current.update(unqueued_at=timezone.now())
        return
    current.update(assemble_task_id=task_id, unqueued_at=None)


# --- running -------------------------------------------------------------------------------


# The tasks live beside the work they queue and run (exports/tasks.py lists them all).
@task()
def render_chunk(chunk_id: int, attempt: int) -> None:
    """Render one chunk of an export's forms into the PDF cache."""
    run_chunk(chunk_id, attempt)


@task()
def assemble_export(job_id: int, attempt: int, assemble_try: int) -> None:
    """Write an export's file from the PDF cache (or the Excel workbook)."""
    run_assemble(job_id, attempt, assemble_try)


def _fail(job_id: int, message: str, *, attempt: int | None = None) -> None:
    """Mark the job failed, unless it has ended or (with ``attempt``) was run again since."""
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.state not in ACTIVE_STATES:
            return
        if attempt is not None and job.attempt != attempt:
            return
        job.state = State.FAILED
        job.assembling = False
        job.message = message
        job.finished_at = timezone.now()
        job.save(update_fields=["state", "assembling", "message", "finished_at"])


def _failure_message(error: BaseException) -> str:
    """What the user reads of an unexpected error: never its text, which may name server
    paths or code (the whole error goes to the log, ``logger.exception`` beside each call)."""
    if out_of_space(error):
        return out_of_space_message()
    if isinstance(error, KeptChanging):
        return error.message
    if isinstance(error, FileNotFoundError):
        return _("生成失败：服务器上缺少所需的文件。请联系管理员从备份恢复文件后点击“重试”。")
    return _(
        "生成失败（系统内部错误，详情已记入服务器日志）。可以点击“重试”再生成一次；仍然失败请联系管理员。"
    )


def _still_active(job_id: int) -> bool:
    return ExportJob.objects.filter(pk=job_id, state__in=ACTIVE_STATES).exists()


def run_chunk(chunk_id: int, attempt: int) -> None:
    """Render the chunk's forms into the PDF cache; after the last chunk, assemble the file.

    Then queue the user's next waiting chunk (``_dispatch``).
    """
    user_ids = list(ExportChunk.objects.filter(pk=chunk_id).values_list("job__user_id", flat=True))
    _render_chunk(chunk_id, attempt)
    for user_id in user_ids:
        _dispatch(user_id)


def _render_chunk(chunk_id: int, attempt: int) -> None:
    chunk = ExportChunk.objects.select_related("job").filter(pk=chunk_id).first()
    if chunk is None or chunk.attempt != attempt or chunk.state == State.DONE:
        return
    job = chunk.job
    if job.state not in ACTIVE_STATES:
        return
    now = timezone.now()
    ExportChunk.objects.filter(pk=chunk.pk, attempt=attempt).update(
        state=State.RUNNING, heartbeat_at=now
    )
    ExportJob.objects.filter(pk=job.pk, state=State.QUEUED).update(
        state=State.RUNNING, started_at=now
    )
    ExportJob.objects.filter(pk=job.pk).update(heartbeat_at=now)
    with_campaign = campaign_years()
    try:
        for evaluation_id in chunk.evaluation_ids[chunk.done :]:
            if not _still_active(job.pk):
                return
            evaluation = Evaluation.objects.select_related("department").filter(pk=evaluation_id)
            found = evaluation.first()
            if found is not None:
                found.year_has_campaign = found.year in with_campaign  # type: ignore[attr-defined]
                try:
                    cached_pdf_name(found)
                except KeptChanging:
                    # Being edited right now: the assembling step renders it again later.
                    logger.warning("export %s: form %s kept changing", job.pk, evaluation_id)
            with transaction.atomic():
                now = timezone.now()
                moved = ExportChunk.objects.filter(pk=chunk.pk, attempt=attempt).update(
                    done=F("done") + 1, heartbeat_at=now
                )
                if not moved:  # superseded by a newer attempt
                    return
                ExportJob.objects.filter(pk=job.pk).update(done=F("done") + 1, heartbeat_at=now)
    except Exception as error:
        logger.exception("export %s chunk %s failed", job.pk, chunk.index)
        # Only the chunk's current run may fail the job: an older run (restarted since, or
        # of the job's previous run) failing says nothing about the current one.
        if ExportChunk.objects.filter(pk=chunk.pk, attempt=attempt).exists():
            _fail(job.pk, _failure_message(error), attempt=job.attempt)
        return
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().get(pk=job.pk)
        finished = ExportChunk.objects.filter(
            pk=chunk.pk, attempt=attempt, state=State.RUNNING
        ).update(state=State.DONE, heartbeat_at=timezone.now())
        if not finished or job.state not in ACTIVE_STATES or job.assembling:
            return
        if job.chunks.exclude(state=State.DONE).exists():
            return
        job.assembling = True
        job.heartbeat_at = timezone.now()
        job.save(update_fields=["assembling", "heartbeat_at"])
    # The worker that rendered the last chunk assembles at once. Queued as a task of its
    # own, the step could wait behind other jobs' chunks longer than EXPORT_STALE_SECONDS
    # with nothing to tell the wait from a killed worker, and be restarted, then failed, for
    # nothing. (A restarted step and an Excel job, which has no chunks, are queued tasks.)
    run_assemble(job.pk, job.attempt, job.assemble_try)


def _forms(job: ExportJob) -> Iterator[Evaluation]:
    """The job's forms the user may still read, in the job's order, a few at a time."""
    readable = visible_evaluations(job.user).select_related("department")
    if not kind_of(job.format).renders_pdfs:  # the workbook reads every row of every form
        readable = readable.prefetch_related("funding_rows", "indicators", "due_project__targets")
    return in_order(readable, job.evaluation_ids)


def in_order(evaluations: QuerySet[Evaluation], ids: list[int]) -> Iterator[Evaluation]:
    """The forms of ``ids`` found in ``evaluations``, in the order of ``ids``, fetched 50 at a
    time (the writers read them one by one); ids not found are skipped."""

    def found() -> Iterator[Evaluation]:
        for start in range(0, len(ids), 50):
            batch = ids[start : start + 50]
            by_id = {evaluation.pk: evaluation for evaluation in evaluations.filter(pk__in=batch)}
            yield from (by_id[pk] for pk in batch if pk in by_id)

    return with_campaign_flags(found())


class _Progress:
    """Counts the assembled forms of a job, reports them and stops on cancellation."""

    class Cancelled(Exception):
        pass

    def __init__(self, job: ExportJob, attempt: int, assemble_try: int) -> None:
        self.job = job
        self.filter = {"pk": job.pk, "attempt": attempt, "assemble_try": assemble_try}
        # A kind that renders nothing beforehand (Excel): the writing is the whole progress.
        self.counts_done = not kind_of(job.format).renders_pdfs
        self.pending = 0
        # Warnings for the finished job's page (evidence files missing from storage).
        self.notes: list[str] = []

    def step(self) -> None:
        if self.counts_done:
            # Only this run of the step: an older one still going must not count twice.
            ExportJob.objects.filter(**self.filter).update(done=F("done") + 1)
        self.pending += 1
        if self.pending >= _REPORT_EVERY:
            self.flush()

    def flush(self) -> None:
        moved = ExportJob.objects.filter(**self.filter, state__in=ACTIVE_STATES).update(
            assembled=F("assembled") + self.pending, heartbeat_at=timezone.now()
        )
        self.pending = 0
        if not moved:
            raise self.Cancelled


def run_assemble(job_id: int, attempt: int, assemble_try: int) -> None:
    """Write the job's file from the cache into storage and mark the job done.

    Then queue the user's next waiting chunk (``_dispatch``).
    """
    _assemble(job_id, attempt, assemble_try)
    for user_id in ExportJob.objects.filter(pk=job_id).values_list("user_id", flat=True):
        _dispatch(user_id)


def _assemble(job_id: int, attempt: int, assemble_try: int) -> None:
    job = ExportJob.objects.select_related("user").filter(pk=job_id).first()
    if job is None or job.attempt != attempt or job.assemble_try != assemble_try:
        return
    if job.state not in ACTIVE_STATES:
        return
    now = timezone.now()
    # Filtered on the state again: a cancel that landed since the look above must win.
    started = ExportJob.objects.filter(
        pk=job.pk, attempt=attempt, assemble_try=assemble_try, state__in=ACTIVE_STATES
    )
    kind = kind_of(job.format)
    reset = {} if kind.renders_pdfs else {"done": 0}  # a restarted step that is the whole job
    if not started.update(
        state=State.RUNNING,
        assembling=True,
        assembled=0,
        heartbeat_at=now,
        message="",
        unqueued_at=None,
        **reset,
    ):
        return
    ExportJob.objects.filter(pk=job.pk, started_at__isnull=True).update(started_at=now)
    progress = _Progress(job, attempt, assemble_try)
    stored = ""
    try:
        with tempfile.TemporaryFile() as target:
            count = kind.writer(_forms(job), target, progress)
            progress.flush()
            size = target.tell()
            target.seek(0)
            stored = save_whole(
                f"exports/{job.user_id}/{job.pk}-{secrets.token_hex(8)}.{kind.extension}",
                File(target),
            )
    except _Progress.Cancelled:
        return
    except Exception as error:
        logger.exception("export %s failed while assembling", job.pk)
        if stored:
            default_storage.delete(stored)
        _fail(job.pk, _failure_message(error), attempt=attempt)
        return
    if not count:
        # Every form was deleted or hidden from the user since the job was made: an empty
        # file would only puzzle the user.
        default_storage.delete(stored)
        _fail(
            job.pk,
            _("所选的自评表在导出期间都已被删除或已无权查看，没有可导出的内容。"),
            attempt=attempt,
        )
        return
    with transaction.atomic():
        locked = ExportJob.objects.select_for_update().get(pk=job.pk)
        current = locked.attempt == attempt and locked.assemble_try == assemble_try
        if not current or locked.state not in ACTIVE_STATES:
            transaction.on_commit(lambda: default_storage.delete(stored))
            return
        now = timezone.now()
        locked.state = State.DONE
        locked.assembling = False
        locked.file = stored
        locked.size = size
        locked.finished_at = now
        locked.heartbeat_at = now
        locked.expires_at = now + timedelta(days=settings.EXPORT_KEEP_DAYS)
        notes = list(progress.notes)
        skipped = locked.total - count
        if skipped:
            notes.insert(
                0,
                _("%(count)s 张自评表在导出期间被删除或已无权查看，未包含在文件中。")
                % {"count": skipped},
            )
        locked.message = "".join(notes)
        locked.save()
        _expire_over_bound(locked.user_id)


def _expire_over_bound(user_id: int) -> int:
    """Delete the user's oldest finished files while they keep more than
    EXPORT_MAX_BYTES_PER_USER; the newest file is always kept. Returns how many expired.

    Called in the transaction that finishes a job; the files go once it commits.
    """
    limit = settings.EXPORT_MAX_BYTES_PER_USER
    done = list(
        ExportJob.objects.select_for_update()
        .filter(user_id=user_id, state=State.DONE)
        .order_by("finished_at", "pk")
        .values_list("pk", "size", "file")
    )
    total = sum(size for _pk, size, _file in done)
    expired = []
    for pk, size, file in done[:-1]:  # oldest first, never the newest
        if total <= limit:
            break
        expired.append(pk)
        total -= size
        if file:
            transaction.on_commit(lambda file=file: default_storage.delete(file))
    ExportJob.objects.filter(pk__in=expired).update(
        state=State.EXPIRED,
        file="",
        message=_(
            "您保留的导出文件合计超过 %(limit)s，最早完成的文件已自动删除，以便保留较新的导出。"
            "需要时请重新导出。"
        )
        % {"limit": filesizeformat(limit)},
    )
    return len(expired)


# --- the user's actions ----------------------------------------------------------------------


def export_cancel(*, job: ExportJob) -> bool:
    """Stop a queued or running job; its tasks notice and stop. False when it had ended."""
    with transaction.atomic():
        locked = ExportJob.objects.select_for_update().get(pk=job.pk)
        if locked.state not in ACTIVE_STATES:
            return False
        locked.state = State.CANCELLED
        locked.assembling = False
        locked.finished_at = timezone.now()
        locked.save(update_fields=["state", "assembling", "finished_at"])
        # Its waiting chunks no longer count: the user's other exports may go on.
        transaction.on_commit(lambda: _dispatch(locked.user_id), robust=True)
    job.refresh_from_db()
    return True


def export_retry(*, job: ExportJob) -> None:
    """Run a failed or cancelled job again (the forms already rendered come from the cache)."""
    with transaction.atomic():
        _lock_user(job.user_id)
        locked = ExportJob.objects.select_for_update().get(pk=job.pk)
        if locked.state not in (State.FAILED, State.CANCELLED) and not file_missing(locked):
            raise ExportError(_("只有失败或已取消的导出可以重试。"))
        _check_room(locked.user_id)
        locked.attempt += 1
        locked.assemble_try = 0
        locked.state = State.QUEUED
        locked.done = locked.assembled = 0
        locked.assembling = False
        locked.message = ""
        locked.file = ""
        locked.size = 0
        locked.finished_at = locked.started_at = locked.heartbeat_at = None
        locked.seen_at = None
        locked.save()
        locked.chunks.update(
            state=State.QUEUED,
            done=0,
            attempt=(locked.attempt - 1) * _RUN_SPAN + 1,
            heartbeat_at=None,
            enqueued_at=None,
            task_id="",
        )
        transaction.on_commit(lambda: _start(locked.pk))
    job.refresh_from_db()


def export_file_open(job: ExportJob) -> IO[bytes]:
    return default_storage.open(job.file, "rb")


def file_missing(job: ExportJob) -> bool:
    """A finished, unexpired job whose file is gone from storage (restored without files)."""
    unexpired = job.expires_at is None or job.expires_at > timezone.now()
    return (
        job.state == State.DONE
        and bool(job.file)
        and unexpired
        and not default_storage.exists(job.file)
    )


def file_missing_message(job: ExportJob) -> str:
    return _(
        "导出文件“%(name)s”在服务器上找不到（可能是从备份恢复时没有恢复文件）。"
        "可以点击“重新生成”再生成一次。"
    ) % {"name": job.filename or job.year}


# --- recovery and expiry -------------------------------------------------------------------------


def _chunk_runs(chunk: ExportChunk, job_attempt: int) -> int:
    """How many times the chunk was started in the job's current run (1 for the first)."""
    return chunk.attempt - (job_attempt - 1) * _RUN_SPAN


def _task_lost(chunk: ExportChunk) -> bool:
    """Whether a queued chunk's task ended or was taken without ever reaching the chunk.

    Called for chunks enqueued longer ago than EXPORT_STALE_SECONDS: one without a task id
    was never enqueued (the queue was down when it was tried).
    """
    return _lost(chunk.task_id)


def _task_waiting(task_id: str) -> bool:
    """Whether the task is still in the queue, waiting for a free worker."""
    return bool(task_id) and not _lost(task_id)


def _lost(task_id: str) -> bool:
    if not task_id:
        return True
    if not default_task_backend.supports_get_result:
        return False
    try:
        result = default_task_backend.get_result(task_id)
    except QUEUE_ERRORS:
        # The queue cannot be asked (Redis down): the task may well be waiting there. It
        # is asked again by the next poll rather than run twice.
        logger.warning("could not look up task %s: the task queue is unavailable", task_id)
        return False
    except Exception:  # noqa: BLE001 - the queue forgot it (expired in Redis): lost
        return True
    return result.status != TaskResultStatus.READY


def _forget_task(task_id: str) -> None:
    """Mark a lost task failed in the database queue (a killed worker leaves it "running")."""
    if settings.TASKS_BACKEND != "db" or not task_id:
        return
    DBTaskResult.objects.filter(id=task_id, status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.FAILED, finished_at=timezone.now()
    )


def recover_stale(*, job: ExportJob | None = None) -> int:
    """Start again what a killed worker left behind, and queue again what the task queue
    refused (a part or an assembling step with no task id); return how many were restarted.

    Run by every progress poll of the job's page and by ``cleanup_exports``; a step the queue
    refused is tried again at most every EXPORT_QUEUE_RETRY_SECONDS, so that a page polled
    every second does not knock on a queue that is down each time.
    """
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.EXPORT_STALE_SECONDS)
    retry_cutoff = now - timedelta(seconds=settings.EXPORT_QUEUE_RETRY_SECONDS)
    jobs = ExportJob.objects.filter(state__in=ACTIVE_STATES)
    if job is not None:
        jobs = jobs.filter(pk=job.pk)
    restarted = 0
    # An assembling step the queue refused: an Excel job's only step, or a restarted one.
    # (A PDF or ZIP job's first step runs in the worker of its last chunk, with no task id.)
    refused = jobs.filter(unqueued_at__lte=retry_cutoff, assemble_task_id="").filter(
        Q(assembling=True) | Q(chunks__isnull=True)
    )
    for waiting in refused:
        with transaction.atomic():
            locked = ExportJob.objects.select_for_update().get(pk=waiting.pk)
            if locked.unqueued_at is None or locked.assemble_task_id:
                continue  # queued by a concurrent poll
            locked.unqueued_at = None
            locked.save(update_fields=["unqueued_at"])
            transaction.on_commit(lambda job=locked: _enqueue_assemble(job), robust=True)
            restarted += 1
    chunks = ExportChunk.objects.filter(job__in=jobs, job__assembling=False).exclude(
        state=State.DONE
    )
    for chunk in chunks.filter(heartbeat_at__lt=cutoff) | chunks.filter(
        state=State.QUEUED, heartbeat_at__isnull=True, enqueued_at__lt=cutoff
    ):
        if chunk.state == State.QUEUED and not _task_lost(chunk):
            continue  # still waiting for a free worker
        with transaction.atomic():
            locked = ExportChunk.objects.select_for_update().get(pk=chunk.pk)
            if locked.attempt != chunk.attempt or locked.state == State.DONE:
                continue
            _forget_task(locked.task_id)
            job_attempt = ExportJob.objects.filter(pk=locked.job_id).values_list(
                "attempt", flat=True
            )[0]
            if _chunk_runs(locked, job_attempt) >= min(settings.EXPORT_MAX_ATTEMPTS, _RUN_SPAN):
                transaction.on_commit(
                    lambda job_id=locked.job_id: _fail(job_id, _interrupted_message())
                )
                continue
            locked.attempt += 1
            locked.state = State.QUEUED
            locked.heartbeat_at = None
            locked.task_id = ""
            locked.save()
            # robust: a queue that is down is logged, not raised into the progress poll; the
            # chunk, left without a task id, is enqueued again by a later poll.
            transaction.on_commit(lambda chunk=locked: _enqueue_chunk(chunk), robust=True)
            restarted += 1
    for stale in jobs.filter(assembling=True, heartbeat_at__lt=cutoff):
        with transaction.atomic():
            locked = ExportJob.objects.select_for_update().get(pk=stale.pk)
            if not locked.assembling or locked.state not in ACTIVE_STATES:
                continue
            if _task_waiting(locked.assemble_task_id):
                continue  # queued behind other work, not lost
            _forget_task(locked.assemble_task_id)
            if locked.assemble_try + 1 >= settings.EXPORT_MAX_ATTEMPTS:
                locked.state = State.FAILED
                locked.assembling = False
                locked.message = _interrupted_message()
                locked.finished_at = timezone.now()
                locked.save()
                continue
            locked.assemble_try += 1
            locked.save(update_fields=["assemble_try"])
            transaction.on_commit(lambda job=locked: _enqueue_assemble(job), robust=True)
            restarted += 1
    # A worker killed between finishing its chunk and queueing the user's next one, or
    # parts the queue refused (back among the waiting ones; see ``_enqueue_chunk``).
    ready = jobs.exclude(unqueued_at__gt=retry_cutoff)
    for user_id in set(ready.values_list("user_id", flat=True)):
        _dispatch(user_id)
    return restarted


def _interrupted_message() -> str:
    return _(
        "后台导出进程多次中断（已尝试 %(count)s 次），导出未完成。可以点击“重试”；"
        "仍然失败请联系管理员检查后台进程。"
    ) % {"count": settings.EXPORT_MAX_ATTEMPTS}


def cleanup_exports() -> dict[str, int]:
    """Delete files past their expiry, and recover what killed workers left behind."""
    now = timezone.now()
    expired = 0
    for job in ExportJob.objects.filter(state=State.DONE, expires_at__lt=now):
        if job.file:
            default_storage.delete(job.file)
        job.state = State.EXPIRED
        job.file = ""
        job.save(update_fields=["state", "file"])
        expired += 1
    # The bound may have been lowered since the files were made.
    for user_id in set(
        ExportJob.objects.filter(state=State.DONE).values_list("user_id", flat=True)
    ):
        with transaction.atomic():
            expired += _expire_over_bound(user_id)
    # A job never taken by a worker for a day: no worker runs. Say so rather than wait on.
    waiting = ExportJob.objects.filter(state=State.QUEUED, created_at__lt=now - timedelta(days=1))
    abandoned = waiting.update(
        state=State.FAILED,
        finished_at=now,
        message=_("一天内没有后台进程处理此导出，已停止。请联系管理员启动后台进程后重试。"),
    )
    # Task rows a killed worker left "running" in the database queue: failed, so the queue's
    # table tells the truth (their export parts are restarted by ``recover_stale``).
    orphaned = fail_orphaned_tasks() if settings.TASKS_BACKEND == "db" else 0
    restarted = recover_stale()
    # Approvals whose render the queue refused (two days: an hourly run missed for a while).
    rendered = queue_missing_renders(since=now - timedelta(days=2))
    return {
        "expired": expired,
        "abandoned": abandoned,
        "restarted": restarted,
        "orphaned": orphaned,
        "renders_queued": rendered,
    }


def queued_too_long(job: ExportJob) -> bool:
    """True when a queued job has waited long enough that no worker seems to run.

    A job waiting its turn behind other exports (its user's earlier ones, or other users')
    while some export moves on is not stalled.
    """
    since = timezone.now() - timedelta(minutes=2)
    if job.state != State.QUEUED or job.created_at >= since:
        return False
    return not ExportJob.objects.filter(state__in=ACTIVE_STATES, heartbeat_at__gte=since).exists()


def waiting_for_queue(job: ExportJob) -> bool:
    """True while the task queue refused the job's next step (it is queued again by itself)."""
    return job.active and job.unqueued_at is not None
