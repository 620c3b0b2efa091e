"""The background-task workers' liveness: heartbeats, when one was last seen, orphaned tasks.

``manage.py run_worker`` writes a ``WorkerHeartbeat`` row every WORKER_HEARTBEAT_SECONDS
(from a thread, so a long export part does not silence it). Under TASKS_BACKEND=rq the RQ
workers' own heartbeats in Redis are read instead. A worker killed with -9 leaves its task
row "running" in the database queue: ``fail_orphaned_tasks`` (run by ``cleanup_exports`` and
by every worker when it starts) marks such rows failed once no live worker holds them.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from exports.models import WorkerHeartbeat

logger = logging.getLogger(__name__)


def record_heartbeat(worker_id: str, *, started_at: datetime) -> None:
    """Say that this worker process is alive now."""
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "hostname": socket.gethostname()[:255],
            "pid": os.getpid(),
            "started_at": started_at,
            "seen_at": timezone.now(),
        },
    )


def prune_heartbeats() -> int:
    """Delete the heartbeats of workers gone for a week (each start has a new id)."""
    since = timezone.now() - timedelta(days=7)
    return WorkerHeartbeat.objects.filter(seen_at__lt=since).delete()[0]


class HeartbeatThread(threading.Thread):
    """Records the worker's heartbeat every WORKER_HEARTBEAT_SECONDS until stopped."""

    def __init__(self, worker_id: str) -> None:
        super().__init__(name="worker-heartbeat", daemon=True)
        self.worker_id = worker_id
        self.started_at = timezone.now()
        self.stopping = threading.Event()

    def run(self) -> None:
        """Beat until stopped; a database that is down is waited out, never fatal."""
        while not self.stopping.is_set():
            try:
                close_old_connections()
                record_heartbeat(self.worker_id, started_at=self.started_at)
            except DatabaseError:
                logger.warning("worker heartbeat: database unreachable, trying again")
                # A broken connection is not reusable: the next beat opens a new one.
                connection.close()
            self.stopping.wait(settings.WORKER_HEARTBEAT_SECONDS)
        connection.close()

    def stop(self) -> None:
        """Stop beating (the thread ends within one interval)."""
        self.stopping.set()


def _rq_last_seen() -> datetime | None:
    # django_rq is an installed app only under TASKS_BACKEND=rq: imported there only.
    import django_rq
    from rq import Worker

    beats = [w.last_heartbeat for w in Worker.all(connection=django_rq.get_connection("default"))]
    beats = [beat for beat in beats if beat is not None]
    if not beats:
        return None
    newest = max(beats)
    return newest if timezone.is_aware(newest) else timezone.make_aware(newest, UTC)


def worker_last_seen() -> datetime | None:
    """When a background-task worker was last seen alive (None: never)."""
    if settings.TASKS_BACKEND == "rq":
        return _rq_last_seen()
    newest = WorkerHeartbeat.objects.order_by("-seen_at").first()
    return newest.seen_at if newest is not None else None


def worker_silence() -> timedelta | None:
    """How long no worker has been seen, once that is past WORKER_LOST_SECONDS; else None.

    None also when no worker ever recorded a heartbeat (the "immediate" backend needs none;
    a plain ``db_worker`` records none): only a worker that was seen can be missed.
    """
    if settings.TASKS_BACKEND == "immediate":
        return None
    seen = worker_last_seen()
    if seen is None:
        return None
    silence = timezone.now() - seen
    return silence if silence > timedelta(seconds=settings.WORKER_LOST_SECONDS) else None


def worker_warning() -> str:
    """The export pages' warning when the workers have gone silent ("" when all is well)."""
    try:
        silence = worker_silence()
    except Exception:  # noqa: BLE001 - the page must not fail over a check (Redis down)
        logger.exception("could not read the workers' heartbeats")
        return ""
    if silence is None:
        return ""
    minutes = max(1, int(silence.total_seconds() // 60))
    return _("后台任务进程已有 %(minutes)s 分钟没有响应，请联系管理员。") % {"minutes": minutes}


def live_worker_ids() -> set[str]:
    """The database-queue workers that have beaten within WORKER_LOST_SECONDS."""
    since = timezone.now() - timedelta(seconds=settings.WORKER_LOST_SECONDS)
    return set(
        WorkerHeartbeat.objects.filter(seen_at__gte=since).values_list("worker_id", flat=True)
    )


def fail_orphaned_tasks() -> int:
    """Mark failed the task rows left "running" by a worker that is gone; return how many.

    A row counts as orphaned when it has run longer than EXPORT_STALE_SECONDS and the worker
    that claimed it last has no recent heartbeat (killed with -9, or its machine is gone).
    """
    cutoff = timezone.now() - timedelta(seconds=settings.EXPORT_STALE_SECONDS)
    live = live_worker_ids()
    orphaned = [
        row.id
        for row in DBTaskResult.objects.filter(
            status=TaskResultStatus.RUNNING, started_at__lt=cutoff
        ).only("id", "worker_ids")
        if not row.worker_ids or row.worker_ids[-1] not in live
    ]
    if not orphaned:
        return 0
    return DBTaskResult.objects.filter(id__in=orphaned, status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.FAILED,
        finished_at=timezone.now(),
        exception_class_path="exports.workers.WorkerLost",
        traceback="The worker running this task stopped without finishing it.",
    )


def fail_own_tasks(worker_id: str) -> int:
    """Mark failed the rows this worker claimed but could not finish (its database went away)."""
    # In Python: SQLite has no JSON "contains" lookup, and few rows are ever running.
    own = [
        row.id
        for row in DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).only(
            "id", "worker_ids"
        )
        if row.worker_ids and row.worker_ids[-1] == worker_id
    ]
    return DBTaskResult.objects.filter(id__in=own, status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.FAILED,
        finished_at=timezone.now(),
        exception_class_path="exports.workers.WorkerLost",
        traceback="The database connection was lost while this task ran.",
    )
