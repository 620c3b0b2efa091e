"""``manage.py run_worker``: the database-queue worker (db_worker) that outlives the database.

db_worker re-raises a lost connection (``OperationalError``) and exits, busy or idle. This
one closes the connections, waits 1, 2, 4 … up to WORKER_RETRY_MAX_SECONDS, marks failed
the task it was running (its export part is restarted by the recovery) and goes on. It
records a heartbeat (exports/workers.py) that /healthz/worker and the export pages read,
and at start marks failed the task rows that killed workers left "running". Same options
as db_worker.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

from django.conf import settings
from django.core.management.base import CommandError
from django.db import InterfaceError, OperationalError, connections
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands import db_worker

from exports import workers

logger = logging.getLogger("django_tasks_db")


class ResilientWorker(db_worker.Worker):
    """db_worker's loop, resumed after the database connection is lost."""

    def run(self) -> None:
        """Run tasks until stopped, reconnecting whenever the database goes away."""
        heartbeat = workers.HeartbeatThread(self.worker_id)
        heartbeat.start()
        try:
            self._recover(self._start)
            while self.running:
                try:
                    super().run()
                    return  # --batch or --max-tasks: done
                except (OperationalError, InterfaceError) as error:
                    logger.warning("database connection lost (%s); reconnecting", error)
                    self._recover(lambda: workers.fail_own_tasks(self.worker_id))
        finally:
            # The last heartbeat stays: a worker that stopped is missed like one that died.
            heartbeat.stop()

    def _start(self) -> None:
        """At start: fail what killed workers left running; forget long-gone workers."""
        workers.fail_orphaned_tasks()
        workers.prune_heartbeats()

    def _recover(self, first: Callable[[], object]) -> None:
        """Wait with backoff until the database answers, then run ``first`` there."""
        delay = 1.0
        while self.running:
            # A connection that saw the error is unusable: the next query opens a new one.
            connections.close_all()
            try:
                first()
            except (OperationalError, InterfaceError) as error:
                logger.warning("database unreachable (%s); next try in %.0f s", error, delay)
                time.sleep(delay)
                delay = min(delay * 2, settings.WORKER_RETRY_MAX_SECONDS)
            else:
                return


class Command(db_worker.Command):
    help = "Run a database background worker that reconnects when the database goes away"

    def handle(
        self,
        *,
        verbosity: int,
        queue_name: str,
        interval: float,
        batch: bool,
        backend_name: str,
        startup_delay: bool,
        reload: bool,
        max_tasks: int | None,
        worker_id: str,
        exclude_queues: str,
        **options: object,
    ) -> None:
        self.configure_logging(verbosity)
        excluded = exclude_queues.split(",") if exclude_queues else []
        queue_names = queue_name.split(",")
        if excluded and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = ResilientWorker(
            queue_names=queue_names,
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=startup_delay,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=excluded,
        )
        if reload and not batch:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                # Only the reloader's child runs tasks and handles signals.
                worker.configure_signals()
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
