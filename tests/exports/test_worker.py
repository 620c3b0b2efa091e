"""The background-task worker (``manage.py run_worker``): it outlives the database, it is seen.

A lost connection is waited out and the loop goes on; every worker records a heartbeat that
/healthz/worker and the export pages read; task rows a killed worker left "running" are
marked failed. The real restart of PostgreSQL runs on the PostgreSQL run of the suite.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult, DBTaskResultQuerySet

from exports import jobs, workers
from exports.management.commands.run_worker import ResilientWorker
from exports.models import ExportChunk, ExportJob, State, WorkerHeartbeat
from tests.conftest import PROJECT_DIR
from tests.exports.test_export_pages import forms_of
from tests.tasks_helpers import uses_rq
from tests.worker_tasks import write_marker

ROOT = PROJECT_DIR


def _beat(worker_id: str, seconds_ago: float) -> None:
    seen = timezone.now() - timedelta(seconds=seconds_ago)
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id, defaults={"started_at": seen, "seen_at": seen}
    )


def _running_row(worker_id: str, started_seconds_ago: float) -> DBTaskResult:
    result = write_marker.enqueue("/nonexistent", "x")
    DBTaskResult.objects.filter(id=result.id).update(
        status=TaskResultStatus.RUNNING,
        started_at=timezone.now() - timedelta(seconds=started_seconds_ago),
        worker_ids=[worker_id],
    )
    return DBTaskResult.objects.get(id=result.id)


# --- the loop survives a lost connection ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_reconnects_after_a_lost_connection_and_runs_the_next_task(tmp_path, monkeypatch):
    """The first look at the queue fails as with a database restart; the worker goes on."""
    marker = tmp_path / "ran.txt"
    write_marker.enqueue(str(marker), "after the outage")
    real_get_locked = DBTaskResultQuerySet.get_locked
    failures = []

    def get_locked_once_broken(self):
        if not failures:
            failures.append(1)
            raise OperationalError("server closed the connection unexpectedly")
        return real_get_locked(self)

    monkeypatch.setattr(DBTaskResultQuerySet, "get_locked", get_locked_once_broken)
    waits = []
    monkeypatch.setattr("exports.management.commands.run_worker.time.sleep", waits.append)
    # The heartbeat thread would share SQLite's in-memory test database across threads.
    monkeypatch.setattr(workers.HeartbeatThread, "start", lambda self: None)

    call_command("run_worker", batch=True, reload=False, startup_delay=False, verbosity=0)

    assert failures == [1]
    assert marker.read_text(encoding="utf-8") == "after the outage"
    assert DBTaskResult.objects.get().status == TaskResultStatus.SUCCESSFUL


@pytest.mark.django_db(transaction=True)
def test_it_waits_with_growing_pauses_while_the_database_stays_down(monkeypatch):
    """Down for three tries: it waits 1, 2, 4 s, then fails the task it held, and goes on."""
    held = _running_row("this-worker", 1)
    real = workers.fail_own_tasks
    tries = []

    def down_three_times(worker_id):
        tries.append(worker_id)
        if len(tries) <= 3:
            raise OperationalError("connection refused")
        return real(worker_id)

    monkeypatch.setattr(workers, "fail_own_tasks", down_three_times)
    waits = []
    monkeypatch.setattr("exports.management.commands.run_worker.time.sleep", waits.append)

    worker = ResilientWorker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="this-worker",
        excluded_queue_names=[],
    )
    worker._recover(lambda: workers.fail_own_tasks("this-worker"))

    assert waits == [1.0, 2.0, 4.0]
    held.refresh_from_db()
    assert held.status == TaskResultStatus.FAILED


# --- task rows of killed workers ----------------------------------------------------------------


@pytest.mark.django_db
def test_cleanup_fails_the_task_rows_a_killed_worker_left_running(settings):
    stale = settings.EXPORT_STALE_SECONDS + 60
    _beat("alive", 1)
    _beat("killed", stale)
    orphan = _running_row("killed", stale)
    busy_elsewhere = _running_row("alive", stale)  # a long task of a live worker
    just_started = _running_row("killed", 1)

    counts = jobs.cleanup_exports()

    assert counts["orphaned"] == 1
    statuses = {
        row.id: row.status
        for row in DBTaskResult.objects.filter(
            id__in=[orphan.id, busy_elsewhere.id, just_started.id]
        )
    }
    assert statuses == {
        orphan.id: TaskResultStatus.FAILED,
        busy_elsewhere.id: TaskResultStatus.RUNNING,
        just_started.id: TaskResultStatus.RUNNING,
    }
    assert DBTaskResult.objects.get(id=orphan.id).exception_class_path == (
        "exports.workers.WorkerLost"
    )


@pytest.mark.django_db
def test_a_chunk_without_progress_is_restarted_though_its_worker_still_beats(
    staff_a, dept_a, settings
):
    """A worker stuck on a dead connection is alive but its part is lost all the same."""
    forms_of(dept_a, 2)
    job = jobs.export_create(user=staff_a, year=2021, format="pdf")
    chunk = job.chunks.get()
    _beat("stuck", 1)
    gone = timezone.now() - timedelta(seconds=settings.EXPORT_STALE_SECONDS + 60)
    ExportChunk.objects.filter(pk=chunk.pk).update(state=State.RUNNING, heartbeat_at=gone)
    ExportJob.objects.filter(pk=job.pk).update(state=State.RUNNING)

    assert jobs.cleanup_exports()["restarted"] == 1

    chunk.refresh_from_db()
    assert (chunk.state, chunk.attempt) == (State.QUEUED, 2)


# --- liveness: the monitoring endpoint and the export pages ----------------------------------


@pytest.mark.django_db
def test_the_worker_endpoint_answers_503_without_a_recent_heartbeat(settings):
    client = Client()
    response = client.get("/healthz/worker")
    assert (response.status_code, response.json()["worker"]) == (503, "never seen")

    _beat("w1", settings.WORKER_LOST_SECONDS + 30)
    response = client.get("/healthz/worker")
    assert response.status_code == 503
    assert response.json()["worker"].startswith("not seen for ")

    _beat("w2", 2)
    response = client.get("/healthz/worker")
    assert (response.status_code, response.json()["status"]) == (200, "ok")
    # The web process's own check is untouched by the workers.
    WorkerHeartbeat.objects.all().delete()
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_the_export_pages_say_when_no_worker_has_answered_for_minutes(client_a, staff_a):
    job = ExportJob.objects.create(user=staff_a, format="pdf", year=2021, total=3)
    _beat("w1", 5 * 60 + 10)
    warning = "后台任务进程已有 5 分钟没有响应，请联系管理员。"

    detail = client_a.get(reverse("exports:detail", args=[job.pk])).content.decode()
    assert warning in detail
    assert client_a.get(reverse("exports:status", args=[job.pk])).json()["worker_warning"] == (
        warning
    )
    assert warning in client_a.get(reverse("exports:list")).content.decode()

    _beat("w2", 1)  # a worker answers again
    detail = client_a.get(reverse("exports:detail", args=[job.pk])).content.decode()
    assert "没有响应" not in detail
    assert client_a.get(reverse("exports:status", args=[job.pk])).json()["worker_warning"] == ""


@pytest.mark.jobs
@pytest.mark.skipif(not uses_rq(), reason="reads RQ's heartbeats: the Redis run (make test-rq)")
@pytest.mark.django_db
def test_the_worker_endpoint_reads_the_rq_workers_heartbeats():
    import django_rq  # installed only under TASKS_BACKEND=rq
    from rq import Worker

    client = Client()
    rq_worker = Worker(["default"], connection=django_rq.get_connection("default"))
    rq_worker.register_birth()
    try:
        rq_worker.heartbeat()
        response = client.get("/healthz/worker")
        assert (response.status_code, response.json()["status"]) == (200, "ok")
    finally:
        rq_worker.register_death()
    assert client.get("/healthz/worker").status_code == 503


# --- a real PostgreSQL restart -----------------------------------------------------------------

_ON_POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def _pg(*args: str, user_switch: list[str]) -> None:
    subprocess.run([*user_switch, *args], check=True, capture_output=True, timeout=60)


@pytest.fixture
def throwaway_postgres(db) -> Iterator[tuple[str, object]]:
    """A PostgreSQL cluster of its own with the test database's schema; yields its URL and a
    restart function (stop, wait, start)."""
    pg_bin = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
    workdir = Path(tempfile.mkdtemp(prefix="perfeval-worker-pg."))
    as_pg: list[str] = []
    if os.getuid() == 0:
        # initdb refuses to run as root (as in scripts/with-postgres.sh).
        shutil.chown(workdir, "postgres")
        as_pg = ["runuser", "-u", "postgres", "--"]
    # A free port, as scripts/with-postgres.sh finds one.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = str(workdir / "data")
    options = f"-h 127.0.0.1 -p {port} -k {workdir} -c fsync=off"
    pg_ctl = [str(pg_bin / "pg_ctl"), "-D", data, "-l", str(workdir / "log"), "-w", "-o", options]
    _pg(str(pg_bin / "initdb"), "-D", data, "-U", "perfeval", "--auth=trust", user_switch=as_pg)
    _pg(*pg_ctl, "start", user_switch=as_pg)
    try:
        _pg(
            str(pg_bin / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "perfeval",
            "worker", user_switch=as_pg,
        )  # fmt: skip
        # The schema of the suite's (migrated) test database, without its rows.
        test_db = connection.settings_dict
        dump = subprocess.run(
            [
                str(pg_bin / "pg_dump"), "--schema-only", "--no-owner",
                "-h", test_db["HOST"] or "127.0.0.1", "-p", str(test_db["PORT"] or 5432),
                "-U", test_db["USER"], test_db["NAME"],
            ],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        subprocess.run(
            [str(pg_bin / "psql"), "-q", "-h", "127.0.0.1", "-p", str(port), "-U", "perfeval",
             "-v", "ON_ERROR_STOP=1", "worker"],
            input=dump.stdout, check=True, capture_output=True, timeout=60,
        )  # fmt: skip

        def restart(down_seconds: float) -> None:
            _pg(*pg_ctl, "-m", "fast", "stop", user_switch=as_pg)
            time.sleep(down_seconds)
            _pg(*pg_ctl, "start", user_switch=as_pg)

        yield f"postgres://perfeval@127.0.0.1:{port}/worker", restart
    finally:
        subprocess.run([*as_pg, *pg_ctl, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)


def _query(url: str, sql: str, *params: object) -> list[tuple]:
    import psycopg  # only on the PostgreSQL run

    with psycopg.connect(url, connect_timeout=5) as conn:
        return conn.execute(sql, params).fetchall()


def _wait_for(check, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = check()
        except Exception:  # noqa: BLE001 - the database is still starting: look again
            found = None
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("timed out")


@pytest.mark.skipif(not _ON_POSTGRES, reason="restarts a real PostgreSQL: the PostgreSQL run")
def test_the_worker_survives_a_postgresql_restart_and_runs_the_next_task(
    throwaway_postgres, tmp_path
):
    url, restart = throwaway_postgres
    env = {**os.environ, "DATABASE_URL": url, "DATABASE_CONN_MAX_AGE": "60"}
    env["WORKER_HEARTBEAT_SECONDS"] = "1"
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "run_worker", "--no-reload", "--interval", "0.2",
         "--no-startup-delay", "--worker-id", "restart-test"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        _wait_for(
            lambda: _query(url, "SELECT 1 FROM exports_workerheartbeat WHERE worker_id = %s",
                           "restart-test")
        )  # fmt: skip
        restart(2)
        marker = tmp_path / "ran.txt"
        now = timezone.now()
        _query(
            url,
            "INSERT INTO django_tasks_database_dbtaskresult (id, status, enqueued_at,"
            " args_kwargs, priority, task_path, worker_ids, queue_name, backend_name,"
            " run_after, exception_class_path, traceback) VALUES (gen_random_uuid(), 'READY',"
            " %s, %s, 0, 'tests.worker_tasks.write_marker', '[]', 'default', 'default', %s,"
            " '', '') RETURNING id",
            now,
            json.dumps({"args": [str(marker), "after the restart"], "kwargs": {}}),
            now,
        )
        # A worker that exited (db_worker does on the restart) fails at once, with its output.
        _wait_for(lambda: marker.exists() or worker.poll() is not None)
        assert worker.poll() is None, worker.stdout.read().decode()
        assert marker.read_text(encoding="utf-8") == "after the restart"
        status = _wait_for(
            lambda: (
                _query(url, "SELECT status FROM django_tasks_database_dbtaskresult")[0][0]
                == "SUCCESSFUL"
            )
        )
        assert status is True
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
