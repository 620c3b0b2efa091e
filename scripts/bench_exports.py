#!/usr/bin/env python
"""Benchmark the export jobs, the PDF cache and the background render of approved forms.

Usage (PostgreSQL, a throwaway cluster removed afterwards; or SQLite without the wrapper):

    scripts/with-postgres.sh .venv/bin/python scripts/bench_exports.py [--forms 500]
        [--forty-every 10] [--workers 2] [--chunk-size N] [--interval 1]
        [--downloads 500] [--no-one-worker] [--json out.json]

Seeds ``--forms`` forms of one year into a fresh database (the sample forms of
sample_data/ over and over, each with its own project name; every ``--forty-every``-th
form grown to 40 indicators), then, with ``manage.py db_worker`` processes started as
subprocesses in a production environment (DEBUG off):

1. exports them as one merged PDF with ``--workers`` workers, timed from the click
   (``exports.jobs.export_create``) to the file (job DONE), every PDF rendered;
2. the same export again, every PDF cached;
3. the peak memory (VmHWM) of each worker and their CPU seconds;
4. with the PDF cache emptied, the same export with one worker (the speed-up ratio);
5. approves a submitted form, lets the worker run, and checks that the first download is
   served from the cache (nothing rendered in the request);
6. starts gunicorn on 127.0.0.1 and times cached single-form PDF downloads against
   ``/healthz``, interleaved in the same run, with a logged-in session.

Prints the figures and the targets (500 forms: two workers < 75 s, cached < 10 s, each
worker < 300 MB; cached download median < 20 ms and < 3x /healthz); exits 1 when one is
missed. Only ever talks to 127.0.0.1.

``--flood N`` measures instead what one user's flood of exports costs everyone else:

    scripts/with-postgres.sh .venv/bin/python scripts/bench_exports.py --flood 20 \
        --forms 40 --evidence-kb 1024 [--flood-params identical|varied]

Seeds ``--forms`` forms, each with an evidence file of ``--evidence-kb`` and half of them
also with one shared file (the same contract uploaded to every form), times another user's
Excel export of the year alone, then posts ``N`` ZIP exports in a row as one user through the
export page (``--flood-params identical``: the same request each time; ``varied``: the
format and state filter change between posts) followed at once by the other user's Excel
export, with ``--workers`` workers. Prints how many of the posts made a job, were answered
with an existing job or refused, how long the Excel export waited and took, and the bytes
the flooding user keeps once everything has finished.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))
HOST = "127.0.0.1"
YEAR = 2021

EXPORT_TARGET = 75.0
CACHED_TARGET = 10.0
MEMORY_TARGET_MB = 300.0
DOWNLOAD_TARGET_MS = 20.0
DOWNLOAD_RATIO_TARGET = 3.0


# --- environment ---------------------------------------------------------------------------


def production_env(var_dir: str, args: argparse.Namespace) -> dict[str, str]:
    """The environment of this process, the workers and gunicorn: DEBUG off, loopback only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": HOST,
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DJANGO_SESSION_COOKIE_SECURE": "0",
            "DJANGO_CSRF_COOKIE_SECURE": "0",
            "DJANGO_VAR_DIR": var_dir,
            "DJANGO_STATIC_ROOT": str(Path(var_dir) / "static"),
            "DJANGO_LOG_LEVEL": "WARNING",
            "TASKS_BACKEND": "db",
        }
    )
    if args.chunk_size:
        env["EXPORT_CHUNK_SIZE"] = str(args.chunk_size)
    if not args.flood:
        # The same export is timed twice (nothing cached, then cached): never answered with
        # the first run's file.
        env["EXPORT_REUSE_SECONDS"] = "0"
    return env


# --- seeding -------------------------------------------------------------------------------


def _forty(form: Any, serial: int) -> Any:
    """The form grown to 40 indicators: each row repeated in place, weights 90 / 40."""
    from evaluations.core.evaluation_data import IndicatorData

    rows: list[IndicatorData] = []
    source = form.indicators
    repeat = -(-40 // len(source))
    for ind in source:
        for k in range(repeat):
            rows.append(
                dataclasses.replace(
                    ind,
                    name=f"{ind.name}（{k + 1}）" if k else ind.name,
                    weight=Decimal("2.25"),
                    score=Decimal("2.25"),
                )
            )
    return dataclasses.replace(form, indicators=rows[:40], stated_total=Decimal(100))


def seed(forms: int, forty_every: int) -> dict[str, Any]:
    """Store ``forms`` forms of YEAR through the service; a finance user; statuses mixed."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from departments.models import Department, Membership, Role
    from evaluations.importer.text import parse_text
    from evaluations.models import Evaluation, Status
    from evaluations.services import evaluation_create

    samples = []
    for path in sorted((BASE / "sample_data").glob("*.txt")):
        samples.extend(parse_text(path.read_bytes()).forms)
    departments: dict[str, Department] = {}
    # Most forms of a year are approved when the bureau exports them; some are still open.
    statuses = [Status.APPROVED] * 6 + [Status.SUBMITTED] * 3 + [Status.DRAFT]
    now = timezone.now()
    forty = 0
    for n in range(forms):
        sample = samples[n % len(samples)]
        form = dataclasses.replace(
            sample,
            year=YEAR,
            project_name=f"{sample.project_name}（第{n // len(samples) + 1}批）",
        )
        if forty_every and n % forty_every == forty_every - 1:
            form = _forty(form, n)
            forty += 1
        department = departments.get(form.department)
        if department is None:
            department = departments[form.department] = Department.objects.create(
                name=form.department
            )
        evaluation, _result = evaluation_create(department=department, data=form, user=None)
        status = statuses[n % len(statuses)]
        if status != Status.DRAFT:
            # Set directly: the approval transition would queue a background render.
            Evaluation.objects.filter(pk=evaluation.pk).update(
                status=status,
                submitted_at=now,
                approved_at=now if status == Status.APPROVED else None,
            )
    user = get_user_model().objects.create_user(username="bench-finance", password=None)
    Membership.objects.create(user=user, role=Role.FINANCE, department=None)
    return {"user": user, "forty": forty, "departments": len(departments)}


# --- processes -----------------------------------------------------------------------------


def _proc_status(pid: int) -> dict[str, str]:
    found = {}
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            key, _sep, value = line.partition(":")
            found[key] = value.strip()
    return found


def peak_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM) in MB."""
    return int(_proc_status(pid)["VmHWM"].split()[0]) / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Workers:
    """``manage.py db_worker`` subprocesses."""

    def __init__(self, count: int, env: dict[str, str], interval: float, log: Path) -> None:
        self.processes = [
            subprocess.Popen(
                [
                    sys.executable,
                    "manage.py",
                    "db_worker",
                    "--no-reload",
                    "--interval",
                    str(interval),
                    "--worker-id",
                    f"bench-{n + 1}-{secrets.token_hex(3)}",
                ],
                cwd=BASE,
                env=env,
                stdout=log.open("ab"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            for n in range(count)
        ]

    def check(self) -> None:
        for process in self.processes:
            if process.poll() is not None:
                raise SystemExit(f"a worker exited ({process.returncode}); see the worker log")

    def peaks(self) -> list[float]:
        return [peak_mb(process.pid) for process in self.processes]

    def cpu(self) -> list[float]:
        return [cpu_seconds(process.pid) for process in self.processes]

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_gunicorn(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    import requests

    env = {**env, "HOST": HOST, "PORT": str(port), "WEB_CONCURRENCY": "2"}
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "config.wsgi", "-c", "gunicorn.conf.py"],
        cwd=BASE,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited; see {log}")
        try:
            if requests.get(f"http://{HOST}:{port}/healthz", timeout=2).status_code == 200:
                return server
        except requests.RequestException:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("gunicorn did not answer /healthz within 60 s")


# --- the export runs -----------------------------------------------------------------------


def drop_cache() -> None:
    from django.conf import settings

    from exports.pdfcache import CACHE_DIR

    shutil.rmtree(Path(settings.MEDIA_ROOT) / CACHE_DIR, ignore_errors=True)


def run_export(user: Any, workers: Workers, timeout: float) -> dict[str, Any]:
    """One merged-PDF export of the year, from the click to the stored file."""
    from exports import jobs
    from exports.models import ExportJob, State

    cpu_before = workers.cpu()
    started = time.perf_counter()
    job = jobs.export_create(user=user, year=YEAR, format="pdf")
    rendered_at = None
    while True:
        row = ExportJob.objects.filter(pk=job.pk).values("state", "done", "total").get()
        now = time.perf_counter()
        if rendered_at is None and row["done"] >= row["total"]:
            rendered_at = now
        if row["state"] not in (State.QUEUED, State.RUNNING):
            break
        if now - started > timeout:
            raise SystemExit(f"export {job.pk} still {row['state']} after {timeout:.0f} s")
        workers.check()
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    rendered = rendered_at or started + elapsed
    job.refresh_from_db()
    if job.state != State.DONE:
        raise SystemExit(f"export {job.pk} ended {job.state}: {job.message}")
    return {
        "seconds": round(elapsed, 2),
        "render_seconds": round(rendered - started, 2),
        "assemble_seconds": round(started + elapsed - rendered, 2),
        "forms": job.total,
        "chunks": job.chunks.count(),
        "size_mb": round(job.size / 1e6, 1),
        "worker_cpu_seconds": [
            round(after - before, 1)
            for before, after in zip(cpu_before, workers.cpu(), strict=True)
        ],
        "job": job,
    }


def check_merged(job: Any) -> dict[str, int]:
    """Pages, outline entries and page-label ranges of the merged file."""
    from pypdf import PdfReader

    from exports.jobs import export_file_open

    with export_file_open(job) as handle:
        reader = PdfReader(BytesIO(handle.read()))
    labels = reader.trailer["/Root"]["/PageLabels"]["/Nums"]
    return {
        "pages": len(reader.pages),
        "outline": len(reader.outline),
        "label_ranges": len(labels) // 2,
    }


def _describe(label: str, run: dict[str, Any]) -> None:
    cpu = " + ".join(f"{c:.1f}" for c in run["worker_cpu_seconds"])
    print(
        f"{label}: {run['forms']} forms in {run['seconds']:.1f} s "
        f"(rendering {run['render_seconds']:.1f} s, assembling {run['assemble_seconds']:.1f} s; "
        f"{run['chunks']} chunks; worker CPU {cpu} s; {run['size_mb']} MB)"
    )


# --- approval and downloads ----------------------------------------------------------------


def approve_in_background(user: Any, workers: Workers) -> dict[str, Any]:
    """Approve a submitted form; the worker renders it; is the first download a cache hit?"""
    from django.core.files.storage import default_storage
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from evaluations.models import Evaluation, Status
    from evaluations.workflow import evaluation_approve
    from exports.pdfcache import cached_pdf_name

    evaluation = (
        Evaluation.objects.filter(year=YEAR, status=Status.SUBMITTED)
        .select_related("department")
        .order_by("pk")
        .first()
    )
    assert evaluation is not None
    started = time.perf_counter()
    evaluation_approve(evaluation=evaluation, user=user)
    approve_seconds = time.perf_counter() - started
    evaluation = Evaluation.objects.select_related("department").get(pk=evaluation.pk)
    task = None
    while time.perf_counter() - started < 60:
        workers.check()
        task = (
            DBTaskResult.objects.filter(task_path__endswith="render_pdf")
            .order_by("-enqueued_at")
            .first()
        )
        if task is not None and task.status in (
            TaskResultStatus.SUCCESSFUL,
            TaskResultStatus.FAILED,
        ):
            break
        time.sleep(0.02)
    rendered_seconds = time.perf_counter() - started
    assert task is not None and task.status == TaskResultStatus.SUCCESSFUL, task
    name = cached_pdf_name(evaluation, render=False)
    assert name is not None, "the worker did not store the approved form's PDF"
    path = Path(default_storage.path(name))
    return {
        "evaluation": evaluation.pk,
        "name": name,
        "mtime_ns": path.stat().st_mtime_ns,
        "approve_ms": round(approve_seconds * 1000, 1),
        "cached_after_s": round(rendered_seconds, 2),
    }


def login_session(user: Any, port: int) -> Any:
    """A requests session carrying a Django session of ``user`` (as ``Client.force_login``)."""
    import requests
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    session = requests.Session()
    session.cookies.set("sessionid", store.session_key, domain=HOST, path="/")
    return session


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))]


def _timed_get(session: Any, url: str) -> tuple[float, Any]:
    started = time.perf_counter()
    response = session.get(url, timeout=60)
    _ = response.content
    return time.perf_counter() - started, response


def downloads(user: Any, port: int, approved: dict[str, Any], repetitions: int) -> dict[str, Any]:
    """The approved form's first download, then cached downloads against /healthz."""
    from django.conf import settings
    from django.core.files.storage import default_storage

    from evaluations.models import Evaluation, Status
    from exports.pdfcache import CACHE_DIR

    session = login_session(user, port)
    root = f"http://{HOST}:{port}"
    ids = list(
        Evaluation.objects.filter(year=YEAR, status=Status.APPROVED)
        .exclude(pk=approved["evaluation"])
        .order_by("pk")
        .values_list("pk", flat=True)[:50]
    )
    # Warm both gunicorn workers (imports, first connection, the layout fingerprint) on
    # other forms before any figure.
    for n in range(20):
        session.get(f"{root}/healthz", timeout=60)
        session.get(f"{root}/evaluations/{ids[n % len(ids)]}/pdf/", timeout=60)

    # 1. The first download of the form approved above: served from the cache.
    folder = Path(settings.MEDIA_ROOT) / CACHE_DIR / str(approved["evaluation"])
    before = sorted(p.name for p in folder.iterdir())
    first, response = _timed_get(session, f"{root}/evaluations/{approved['evaluation']}/pdf/")
    stored = default_storage.open(approved["name"], "rb").read()
    after = sorted(p.name for p in folder.iterdir())
    unchanged = (
        response.status_code == 200
        and response.content == stored
        and before == after
        and Path(default_storage.path(approved["name"])).stat().st_mtime_ns == approved["mtime_ns"]
    )

    # 2. Cached downloads of approved forms, /healthz interleaved as the baseline.
    for pk in ids:  # every one cached (the exports above stored them)
        assert session.get(f"{root}/evaluations/{pk}/pdf/", timeout=60).status_code == 200
    pdf_times, health_times = [], []
    for n in range(repetitions):
        seconds, response = _timed_get(session, f"{root}/healthz")
        assert response.status_code == 200
        health_times.append(seconds)
        seconds, response = _timed_get(session, f"{root}/evaluations/{ids[n % len(ids)]}/pdf/")
        assert response.status_code == 200 and response.content.startswith(b"%PDF")
        pdf_times.append(seconds)

    # 3. For contrast: a download that has to render (the cache of a few forms dropped).
    render_times = []
    for pk in ids[:10]:
        shutil.rmtree(folder.parent / str(pk), ignore_errors=True)
        seconds, response = _timed_get(session, f"{root}/evaluations/{pk}/pdf/")
        assert response.status_code == 200
        render_times.append(seconds)

    ms = 1000
    return {
        "first_download_ms": round(first * ms, 1),
        "first_download_from_cache": unchanged,
        "pdf_median_ms": round(statistics.median(pdf_times) * ms, 1),
        "pdf_p95_ms": round(percentile(pdf_times, 0.95) * ms, 1),
        "healthz_median_ms": round(statistics.median(health_times) * ms, 1),
        "healthz_p95_ms": round(percentile(health_times, 0.95) * ms, 1),
        "ratio": round(statistics.median(pdf_times) / statistics.median(health_times), 2),
        "rendering_download_median_ms": round(statistics.median(render_times) * ms, 1),
        "repetitions": repetitions,
        "pdf_kb": round(len(stored) / 1e3),
    }


# --- one user's flood of exports -----------------------------------------------------------


def add_evidence(kb: int) -> dict[str, int]:
    """Give every form of YEAR one file of its own, and every second form one shared file."""
    import hashlib

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.db.models import Sum

    from evaluations.models import Evaluation
    from evidence.models import EvidenceFile

    shared = secrets.token_bytes(kb * 1024)
    shared_hash = hashlib.sha256(shared).hexdigest()
    files = 0
    for n, evaluation in enumerate(Evaluation.objects.filter(year=YEAR).order_by("pk")):
        own = secrets.token_bytes(kb * 1024)
        contents = [("验收报告.pdf", own, hashlib.sha256(own).hexdigest())]
        if n % 2 == 0:
            contents.append(("合同.pdf", shared, shared_hash))
        for name, data, digest in contents:
            stored = default_storage.save(
                f"evidence/{evaluation.pk}/{secrets.token_hex(16)}", ContentFile(data)
            )
            EvidenceFile.objects.create(
                evaluation=evaluation,
                original_name=name,
                size=len(data),
                kind="pdf",
                sha256=digest,
                stored_name=stored,
            )
            files += 1
    return {"files": files, "bytes": EvidenceFile.objects.aggregate(s=Sum("size"))["s"]}


def web_client(user: Any) -> Any:
    """A Django test client signed in as ``user``, talking to the app in this process."""
    from django.test import Client

    client = Client(SERVER_NAME=HOST)
    client.force_login(user)
    return client


def post_export(client: Any, data: dict[str, str]) -> tuple[str, int | None]:
    """POST /exports/: ("created" | "reused" | "refused", job id)."""
    from exports.models import ExportJob

    before = ExportJob.objects.count()
    response = client.post("/exports/", data)
    if response.status_code != 302:
        return "refused", None
    job_id = int(response["Location"].rstrip("/").split("/")[-1])
    return ("created" if ExportJob.objects.count() > before else "reused"), job_id


def wait_done(job_ids: list[int], workers: Workers, timeout: float) -> dict[int, float]:
    """Wait until every job has ended; the moment (perf_counter) each one did."""
    from exports.models import ExportJob, State

    ended: dict[int, float] = {}
    started = time.perf_counter()
    while len(ended) < len(set(job_ids)):
        states = dict(ExportJob.objects.filter(pk__in=job_ids).values_list("pk", "state"))
        now = time.perf_counter()
        for pk, state in states.items():
            if pk not in ended and state not in (State.QUEUED, State.RUNNING):
                ended[pk] = now
        if now - started > timeout:
            raise SystemExit(f"exports still running after {timeout:.0f} s")
        workers.check()
        time.sleep(0.05)
    return ended


def forget(job_id: int) -> None:
    """Delete a job and its file (the runs before the flood are not part of its figures)."""
    from django.core.files.storage import default_storage

    from exports.models import ExportJob

    job = ExportJob.objects.get(pk=job_id)
    if job.file:
        default_storage.delete(job.file)
    job.delete()


def bytes_on_disk(user: Any) -> int:
    from django.conf import settings

    folder = Path(settings.MEDIA_ROOT) / "exports" / str(user.pk)
    return sum(p.stat().st_size for p in folder.glob("*") if p.is_file())


def flood(args: argparse.Namespace, env: dict[str, str]) -> int:
    """One user posts ``args.flood`` ZIP exports; how long does another's Excel export wait?"""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from departments.models import Membership, Role
    from exports.models import ExportJob, State

    # The export page is rendered (a refusal shows the form again): DEBUG is off here.
    call_command("collectstatic", interactive=False, verbosity=0)
    seeded = seed(args.forms, 0)
    other = seeded["user"]
    evidence = add_evidence(args.evidence_kb)
    flooder = get_user_model().objects.create_user(username="bench-flood", password=None)
    Membership.objects.create(user=flooder, role=Role.FINANCE, department=None)
    print(
        f"seeded {args.forms} forms, {evidence['files']} evidence files "
        f"({evidence['bytes'] / 1e6:.1f} MB); {args.workers} workers, --interval {args.interval}"
    )
    log = Path(env["DJANGO_VAR_DIR"]) / "processes.log"
    workers = Workers(args.workers, env, args.interval, log)
    results: dict[str, Any] = {"forms": args.forms, "evidence": evidence, "posts": args.flood}
    try:
        time.sleep(1.5)
        finance = web_client(other)
        # The Excel export alone (the PDF cache filled by a first ZIP, as after the flood).
        _kind, warm = post_export(web_client(flooder), {"year": YEAR, "format": "zip"})
        wait_done([warm], workers, 900)
        forget(warm)
        started = time.perf_counter()
        _kind, alone = post_export(finance, {"year": YEAR, "format": "xlsx"})
        ended = wait_done([alone], workers, 900)
        results["excel_alone_s"] = round(ended[alone] - started, 2)
        forget(alone)
        print(f"another user's Excel export alone: {results['excel_alone_s']:.1f} s")

        client = web_client(flooder)
        variants = [
            {"format": fmt, "status": status}
            for status in ("", "approved", "submitted")
            for fmt in ("zip", "pdf")
        ]
        answers: list[tuple[str, int | None]] = []
        started = time.perf_counter()
        for n in range(args.flood):
            params = (
                variants[n % len(variants)]
                if args.flood_params == "varied"
                else {
                    "format": "zip",
                    "status": "",
                }
            )
            answers.append(post_export(client, {"year": str(YEAR), **params}))
        posted = time.perf_counter() - started
        excel_at = time.perf_counter()
        _kind, excel = post_export(finance, {"year": str(YEAR), "format": "xlsx"})
        ended = wait_done([excel], workers, 1800)
        excel_job = ExportJob.objects.get(pk=excel)
        flood_ids = [pk for _kind, pk in answers if pk is not None]
        wait_done(flood_ids, workers, 3600)
        flood_ended = time.perf_counter()
        counts = {
            kind: sum(1 for k, _pk in answers if k == kind)
            for kind in ("created", "reused", "refused")
        }
        jobs_of_flooder = ExportJob.objects.filter(user=flooder)
        kept = jobs_of_flooder.filter(state=State.DONE)
        results.update(
            {
                "flood_params": args.flood_params,
                "posting_s": round(posted, 2),
                "answers": counts,
                "jobs_created": jobs_of_flooder.count(),
                "jobs_done": kept.count(),
                "jobs_expired": jobs_of_flooder.filter(state=State.EXPIRED).count(),
                "bytes_written": sum(jobs_of_flooder.values_list("size", flat=True)),
                "bytes_kept": bytes_on_disk(flooder),
                "excel_wait_s": round(ended[excel] - excel_at, 2),
                "excel_started_after_s": round(
                    (excel_job.started_at - excel_job.created_at).total_seconds(), 2
                )
                if excel_job.started_at
                else None,
                "flood_finished_s": round(flood_ended - started, 1),
            }
        )
    finally:
        workers.stop()
    print(
        f"{args.flood} ZIP export posts ({args.flood_params}) by one user in "
        f"{results['posting_s']:.1f} s: {counts['created']} created a job, "
        f"{counts['reused']} were answered with an existing job, {counts['refused']} refused"
    )
    print(
        f"  jobs: {results['jobs_created']} made, {results['jobs_done']} done, "
        f"{results['jobs_expired']} expired by the per-user bound; written "
        f"{results['bytes_written'] / 1e6:.0f} MB, kept {results['bytes_kept'] / 1e6:.0f} MB; "
        f"the flood finished after {results['flood_finished_s']:.0f} s"
    )
    print(
        f"another user's Excel export posted right after: done in {results['excel_wait_s']:.1f} s "
        f"(started {results['excel_started_after_s']} s after its post; alone "
        f"{results['excel_alone_s']:.1f} s)"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    return 0


# --- main ----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forms", type=int, default=500)
    parser.add_argument("--forty-every", type=int, default=10, help="every Nth form: 40 rows")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--chunk-size", type=int, default=0, help="EXPORT_CHUNK_SIZE (default: settings)"
    )
    parser.add_argument("--interval", type=float, default=1.0, help="db_worker --interval")
    parser.add_argument("--downloads", type=int, default=500, help="cached downloads timed")
    parser.add_argument(
        "--no-one-worker", action="store_true", help="skip the one-worker run (the ratio)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument(
        "--flood", type=int, default=0, help="N: one user posts N ZIP exports (see above)"
    )
    parser.add_argument("--evidence-kb", type=int, default=1024, help="--flood: file size")
    parser.add_argument("--flood-params", choices=("identical", "varied"), default="identical")
    args = parser.parse_args()

    var_dir = tempfile.mkdtemp(prefix="bench-exports-")
    env = production_env(var_dir, args)
    os.environ.update(env)
    for key in [k for k in os.environ if k.startswith("DJANGO_") and k not in env]:
        del os.environ[key]
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    log = Path(var_dir) / "processes.log"
    database = connection.vendor
    print(
        f"database: {database}; {os.cpu_count()} CPUs; load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; logs in {log}"
    )
    call_command("migrate", verbosity=0)
    if args.flood:
        try:
            return flood(args, env)
        finally:
            if not args.keep:
                shutil.rmtree(var_dir, ignore_errors=True)
    started = time.perf_counter()
    seeded = seed(args.forms, args.forty_every)
    user = seeded["user"]
    print(
        f"seeded {args.forms} forms ({seeded['forty']} of 40 indicators, the rest 7-15) in "
        f"{seeded['departments']} departments in {time.perf_counter() - started:.0f} s; "
        f"chunk size {settings.EXPORT_CHUNK_SIZE}, worker --interval {args.interval}"
    )
    results: dict[str, Any] = {
        "database": database,
        "forms": args.forms,
        "forty": seeded["forty"],
        "workers": args.workers,
        "chunk_size": settings.EXPORT_CHUNK_SIZE,
        "interval": args.interval,
    }
    timeout = 900.0
    gunicorn = None
    workers = Workers(args.workers, env, args.interval, log)
    try:
        time.sleep(1.5)  # the workers' start-up (Django, WeasyPrint imports), as in service
        cold = run_export(user, workers, timeout)
        _describe(f"merged PDF, {args.workers} workers, nothing cached", cold)
        merged = check_merged(cold.pop("job"))
        print(
            f"  file: {merged['pages']} pages, {merged['outline']} outline entries, "
            f"{merged['label_ranges']} page-label ranges"
        )
        warm = run_export(user, workers, timeout)
        warm.pop("job")
        _describe(f"merged PDF, {args.workers} workers, every PDF cached", warm)
        peaks = workers.peaks()
        print("  worker peak RSS (VmHWM): " + ", ".join(f"{p:.0f} MB" for p in peaks))
        workers.stop()
        results.update({"cold": cold, "warm": warm, "merged": merged, "peak_mb": peaks})

        if not args.no_one_worker:
            drop_cache()
            workers = Workers(1, env, args.interval, log)
            time.sleep(1.5)
            single = run_export(user, workers, timeout)
            single.pop("job")
            _describe("merged PDF, 1 worker, nothing cached", single)
            single["peak_mb"] = workers.peaks()
            results["one_worker"] = single
            results["speedup"] = round(single["seconds"] / cold["seconds"], 2)
            print(
                f"  speed-up of {args.workers} workers over 1: {results['speedup']:.2f}x; "
                f"1 worker peak RSS {single['peak_mb'][0]:.0f} MB"
            )
        else:
            workers = Workers(1, env, args.interval, log)

        approved = approve_in_background(user, workers)
        print(
            f"approval of evaluation {approved['evaluation']}: approve call "
            f"{approved['approve_ms']:.0f} ms, PDF in the cache {approved['cached_after_s']:.2f} s "
            "after the click (rendered by the worker)"
        )
        workers.stop()

        port = free_port()
        gunicorn = start_gunicorn(env, port, log)
        got = downloads(user, port, approved, args.downloads)
        results["approve"] = approved
        results["downloads"] = got
        print(
            f"  its first download: {got['first_download_ms']:.1f} ms, "
            + (
                "served from the cache (same bytes, nothing rendered or stored)"
                if got["first_download_from_cache"]
                else "NOT a cache hit"
            )
        )
        print(
            f"cached PDF download ({got['pdf_kb']} KB), {got['repetitions']} requests: median "
            f"{got['pdf_median_ms']} ms, p95 {got['pdf_p95_ms']} ms; /healthz median "
            f"{got['healthz_median_ms']} ms, p95 {got['healthz_p95_ms']} ms; "
            f"ratio {got['ratio']}x; a download that renders: median "
            f"{got['rendering_download_median_ms']} ms"
        )
    finally:
        workers.stop()
        if gunicorn is not None:
            os.killpg(gunicorn.pid, signal.SIGTERM)
            gunicorn.wait(timeout=30)

    checks = {
        f"{args.workers} workers < {EXPORT_TARGET:.0f} s": results["cold"]["seconds"]
        < EXPORT_TARGET,
        f"cached < {CACHED_TARGET:.0f} s": results["warm"]["seconds"] < CACHED_TARGET,
        f"each worker < {MEMORY_TARGET_MB:.0f} MB": max(results["peak_mb"]) < MEMORY_TARGET_MB,
        f"cached download median < {DOWNLOAD_TARGET_MS:.0f} ms": results["downloads"][
            "pdf_median_ms"
        ]
        < DOWNLOAD_TARGET_MS,
        f"cached download < {DOWNLOAD_RATIO_TARGET:.0f}x /healthz": results["downloads"]["ratio"]
        < DOWNLOAD_RATIO_TARGET,
        "first download after approval from the cache": results["downloads"][
            "first_download_from_cache"
        ],
        "merged file: one outline entry and page-label range per form": results["merged"]["outline"]
        == results["merged"]["label_ranges"]
        == args.forms,
    }
    if args.forms != 500:
        print("(targets are for 500 forms)")
    for name, ok in checks.items():
        print(f"target {name}: {'met' if ok else 'MISSED'}")
    results["targets"] = checks
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    if not args.keep:
        shutil.rmtree(var_dir, ignore_errors=True)
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
