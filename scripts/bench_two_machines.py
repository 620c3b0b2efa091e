#!/usr/bin/env python
"""Two machines simulated on one: a web server and a task worker sharing only PostgreSQL,
Redis and an S3 bucket; a user's evidence, approvals and year's ZIP go through all three.

Usage (throwaway PostgreSQL, Redis and S3 server, removed afterwards):

    scripts/with-postgres.sh scripts/with-redis.sh scripts/with-s3.sh \\
        .venv/bin/python scripts/bench_two_machines.py [--forms 8] [--evidence-kb 300]

"Machine" web runs gunicorn, "machine" worker runs ``manage.py rqworker``; each has its own
DJANGO_VAR_DIR (so its own MEDIA_ROOT, lock folder and static files) and its own TMPDIR, and
neither can read the other's. Seeded into the database: ``--forms`` draft forms of one
department (the sample forms of sample_data/), a member of the department and a finance
bureau user, both with passwords. Then, over HTTP with real sign-ins (CSRF included):

1. the member uploads one PDF of ``--evidence-kb`` to each form (web writes to the bucket);
2. the forms are handed in (set in the database: the submission is not what is measured);
3. the bureau user approves each form (web queues a background render; the worker renders
   the PDF into the bucket), and waits until every form's PDF is ready;
4. the bureau user exports the year as a ZIP (the worker reads the cached PDFs and the
   evidence from the bucket and writes the ZIP there) and downloads it (web streams it from
   the bucket).

Checks that the ZIP holds every form's PDF and every evidence file byte for byte, and that
no stored file was written into either machine's MEDIA_ROOT; prints the timings. Exits 1
when a check fails. Only ever talks to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from io import BytesIO
from pathlib import Path
from typing import Any

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))
HOST = "127.0.0.1"
YEAR = 2021
PASSWORD = "two-machines-" + secrets.token_hex(8)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def machine_env(root: Path, secret: str, port: int) -> dict[str, str]:
    """One machine's environment: production settings, its own folders, the shared services."""
    for folder in ("var", "tmp", "static"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update({k: v for k, v in os.environ.items() if k.startswith("DJANGO_S3_")})
    env.update(
        {
            "DJANGO_SECRET_KEY": secret,
            "DJANGO_ALLOWED_HOSTS": HOST,
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            # Plain HTTP on loopback: the Secure flag would drop the cookies.
            "DJANGO_SESSION_COOKIE_SECURE": "0",
            "DJANGO_CSRF_COOKIE_SECURE": "0",
            "DJANGO_VAR_DIR": str(root / "var"),
            "DJANGO_STATIC_ROOT": str(root / "static"),
            "DJANGO_LOG_LEVEL": "WARNING",
            "TMPDIR": str(root / "tmp"),
            "TASKS_BACKEND": "rq",
            "HOST": HOST,
            "PORT": str(port),
            "WEB_CONCURRENCY": "2",
        }
    )
    return env


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        command,
        cwd=BASE,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def seed(forms: int) -> dict[str, Any]:
    """Draft forms of one department, its member and a bureau user (with passwords)."""
    from django.contrib.auth import get_user_model

    from departments.models import Department, Membership, Role
    from evaluations.importer.text import parse_text
    from evaluations.services import evaluation_create

    samples = []
    for path in sorted((BASE / "sample_data").glob("*.txt")):
        samples.extend(parse_text(path.read_bytes()).forms)
    department = Department.objects.create(name="两机演练局")
    ids = []
    for n in range(forms):
        sample = samples[n % len(samples)]
        data = dataclasses.replace(
            sample,
            year=YEAR,
            project_name=f"{sample.project_name}（两机{n + 1}）",
            department=department.name,
        )
        evaluation, _result = evaluation_create(department=department, data=data, user=None)
        ids.append(evaluation.pk)
    users = get_user_model().objects
    member = users.create_user(username="two-member", password=PASSWORD)
    Membership.objects.create(user=member, role=Role.STAFF, department=department)
    bureau = users.create_user(username="two-bureau", password=PASSWORD)
    Membership.objects.create(user=bureau, role=Role.FINANCE, department=None)
    return {"ids": ids, "department": department}


def evidence_pdf(n: int, size: int) -> bytes:
    """A small valid PDF padded with a comment to ``size`` bytes, different for each form."""
    body = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n"
    )
    padding = max(0, size - len(body) - 20)
    return body + b"%" + (f"{n:08d}".encode() * (padding // 8 + 1))[:padding] + b"\n%%EOF\n"


class User:
    """A signed-in browser: cookies, the CSRF token, timed requests."""

    def __init__(self, base: str, username: str) -> None:
        import requests

        self.base = base
        self.session = requests.Session()
        self.session.headers["Referer"] = base + "/"
        page = self.session.get(f"{base}/accounts/login/", timeout=60)
        page.raise_for_status()
        response = self.session.post(
            f"{base}/accounts/login/",
            data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": self.csrf},
            timeout=60,
            allow_redirects=False,
        )
        if response.status_code != 302:
            raise SystemExit(f"{username} could not sign in ({response.status_code})")

    @property
    def csrf(self) -> str:
        return self.session.cookies.get("csrftoken", "")

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.session.get(self.base + path, timeout=120, **kwargs)

    def post(self, path: str, data: dict, **kwargs: Any) -> Any:
        data = {**data, "csrfmiddlewaretoken": self.csrf}
        return self.session.post(self.base + path, data=data, timeout=120, **kwargs)


def timed(function: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def local_files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--forms", type=int, default=8)
    parser.add_argument("--evidence-kb", type=int, default=300)
    parser.add_argument("--keep", action="store_true", help="keep the machines' folders")
    args = parser.parse_args()
    for name in ("DATABASE_URL", "REDIS_URL", "DJANGO_S3_BUCKET"):
        if not os.environ.get(name):
            raise SystemExit(
                f"{name} is not set: run under scripts/with-postgres.sh scripts/with-redis.sh "
                "scripts/with-s3.sh (see the docstring)."
            )

    work = Path(tempfile.mkdtemp(prefix="two-machines-"))
    secret = secrets.token_urlsafe(50)
    port = free_port()
    web_root, worker_root = work / "web", work / "worker"
    web_env = machine_env(web_root, secret, port)
    worker_env = machine_env(worker_root, secret, port)

    # This process is the administrator's shell: migrations and seeding, on neither machine.
    os.environ.update({k: v for k, v in web_env.items() if k != "DJANGO_VAR_DIR"})
    os.environ["DJANGO_VAR_DIR"] = str(work / "admin")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    seeded = seed(args.forms)
    ids = seeded["ids"]
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=BASE,
        env=web_env,
        check=True,
    )

    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    web = start([gunicorn, "config.wsgi", "-c", "gunicorn.conf.py"], web_env, web_root / "web.log")
    worker = start(
        [sys.executable, "manage.py", "rqworker", "--job-class", "django_tasks_rq.Job", "default"],
        worker_env,
        worker_root / "worker.log",
    )
    base = f"http://{HOST}:{port}"
    failures: list[str] = []
    try:
        import requests

        deadline = time.monotonic() + 90
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if web.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the web server did not start; see {web_root / 'web.log'}")
            time.sleep(0.3)

        member = User(base, "two-member")
        bureau = User(base, "two-bureau")

        # 1. Evidence, uploaded on the web machine.
        uploaded: dict[str, str] = {}
        upload_times = []
        for n, pk in enumerate(ids):
            content = evidence_pdf(n, args.evidence_kb * 1024)
            name = f"验收报告{n + 1}.pdf"
            seconds, response = timed(
                lambda pk=pk, name=name, content=content: member.session.post(
                    f"{base}/evaluations/{pk}/evidence/upload/",
                    data={
                        "back": "edit",
                        "evidence-TOTAL_FORMS": "1",
                        "evidence-INITIAL_FORMS": "0",
                        "evidence-MIN_NUM_FORMS": "0",
                        "evidence-MAX_NUM_FORMS": "3",
                        "evidence-0-caption": "",
                        "evidence-0-row": "",
                        "csrfmiddlewaretoken": member.csrf,
                    },
                    files={"evidence-0-file": (name, content, "application/pdf")},
                    timeout=120,
                    allow_redirects=False,
                )
            )
            if response.status_code != 302:
                failures.append(f"upload to form {pk}: HTTP {response.status_code}")
            upload_times.append(seconds)
            uploaded[name] = hashlib.sha256(content).hexdigest()

        # 2. Handed in (not measured).
        from django.utils import timezone

        from evaluations.models import Evaluation, Status

        Evaluation.objects.filter(pk__in=ids).update(
            status=Status.SUBMITTED, submitted_at=timezone.now()
        )

        # 3. Approved on the web machine; rendered in the background on the worker machine.
        approve_times = []
        started_renders = time.perf_counter()
        for pk in ids:
            seconds, response = timed(
                lambda pk=pk: bureau.post(
                    f"/review/{pk}/approve/", {"confirm": "1", "reason": ""}, allow_redirects=False
                )
            )
            if response.status_code != 302:
                failures.append(f"approval of form {pk}: HTTP {response.status_code}")
            approve_times.append(seconds)
        pending = set(ids)
        deadline = time.monotonic() + 300
        while pending and time.monotonic() < deadline:
            for pk in sorted(pending):
                if bureau.get(f"/evaluations/{pk}/pdf/status/").json().get("ready"):
                    pending.discard(pk)
            if pending:
                time.sleep(0.5)
        renders_seconds = time.perf_counter() - started_renders
        if pending:
            failures.append(f"no background PDF within 300 s for forms {sorted(pending)}")

        # 4. The year's ZIP, assembled on the worker machine, downloaded from the web machine.
        started_export = time.perf_counter()
        response = bureau.post(
            "/exports/", {"year": str(YEAR), "format": "zip", "status": ""}, allow_redirects=False
        )
        match = re.search(r"/exports/(\d+)/", response.headers.get("Location", ""))
        if response.status_code != 302 or not match:
            raise SystemExit(f"the export was not started (HTTP {response.status_code})")
        job = match.group(1)
        deadline = time.monotonic() + 600
        status: dict = {}
        while time.monotonic() < deadline:
            status = bureau.get(f"/exports/{job}/status.json").json()
            if status["finished"]:
                break
            time.sleep(0.5)
        export_seconds = time.perf_counter() - started_export
        if status.get("state") != "done":
            raise SystemExit(f"the export did not finish: {status}")
        download_seconds, download = timed(lambda: bureau.get(f"/exports/{job}/download/"))
        if download.status_code != 200:
            raise SystemExit(f"the download failed (HTTP {download.status_code})")

        with zipfile.ZipFile(BytesIO(download.content)) as archive:
            members = archive.namelist()
            pdfs = [m for m in members if m.endswith(".pdf") and "_佐证材料/" not in m]
            found = {}
            for member_name in members:
                if "_佐证材料/" in member_name:
                    digest = hashlib.sha256(archive.read(member_name)).hexdigest()
                    found[member_name.rsplit("/", 1)[1].split("_", 1)[1]] = digest
            bad_pdfs = [m for m in pdfs if not archive.read(m).startswith(b"%PDF-")]
        if len(pdfs) != len(ids):
            failures.append(f"the ZIP holds {len(pdfs)} form PDFs, not {len(ids)}")
        if bad_pdfs:
            failures.append(f"not PDFs: {bad_pdfs}")
        if found != uploaded:
            failures.append(f"evidence in the ZIP differs: {sorted(found)} vs {sorted(uploaded)}")
        for root in (web_root, worker_root):
            media = root / "var" / "media"
            leaked = local_files(media) if media.exists() else []
            if leaked:
                failures.append(f"files written to {media}: {leaked[:5]}")

        from django.core.files.storage import default_storage

        stored = {
            folder: len(default_storage.listdir(folder)[0])
            for folder in ("evidence", "pdf-cache", "exports")
        }
        print(
            f"two machines (gunicorn 2 workers | rqworker), PostgreSQL + Redis + S3 "
            f"({os.environ.get('DJANGO_S3_ENDPOINT_URL', 'AWS')}), {len(ids)} forms"
        )
        print(
            f"  evidence upload ({args.evidence_kb} KB each): median "
            f"{sorted(upload_times)[len(upload_times) // 2] * 1000:.0f} ms, "
            f"total {sum(upload_times):.2f} s"
        )
        print(
            f"  approval: median {sorted(approve_times)[len(approve_times) // 2] * 1000:.0f} ms; "
            f"every form's PDF rendered by the worker {renders_seconds:.1f} s after the first approval"
        )
        print(f"  year's ZIP: {export_seconds:.1f} s from the click to the file")
        print(
            f"  download: {len(download.content) / 1024:.0f} KB in {download_seconds * 1000:.0f} ms; "
            f"{len(members)} members: {len(pdfs)} form PDFs, {len(found)} evidence files intact"
        )
        print(f"  in the bucket (folders per form or user): {stored}")
        if not any("MEDIA_ROOT" in failure or "media" in failure for failure in failures):
            print("  local MEDIA_ROOT of web and worker: empty")
    finally:
        stop(web)
        stop(worker)
        if args.keep:
            print(f"folders kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        raise SystemExit(1)
    print("OK: everything arrived")


if __name__ == "__main__":
    main()
