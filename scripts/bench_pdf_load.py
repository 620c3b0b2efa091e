#!/usr/bin/env python
"""Benchmark: concurrent downloads of the densest PDF while /healthz is polled.

Usage: .venv/bin/python scripts/bench_pdf_load.py [--downloads 4] [--forms 1] [--workers 3]
       (PostgreSQL: scripts/with-postgres.sh .venv/bin/python scripts/bench_pdf_load.py)

Builds a throwaway database (SQLite, or DATABASE_URL) and media folder, stores the densest
form the limits allow (``bench_pdf.longest_form`` with short numbers, "1一1一…": 60 rows,
every text at its limit) for one staff user, collects static files and starts gunicorn as
production runs it (gunicorn.conf.py, DJANGO_DEBUG off, WEB_CONCURRENCY=--workers, as
docker-compose.yml) with a ``manage.py db_worker`` beside it, on 127.0.0.1. Then
--downloads browsers, each signed in, ask for the form's PDF at the same moment (uncached:
nothing rendered it before); a browser that gets the waiting page (202) polls its status
URL every second and downloads the PDF when ready, as the page's script does. Meanwhile
/healthz is asked every 100 ms. Prints each download's time (first answer, PDF in hand),
the /healthz latencies (maximum, how many over 1 s), the peak RSS of the gunicorn workers
and of the task worker (sampled every 100 ms), and how many workers gunicorn killed for
their timeout. With --forms N the browsers ask for N different
densest forms (round robin) instead of one. Exit status 1 when /healthz took 1 s or more.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))

from scripts.bench_load import (  # noqa: E402 - after the path is set
    HOST,
    free_port,
    production_env,
    start_server,
    start_worker,
    stop,
)

PASSWORD = "bench-password-1"
USERNAME = "bench-staff"
HEALTHZ_EVERY = 0.1
HEALTHZ_TARGET = 1.0
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def seed(forms: int) -> list[int]:
    """The staff user and ``forms`` densest forms of its department; their ids."""
    from django.contrib.auth import get_user_model

    from departments.models import Department, Membership, Role
    from evaluations.services import evaluation_create
    from scripts.bench_pdf import FILLERS, longest_form

    department = Department.objects.create(name="基准测试部门")
    user = get_user_model().objects.create_user(username=USERNAME, password=PASSWORD)
    Membership.objects.create(user=user, role=Role.STAFF, department=department)
    ids = []
    for number in range(forms):
        form = longest_form(FILLERS["numbers"])
        form.department = department.name
        form.project_name = f"{number}{form.project_name}"[: len(form.project_name)]
        evaluation, _result = evaluation_create(department=department, data=form, user=None)
        ids.append(evaluation.pk)
    return ids


class Browser:
    """One signed-in browser: a cookie jar and an opener that does not follow redirects."""

    def __init__(self, base: str) -> None:
        self.base = base
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = self.get("/accounts/login/")[1].decode()
        token = TOKEN.search(page)
        body = urllib.parse.urlencode(
            {
                "username": USERNAME,
                "password": PASSWORD,
                "csrfmiddlewaretoken": token.group(1) if token else "",
            }
        ).encode()
        request = urllib.request.Request(
            base + "/accounts/login/", data=body, headers={"Referer": base + "/accounts/login/"}
        )
        with self.opener.open(request, timeout=60) as response:
            response.read()
        if not any(cookie.name == "sessionid" for cookie in jar):
            raise SystemExit("could not sign in")

    def get(self, path: str, timeout: float = 600) -> tuple[int, bytes, str]:
        try:
            with self.opener.open(self.base + path, timeout=timeout) as response:
                return response.status, response.read(), response.headers["Content-Type"]
        except urllib.error.HTTPError as error:
            return error.code, error.read(), error.headers["Content-Type"]


def download(browser: Browser, pk: int, started: float) -> dict:
    """Ask for the PDF; on the waiting page, poll its status as its script does.

    A request the server drops (gunicorn kills a worker after its ``timeout``) is recorded
    as such, with the time it took.
    """
    result: dict = {"form": pk, "first_status": "dropped", "pdf": False, "bytes": 0}
    try:
        status, body, kind = browser.get(f"/evaluations/{pk}/pdf/")
        result.update(first_status=status, first_answer_s=time.monotonic() - started)
        while status == 202:
            time.sleep(1)
            if json.loads(browser.get(f"/evaluations/{pk}/pdf/status/")[1]).get("ready"):
                status, body, kind = browser.get(f"/evaluations/{pk}/pdf/")
        result.update(pdf=kind == "application/pdf" and body.startswith(b"%PDF"), bytes=len(body))
    except OSError as error:
        result["error"] = f"{type(error).__name__}: {error}"
    result.setdefault("first_answer_s", time.monotonic() - started)
    result["total_s"] = time.monotonic() - started
    return result


def poll_healthz(base: str, stop_event: threading.Event, latencies: list[float]) -> None:
    """GET /healthz every 100 ms (one at a time) until told to stop."""
    while not stop_event.is_set():
        began = time.monotonic()
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=300) as response:
                response.read()
        except OSError:
            pass
        latencies.append(time.monotonic() - began)
        time.sleep(max(0.0, HEALTHZ_EVERY - (time.monotonic() - began)))


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            if ppid == pid:
                found.append(int(entry.name))
    return found


def status_mb(pid: int, field: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def sample_rss(server: int, worker: int, stop_event: threading.Event, peaks: dict) -> None:
    """Every 100 ms, the largest RSS seen of a gunicorn worker (those gunicorn starts after
    killing one too) and of the task worker, in MB."""
    while not stop_event.is_set():
        for pid in children(server):
            peaks["gunicorn"] = max(peaks["gunicorn"], status_mb(pid, "VmHWM"))
        peaks["db_worker"] = max(peaks["db_worker"], status_mb(worker, "VmHWM"))
        time.sleep(HEALTHZ_EVERY)


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--downloads", type=int, default=4, help="browsers at once")
    parser.add_argument("--forms", type=int, default=1, help="different densest forms")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument(
        "--worker-nice", type=int, default=0, help="CPU niceness of the db_worker (default 0)"
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-pdf-load-"))
    os.environ["DJANGO_DEBUG"] = "1"
    os.environ["DJANGO_VAR_DIR"] = str(work / "var")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    ids = seed(max(1, args.forms))
    database = connection.vendor
    connection.close()

    port = free_port()
    env = production_env(port, str(work / "static"), str(work / "var"), args.workers)
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=BASE,
        env=env,
        capture_output=True,
        text=True,
    )
    if collect.returncode:
        raise SystemExit(collect.stderr)
    server = start_server(env, work / "gunicorn.log", work / "access.log")
    worker = start_worker(env, work / "worker.log", args.worker_nice)
    base = f"http://{HOST}:{port}"
    stop_event = threading.Event()
    try:
        browsers = [Browser(base) for _ in range(args.downloads)]
        # No render before: each process loads the fonts on its first one, as after a deploy.
        idle = {
            "gunicorn": max(status_mb(pid, "VmRSS") for pid in children(server.pid)),
            "db_worker": status_mb(worker.pid, "VmRSS"),
        }
        peaks = dict(idle)
        threading.Thread(
            target=sample_rss, args=(server.pid, worker.pid, stop_event, peaks), daemon=True
        ).start()
        latencies: list[float] = []
        poller = threading.Thread(
            target=poll_healthz, args=(base, stop_event, latencies), daemon=True
        )
        poller.start()
        time.sleep(1)  # /healthz before the downloads: the baseline
        results: list[dict] = [{} for _ in browsers]
        started = time.monotonic()

        def run(index: int) -> None:
            results[index] = download(browsers[index], ids[index % len(ids)], started)

        threads = [
            threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(browsers))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        time.sleep(1)
        stop_event.set()
        poller.join()
    finally:
        stop_event.set()
        stop(worker)
        stop(server)

    print(
        f"{args.downloads} downloads of {len(ids)} densest form(s), uncached; "
        f"{args.workers} gunicorn workers + 1 db_worker (nice {args.worker_nice}); "
        f"{database}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
    )
    for index, result in enumerate(results, start=1):
        print(
            f"download {index} (form {result['form']}): first answer {result['first_status']} "
            f"in {result['first_answer_s']:.2f} s; PDF {'received' if result['pdf'] else 'MISSING'} "
            f"({result['bytes'] / 1e3:.0f} KB) after {result['total_s']:.2f} s"
            + (f" ({result['error']})" if "error" in result else "")
        )
    slow = sum(1 for latency in latencies if latency >= HEALTHZ_TARGET)
    print(
        f"/healthz: {len(latencies)} requests, median {statistics.median(latencies) * 1000:.0f} ms, "
        f"max {max(latencies) * 1000:.0f} ms, {slow} of {HEALTHZ_TARGET:.0f} s or more"
    )
    print(
        f"peak RSS: gunicorn worker {peaks['gunicorn']:.0f} MB (idle {idle['gunicorn']:.0f} MB), "
        f"db_worker {peaks['db_worker']:.0f} MB (idle {idle['db_worker']:.0f} MB)"
    )
    killed = (work / "gunicorn.log").read_text(errors="replace").count("WORKER TIMEOUT")
    print(f"gunicorn workers killed for their timeout (GUNICORN_TIMEOUT): {killed}")
    shutil.rmtree(work, ignore_errors=True)
    ok = slow == 0 and all(result["pdf"] for result in results)
    print(
        f"target: /healthz under {HEALTHZ_TARGET:.0f} s throughout: " + ("met" if ok else "MISSED")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
