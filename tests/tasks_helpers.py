"""Run the queued background tasks inside a test, whichever task backend is configured.

``run_worker()`` returns when the queue is empty, after running every task in it, including
the tasks those tasks enqueue (a chunk's render enqueues the assembling step). It runs in the
test's own process and thread, so the tasks see the test database:

- database backend (the default): ``manage.py db_worker`` in batch mode;
- RQ backend (``TASKS_BACKEND=rq``, ``make test-rq``): an RQ ``SimpleWorker`` in burst mode.
  RQ's default worker forks a child per job, which would not see an SQLite in-memory
  database or the test's connection; ``SimpleWorker`` runs the job in this process;
- immediate backend: the tasks already ran when they were enqueued; nothing to do.

The worker uses its own transactions: a test calling it needs
``@pytest.mark.django_db(transaction=True)``.
"""

from __future__ import annotations

import signal

from django.conf import settings
from django.core.management import call_command


def task_backend() -> str:
    """The configured backend's dotted path (``settings.TASKS``, read at call time)."""
    return settings.TASKS["default"]["BACKEND"]


def uses_rq() -> bool:
    return task_backend() == "django_tasks_rq.RQBackend"


def run_worker() -> None:
    """Run every queued task; return when the queue is empty."""
    backend = task_backend()
    if backend == "django_tasks_db.DatabaseBackend":
        call_command("db_worker", batch=True, reload=False, startup_delay=False, verbosity=0)
    elif backend == "django_tasks_rq.RQBackend":
        _run_rq_worker()
    elif backend != "django_tasks.backends.immediate.ImmediateBackend":
        raise NotImplementedError(f"run_worker() does not know the task backend {backend}")


def empty_queue() -> None:
    """Drop the tasks a previous test left queued (RQ only: Redis outlives a test's database;
    the database queue's rows go with the test's transaction or flush)."""
    if uses_rq():
        import django_rq

        for name in settings.TASKS["default"].get("QUEUES") or ["default"]:
            django_rq.get_queue(name).empty()


def _run_rq_worker() -> None:
    import django_rq
    from rq.worker import SimpleWorker

    queues = settings.TASKS["default"].get("QUEUES") or ["default"]
    worker = django_rq.get_worker(
        *queues, job_class="django_tasks_rq.Job", worker_class=SimpleWorker
    )
    # The worker installs its own SIGINT/SIGTERM handlers (a warm shutdown); give pytest its
    # own back afterwards, so that Ctrl+C still stops the test run.
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        worker.work(burst=True, logging_level="WARNING")
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
