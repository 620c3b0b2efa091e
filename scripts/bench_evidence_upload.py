#!/usr/bin/env python
"""Benchmark: peak memory of a gunicorn worker while it receives a 20 MB evidence file.

Usage: .venv/bin/python scripts/bench_evidence_upload.py [--mib 20]

Builds a throwaway SQLite database and media folder (DJANGO_VAR_DIR in a temporary
directory), one department, one staff user and one draft form, then starts gunicorn
(one sync worker, the test settings) on 127.0.0.1. The uploads are streamed from a file
on disk by http.client, so the client holds no copy of the body. Before each upload the
worker's peak RSS is reset (``5`` written to /proc/<pid>/clear_refs) and afterwards read
back (VmHWM in /proc/<pid>/status): first a 1 KB PDF (the baseline), then the big one,
in the same run. The figure reported is each peak above the worker's idle RSS (after a
warm-up request that loads every module the upload needs).
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))
CSRF = "b" * 32  # an unmasked secret: the cookie and the form field carry the same value


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker_of(master: int) -> int:
    for _ in range(100):
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError):
                    continue
                if ppid == master:
                    return int(entry.name)
        time.sleep(0.1)
    raise RuntimeError("no gunicorn worker")


def make_file(path: Path, size: int) -> None:
    with path.open("wb") as f:
        f.write(b"%PDF-1.4\n")
        left = size - 9
        while left > 0:
            chunk = os.urandom(min(left, 1024 * 1024))
            f.write(chunk)
            left -= len(chunk)


def upload(port: int, session: str, pk: int, path: Path) -> tuple[int, str]:
    """POST one file as the upload form does, streamed from disk."""
    boundary = uuid.uuid4().hex
    fields = {
        "csrfmiddlewaretoken": CSRF,
        "back": "edit",
        "evidence-TOTAL_FORMS": "1",
        "evidence-INITIAL_FORMS": "0",
        "evidence-MIN_NUM_FORMS": "0",
        "evidence-MAX_NUM_FORMS": "3",
        "evidence-0-caption": "bench",
        "evidence-0-row": "",
    }
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    )
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="evidence-0-file"; '
        f'filename="{path.name}"\r\nContent-Type: application/pdf\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    length = len(head) + path.stat().st_size + len(tail)

    def body():
        yield head
        with path.open("rb") as f:
            while chunk := f.read(256 * 1024):
                yield chunk
        yield tail

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request(
        "POST",
        f"/evaluations/{pk}/evidence/upload/",
        body=body(),
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(length),
            "Cookie": f"sessionid={session}; csrftoken={CSRF}",
            "Referer": f"http://127.0.0.1:{port}/",
            "Host": f"127.0.0.1:{port}",
        },
    )
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status, response.getheader("Location") or ""


def get(port: int, session: str, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", path, headers={"Cookie": f"sessionid={session}"})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=20)
    args = parser.parse_args()
    var = Path(tempfile.mkdtemp(prefix="bench-evidence-"))
    env = {
        **os.environ,
        "DJANGO_VAR_DIR": str(var),
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
    }
    env.pop("DATABASE_URL", None)
    os.environ.update({k: env[k] for k in ("DJANGO_VAR_DIR", "DJANGO_SETTINGS_MODULE")})
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from departments.models import Department, Membership, Role
    from tests.factories import make_evaluation

    call_command("migrate", verbosity=0)
    department = Department.objects.create(name="基准测试局")
    user = get_user_model().objects.create_user(username="bench", password="bench-pass-1")
    Membership.objects.create(user=user, role=Role.STAFF, department=department)
    evaluation = make_evaluation(department, user)
    client = Client()
    client.force_login(user)
    session = client.cookies["sessionid"].value

    small, big = var / "small.pdf", var / "big.pdf"
    make_file(small, 1024)
    make_file(big, args.mib * 1024 * 1024)

    empty_config = var / "gunicorn.conf.py"
    empty_config.write_text("")
    port = free_port()
    server = subprocess.Popen(
        [
            str(BASE / ".venv" / "bin" / "gunicorn"),
            "--config",
            str(empty_config),  # not gunicorn.conf.py: one worker, quiet
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "120",
            "config.wsgi",
        ],
        cwd=BASE,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        worker = worker_of(server.pid)
        for _ in range(100):
            try:
                get(port, session, "/healthz")
                break
            except OSError:
                time.sleep(0.1)
        # Warm-up: an upload of each size loads every module the path needs.
        assert get(port, session, f"/evaluations/{evaluation.pk}/edit/") == 200
        upload(port, session, evaluation.pk, small)
        idle = status_kb(worker, "VmRSS")
        results = {}
        for label, path in (("1 KB", small), (f"{args.mib} MB", big)):
            reset_peak(worker)
            before = status_kb(worker, "VmRSS")
            started = time.perf_counter()
            status, location = upload(port, session, evaluation.pk, path)
            elapsed = time.perf_counter() - started
            peak = status_kb(worker, "VmHWM")
            results[label] = (status, location, before, peak, elapsed)
        stored = evaluation.evidence.count()
        print(f"worker idle RSS: {idle / 1024:.1f} MB")
        for label, (status, location, _before, peak, elapsed) in results.items():
            print(
                f"{label:>6} upload: HTTP {status} -> {location}; peak RSS {peak / 1024:.1f} MB, "
                f"{(peak - idle) / 1024:+.1f} MB above idle; {elapsed:.2f} s"
            )
        print(f"files stored on the form: {stored} (warm-up, 1 KB and {args.mib} MB)")
        big_row = evaluation.evidence.order_by("-pk").first()
        assert big_row is not None and big_row.size == big.stat().st_size, "big file refused"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    main()
