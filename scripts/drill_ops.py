#!/usr/bin/env python
"""Operations drill: what users and data go through when PostgreSQL, the mail relay, Redis or
the disk fail, and a backup restored from scratch.

    .venv/bin/python scripts/drill_ops.py [--only postgres,smtp,redis,disk,backup]

Each scenario starts its own throwaway PostgreSQL cluster (and Redis, SMTP servers) on
loopback, gunicorn with production settings and a task worker in a temporary folder, seeds
a department with forms, breaks one thing, repairs it, and prints: acknowledged saves, saves
present after, files present and intact, stuck jobs, and what users were shown. Everything
it starts is stopped and its folder removed at the end; it never touches var/ or a real
database. Exit status 1 when a scenario's check fails.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from formfields import form_fields  # scripts/ is the first entry of sys.path

BASE = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PASSWORD = "drill-运维-1"
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
PG_BIN = Path(
    os.environ.get("PG_BIN")
    or (sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: p.parent.name) or [""])[-1]
)

SEED = """
import datetime
from django.contrib.auth import get_user_model
from departments.models import Department, Membership, Role
from tests.factories import make_evaluation
User = get_user_model()
department = Department.objects.create(name="昌吉州住房和城乡建设局")
staff = User.objects.create_user("staff", email="staff@example.org", password=PASSWORD)
Membership.objects.create(user=staff, role=Role.STAFF, department=department)
finance = User.objects.create_user("finance", email="finance@example.org", password=PASSWORD)
Membership.objects.create(user=finance, role=Role.FINANCE)
ids = [make_evaluation(department, staff, project_name=f"演练项目{n:03d}").pk
       for n in range(FORMS)]
print(json.dumps({"ids": ids, "department": department.pk}))
"""

STATE = """
from collections import Counter
from evaluations.models import Evaluation
try:
    from evaluations.models import OutgoingMail
    mail = list(OutgoingMail.objects.values("status", "last_error", "attempts"))
except ImportError:  # older code, from before the mail queue
    mail = None
try:
    from django_tasks_db.models import DBTaskResult
    task_rows = dict(Counter(DBTaskResult.objects.values_list("status", flat=True)))
except Exception:  # not installed (RQ only)
    task_rows = {}
from evidence.models import EvidenceFile
from exports.models import ACTIVE_STATES, ExportJob
media = settings.MEDIA_ROOT
files = [str(p.relative_to(media)) for p in media.rglob("*") if p.is_file()]
print(json.dumps({
    "goal_actual": dict(Evaluation.objects.values_list("pk", "goal_actual")),
    "status": dict(Evaluation.objects.values_list("pk", "status")),
    "exports": list(ExportJob.objects.values("pk", "state")),
    "active_exports": ExportJob.objects.filter(state__in=ACTIVE_STATES).count(),
    "task_rows": task_rows,
    "mail": mail,
    "evidence": list(EvidenceFile.objects.values_list("stored_name", "sha256")),
    "files": files,
}, default=str))
"""

PRELUDE = """
import json, os, sys
sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
django.setup()
from django.conf import settings
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def as_postgres(command: list[str]) -> list[str]:
    # initdb refuses to run as root: the cluster runs as the postgres system user.
    return ["runuser", "-u", "postgres", "--", *command] if os.getuid() == 0 else command


class Stack:
    """PostgreSQL, optionally Redis, gunicorn and a worker in one temporary folder."""

    def __init__(self, name: str, *, redis: bool = False, env: dict[str, str] | None = None):
        self.work = Path(tempfile.mkdtemp(prefix=f"drill-{name}-"))
        os.chmod(self.work, 0o755)
        self.processes: dict[str, subprocess.Popen] = {}
        self.pg_port = free_port()
        self.port = free_port()
        self.redis_port = free_port() if redis else 0
        self.extra = env or {}
        self.mounted: list[Path] = []
        self.env: dict[str, str] = {}

    # --- servers -------------------------------------------------------------------------
    def pg(self, action: str) -> None:
        data = self.work / "pg" / "data"
        options = f"-h {HOST} -p {self.pg_port} -k {self.work / 'pg'} -c fsync=off"
        command = [str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(self.work / "pg.log")]
        if action == "start":
            command += ["-w", "-o", options, "start"]
        else:
            command += ["-m", "fast", "stop"]
        subprocess.run(as_postgres(command), check=True, stdout=subprocess.DEVNULL)

    def redis(self, action: str) -> None:
        if action == "start":
            self.processes["redis"] = self._spawn(
                "redis",
                ["redis-server", "--bind", HOST, "--port", str(self.redis_port), "--save", ""]
                + ["--appendonly", "no", "--dir", str(self.work)],
            )
            wait_for(lambda: _connects(self.redis_port), 20, "redis")
        else:
            self.stop("redis")

    def start(self) -> None:
        pg = self.work / "pg"
        pg.mkdir()
        if os.getuid() == 0:
            shutil.chown(pg, "postgres")
            shutil.chown(self.work, "postgres")
        subprocess.run(
            as_postgres(
                [str(PG_BIN / "initdb"), "-D", str(pg / "data"), "-U", "perfeval", "--auth=trust"]
                + ["-E", "UTF8", "--locale=C.UTF-8"]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self.pg("start")
        subprocess.run(
            as_postgres(["createdb", "-h", HOST, "-p", str(self.pg_port), "-U", "perfeval", "d"]),
            check=True,
        )
        var = self.work / "var"
        (var / "media").mkdir(parents=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
        env.update(
            {
                "DATABASE_URL": f"postgres://perfeval@{HOST}:{self.pg_port}/d",
                "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
                "DJANGO_ALLOWED_HOSTS": HOST,
                "DJANGO_SECURE_SSL_REDIRECT": "0",
                "DJANGO_SESSION_COOKIE_SECURE": "0",
                "DJANGO_CSRF_COOKIE_SECURE": "0",
                "DJANGO_STATIC_ROOT": str(self.work / "static"),
                "DJANGO_VAR_DIR": str(var),
                "DJANGO_LOG_LEVEL": "WARNING",
                "AXES_FAILURE_LIMIT": "1000",
                "TASKS_BACKEND": "db",
                "HOST": HOST,
                "PORT": str(self.port),
                "WEB_CONCURRENCY": "3",
            }
        )
        if self.redis_port:
            env.update({"TASKS_BACKEND": "rq", "REDIS_URL": f"redis://{HOST}:{self.redis_port}/0"})
            self.redis("start")
        env.update(self.extra)
        self.env = env
        self.manage("migrate", "-v0")
        self.manage("collectstatic", "--noinput", "-v0")

    def seed(self, forms: int) -> dict[str, Any]:
        code = SEED.replace("PASSWORD", repr(PASSWORD)).replace("FORMS", str(forms))
        return json.loads(self.python(code).strip().splitlines()[-1])

    def state(self) -> dict[str, Any]:
        return json.loads(self.python(STATE).strip().splitlines()[-1])

    def python(self, code: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", PRELUDE + code],
            cwd=BASE,
            env=self.env,
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise RuntimeError(done.stderr[-2000:])
        return done.stdout

    def manage(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check and done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)}: {done.stderr[-2000:]}")
        return done.stdout + done.stderr

    def serve(self) -> None:
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        self.processes["gunicorn"] = self._spawn(
            "gunicorn", [gunicorn, "config.wsgi", "-c", "gunicorn.conf.py"]
        )
        wait_for(lambda: self.get_status("/healthz") == 200, 60, "gunicorn")

    def worker(self) -> None:
        if self.env["TASKS_BACKEND"] == "rq":
            command = ["rqworker", "--job-class", "django_tasks_rq.Job", "default"]
        elif (BASE / "exports/management/commands/run_worker.py").exists():
            command = ["run_worker"]
        else:  # older code had only django-tasks' own worker
            command = ["db_worker"]
        self.processes["worker"] = self._spawn("worker", [sys.executable, "manage.py", *command])

    def alive(self, name: str) -> bool:
        process = self.processes.get(name)
        return process is not None and process.poll() is None

    def get_status(self, path: str) -> int:
        try:
            return requests.get(f"{self.url}{path}", timeout=5).status_code
        except requests.RequestException:
            return 0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen:
        return subprocess.Popen(
            command,
            cwd=BASE,
            env=self.env or None,
            stdout=(self.work / f"{name}.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def close(self) -> None:
        for name in list(self.processes):
            self.stop(name)
        subprocess.run(
            as_postgres(
                [str(PG_BIN / "pg_ctl"), "-D", str(self.work / "pg" / "data"), "-m", "immediate"]
                + ["stop"]
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for mount in self.mounted:
            subprocess.run(["umount", str(mount)], stderr=subprocess.DEVNULL)
        shutil.rmtree(self.work, ignore_errors=True)


def _connects(port: int) -> bool:
    try:
        socket.create_connection((HOST, port), 1).close()
        return True
    except OSError:
        return False


def wait_for(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise RuntimeError(f"{what} not ready after {seconds} s")


class User:
    """A browser session: login, forms with their CSRF token, what each answer showed."""

    def __init__(self, stack: Stack, username: str) -> None:
        self.stack = stack
        self.session = requests.Session()
        self.shown: Counter[str] = Counter()
        page = self.session.get(f"{stack.url}/accounts/login/", timeout=30)
        answer = self.session.post(
            f"{stack.url}/accounts/login/",
            data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": _token(page)},
            allow_redirects=False,
            timeout=30,
        )
        if answer.status_code != 302:
            raise RuntimeError(f"login {username}: {answer.status_code}")

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response | None:
        """The answer, or None when the connection failed; what it showed is counted."""
        kwargs.setdefault("timeout", 60)
        kwargs.setdefault("allow_redirects", False)
        try:
            response = self.session.request(method, f"{self.stack.url}{path}", **kwargs)
        except requests.RequestException as exc:
            self.shown[f"连接失败 ({type(exc).__name__})"] += 1
            return None
        if response.status_code >= 400:
            self.shown[f"{response.status_code} {_headline(response.text)}"] += 1
        return response

    def token(self, path: str) -> str:
        page = self.request("GET", path)
        return _token(page) if page is not None else ""


def _token(page: requests.Response) -> str:
    found = TOKEN.search(page.text)
    return found.group(1) if found else ""


def _headline(html: str) -> str:
    for pattern in (r"<h1[^>]*>(.*?)</h1>", r"<title>(.*?)</title>", r"^(.{0,60})"):
        found = re.search(pattern, html, re.S)
        if found and found.group(1).strip():
            return re.sub(r"<[^>]+>|\s+", " ", found.group(1)).strip()[:60]
    return ""


# --- scenarios -------------------------------------------------------------------------------

Result = dict[str, Any]


def saver(user: User, pk: int, stop: threading.Event, acked: list[str], tag: str) -> None:
    """Edit and save one form in a loop; a save is acknowledged by the redirect back to it."""
    n = 0
    while not stop.is_set():
        n += 1
        page = user.request("GET", f"/evaluations/{pk}/edit/")
        if page is None or page.status_code != 200:
            time.sleep(0.5)
            continue
        marker = f"[{tag}-{n}]"
        fields = form_fields(page.text, "evaluation-form")
        fields = [(k, v + marker if k.endswith("goal_actual") else v) for k, v in fields]
        fields.append(("next", "edit"))
        saved = user.request("POST", f"/evaluations/{pk}/edit/", data=fields)
        if saved is not None and saved.status_code == 302:
            if saved.headers.get("Location", "").endswith(f"/evaluations/{pk}/edit/"):
                acked.append(marker)
        time.sleep(0.2)


def start_export(user: User, kind: str = "xlsx") -> int | None:
    """Finance starts an export of every 2021 form as the export page does: the job's id."""
    token = user.token("/exports/")
    answer = user.request(
        "POST",
        "/exports/",
        data={"year": "2021", "format": kind, "csrfmiddlewaretoken": token},
    )
    found = re.search(r"/exports/(\d+)/", answer.headers.get("Location", "")) if answer else None
    return int(found.group(1)) if found else None


def export_state(user: User, job: int | None, seconds: float) -> str:
    """Poll the progress page's status.json as the browser does, until done or timeout."""
    if job is None:
        return "not started"
    state, deadline = "", time.monotonic() + seconds
    while time.monotonic() < deadline:
        answer = user.request("GET", f"/exports/{job}/status.json", timeout=10)
        if answer is not None and answer.status_code == 200:
            data = answer.json()
            state = data.get("state") or data.get("status") or ""
            if state in ("done", "failed", "cancelled", "expired"):
                return state
        time.sleep(1)
    return state or "unknown"


def scenario_postgres(args: argparse.Namespace) -> Result:
    """PostgreSQL stopped for 20 s while users save and an export runs."""
    stack = Stack("postgres")
    try:
        stack.start()
        seeded = stack.seed(args.export_forms)
        stack.serve()
        stack.worker()
        finance = User(stack, "finance")
        staff = [User(stack, "staff") for _ in range(args.threads)]
        stop = threading.Event()
        acked: list[list[str]] = [[] for _ in staff]
        ids = seeded["ids"][: len(staff)]
        threads = [
            threading.Thread(target=saver, args=(u, pk, stop, acked[i], f"t{i}"))
            for i, (u, pk) in enumerate(zip(staff, ids, strict=True))
        ]
        for thread in threads:
            thread.start()
        time.sleep(5)
        job = start_export(finance, args.export_format)
        time.sleep(1)
        at_stop = stack.state()["exports"]
        stack.pg("stop")
        time.sleep(args.outage)
        stack.pg("start")
        time.sleep(10)
        stop.set()
        for thread in threads:
            thread.join(120)
        export = export_state(finance, job, 120)
        recovered = ""
        if export != "done":
            stack.manage("cleanup_exports", check=False)
            recovered = " after cleanup_exports"
            export = export_state(finance, job, 120)
        state = stack.state()
        present = sum(
            marker in state["goal_actual"][str(pk)]
            for pk, markers in zip(ids, acked, strict=True)
            for marker in markers
        )
        shown = sum((u.shown for u in [finance, *staff]), Counter())
        worker_alive = stack.alive("worker")
        return {
            "acknowledged saves": sum(len(m) for m in acked),
            "saves present after": present,
            "worker alive after": worker_alive,
            "/healthz/worker after": stack.get_status("/healthz/worker"),
            f"{args.export_format} export when PostgreSQL stopped": at_stop,
            "export after": f"{export}{recovered}",
            "stuck jobs (queued/running exports)": state["active_exports"],
            "task rows": state["task_rows"],
            "users were shown (during the outage)": dict(shown) or "nothing but pages",
            "ok": present == sum(len(m) for m in acked)
            and worker_alive
            and export == "done"
            and state["active_exports"] == 0,
        }
    finally:
        stack.close()


class BlackHole:
    """An SMTP relay that accepts connections and never says a word."""

    def __init__(self, port: int = 0) -> None:
        self.server = socket.create_server((HOST, port))
        self.port = self.server.getsockname()[1]
        self.held: list[socket.socket] = []
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self.running:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.held.append(connection)

    def close(self) -> None:
        self.running = False
        self.server.close()
        for connection in self.held:
            connection.close()


def scenario_smtp(args: argparse.Namespace) -> Result:
    """A mail relay that never answers while forms are submitted; then a working one."""
    hole = BlackHole(args.smtp_port)
    stack = Stack(
        "smtp",
        env={
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "DJANGO_EMAIL_HOST": HOST,
            "DJANGO_EMAIL_PORT": str(hole.port),
            "DJANGO_EMAIL_TIMEOUT": "5",
        },
    )
    try:
        stack.start()
        seeded = stack.seed(args.forms)
        stack.serve()
        stack.worker()
        staff = User(stack, "staff")
        times, submitted = [], 0
        for pk in seeded["ids"]:
            page = staff.request("GET", f"/evaluations/{pk}/submit/")
            if page is None:
                continue
            fields = [(k, v) for k, v in form_fields_any(page.text) if k != "csrfmiddlewaretoken"]
            started = time.monotonic()
            answer = staff.request(
                "POST",
                f"/evaluations/{pk}/submit/",
                data=[("csrfmiddlewaretoken", _token(page)), *fields],
                timeout=300,  # past gunicorn's 120 s: what the user is shown then
            )
            times.append(time.monotonic() - started)
            submitted += answer is not None and answer.status_code == 302
        time.sleep(15)  # the worker's attempts time out after DJANGO_EMAIL_TIMEOUT
        state = stack.state()
        before = state["mail"]
        in_database = sum(state["status"][str(pk)] != "draft" for pk in seeded["ids"])
        # The relay is repaired: the worker is restarted with the new settings, as IT would.
        hole.close()
        stack.stop("worker")
        timing = f"{max(times):.2f} / {sorted(times)[len(times) // 2]:.2f} (gunicorn timeout 120)"
        if before is None:
            return {
                "forms submitted (acknowledged)": submitted,
                "forms submitted (in the database)": in_database,
                "submit request time max / median (s)": timing,
                "mail": "no mail queue in this code: sent inside the request",
                "users were shown": dict(staff.shown) or "nothing but pages",
                "ok": False,
            }
        sys.path.insert(0, str(BASE))
        from aiosmtpd.controller import Controller  # noqa: PLC0415  (dev dependency)

        from tests.smtp import Handler  # noqa: PLC0415

        handler = Handler()
        smtp_port = free_port()
        controller = Controller(handler, hostname=HOST, port=smtp_port)
        controller.start()
        try:
            stack.env["DJANGO_EMAIL_PORT"] = str(smtp_port)
            # Failed mail waits for its next attempt time: make it due now, as after the wait.
            stack.python(
                "from django.utils import timezone\n"
                "from evaluations.models import OutgoingMail\n"
                "OutgoingMail.objects.exclude(status='sent')"
                ".update(next_attempt_at=timezone.now(), locked_until=None)"
            )
            sent = stack.manage("send_queued_mail").strip()
        finally:
            controller.stop()
        after = stack.state()["mail"]
        reasons = Counter(m["last_error"][:40] for m in before if m["last_error"])
        return {
            "forms submitted (acknowledged)": submitted,
            "forms submitted (in the database)": in_database,
            "submit request time max / median (s)": timing,
            "mail while relay hung": dict(Counter(m["status"] for m in before)),
            "failure reasons": dict(reasons),
            "send_queued_mail": sent,
            "mail after": dict(Counter(m["status"] for m in after)),
            "delivered to working relay": len(handler.messages),
            "users were shown": dict(staff.shown) or "nothing but pages",
            "ok": max(times) < 10
            and len(handler.messages) == len(before)
            and all(m["status"] == "sent" for m in after),
        }
    finally:
        hole.close()
        stack.close()


def form_fields_any(html: str, action: str = "") -> list[tuple[str, str]]:
    """The fields of the page's POST form to ``action`` (or the first without an action)."""
    opening = f'<form method="post" action="{action}"' if action else '<form method="post">'
    marked = html.replace(opening, '<form id="drill-main"' + opening[5:], 1)
    return form_fields(marked, "drill-main")


def scenario_redis(args: argparse.Namespace) -> Result:
    """Redis stopped: approving and exporting answer without error; the export completes."""
    stack = Stack("redis", redis=True)
    try:
        stack.start()
        seeded = stack.seed(args.forms)
        stack.serve()
        stack.worker()
        staff, finance = User(stack, "staff"), User(stack, "finance")
        pk = seeded["ids"][0]
        page = staff.request("GET", f"/evaluations/{pk}/submit/")
        staff.request(
            "POST",
            f"/evaluations/{pk}/submit/",
            data=[("csrfmiddlewaretoken", _token(page)), *form_fields_any(page.text)],
        )
        stack.redis("stop")
        review = finance.request("GET", f"/review/{pk}/approve/")
        fields = form_fields_any(review.text, f"/review/{pk}/approve/") if review else []
        approve = finance.request(
            "POST",
            f"/review/{pk}/approve/",
            data=[("csrfmiddlewaretoken", _token(review)), *fields] if review else {},
        )
        job = start_export(finance)
        detail = finance.request("GET", f"/exports/{job}/") if job else None
        during = {
            "approve": approve.status_code if approve is not None else "no answer",
            "export start": "redirect to progress page" if job else "refused",
            "progress page": _alert(detail.text) if detail is not None else "",
        }
        stack.redis("start")
        stack.worker()  # rqworker exits when Redis goes away; systemd restarts it
        export = export_state(finance, job, 180)
        recovered = ""
        if export != "done":
            stack.manage("cleanup_exports", check=False)
            recovered = " after cleanup_exports"
            export = export_state(finance, job, 120)
        state = stack.state()
        return {
            "while Redis down": during,
            "form approved": state["status"][str(pk)],
            "export after Redis back": f"{export}{recovered}",
            "stuck jobs (queued/running exports)": state["active_exports"],
            "users were shown errors": dict(staff.shown + finance.shown) or "none",
            "ok": approve is not None
            and approve.status_code < 500
            and export == "done"
            and state["status"][str(pk)] == "approved",
        }
    finally:
        stack.close()


def _alert(html: str) -> str:
    """The messages and warnings a page shows."""
    found = re.findall(r'class="alert[^"]*"[^>]*>(.*?)</div>', html, re.S)
    texts = (re.sub(r"<[^>]+>|\s+", " ", text).strip()[:100] for text in found)
    return " | ".join(text for text in texts if text)


def scenario_disk(args: argparse.Namespace) -> Result:
    """Evidence uploads fill a small file system mounted as the media folder."""
    stack = Stack("disk", env={"STORAGE_MIN_FREE_BYTES": str(4 * 1024 * 1024)})
    try:
        stack.start()
        media = stack.work / "var" / "media"
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(media)],
            capture_output=True,
            text=True,
        )
        if mounted.returncode:
            return {"skipped": f"cannot mount a tmpfs: {mounted.stderr.strip()}", "ok": True}
        stack.mounted.append(media)
        seeded = stack.seed(5)
        stack.serve()
        stack.worker()
        staff = User(stack, "staff")
        pk = seeded["ids"][0]
        uploads, accepted, shown_full = 0, 0, ""
        sent: dict[str, str] = {}
        while uploads < 40 and not shown_full:
            uploads += 1
            body = b"%PDF-1.4\n" + os.urandom(1_500_000) + b"\n%%EOF\n"
            name = f"材料{uploads:02d}.pdf"
            token = staff.token(f"/evaluations/{pk}/edit/")
            answer = staff.request(
                "POST",
                f"/evaluations/{pk}/evidence/upload/",
                data={
                    "csrfmiddlewaretoken": token,
                    "evidence-TOTAL_FORMS": "1",
                    "evidence-INITIAL_FORMS": "0",
                    "evidence-MIN_NUM_FORMS": "0",
                    "evidence-MAX_NUM_FORMS": "1000",
                    "evidence-0-caption": "",
                    "evidence-0-row": "",
                },
                files={"evidence-0-file": (name, body, "application/pdf")},
                allow_redirects=True,
            )
            if answer is not None and "存储空间不足" in answer.text:
                shown_full = "存储空间不足，请联系管理员"
            elif answer is not None and answer.status_code == 200:
                accepted += 1
                sent[name] = hashlib.sha256(body).hexdigest()
        state = stack.state()
        listed = {name for name, _ in state["evidence"]}
        orphans = [f for f in state["files"] if f not in listed]
        intact = sum(
            hashlib.sha256((media / name).read_bytes()).hexdigest() in sent.values()
            for name in listed
            if (media / name).exists()
        )
        detail = requests.get(f"{stack.url}/healthz?detail=1", timeout=10)
        return {
            "uploads tried / accepted": f"{uploads} / {accepted}",
            "users were shown when full": shown_full or dict(staff.shown),
            "files recorded / present and intact": f"{len(listed)} / {intact}",
            "orphan files": len(orphans),
            "/healthz?detail=1": f"{detail.status_code} {detail.text[:160]}",
            "ok": bool(shown_full) and not orphans and intact == len(listed),
        }
    finally:
        stack.close()


def scenario_backup(args: argparse.Namespace) -> Result:
    """Backup and restore from scratch: scripts/drill_backup.py."""
    done = subprocess.run(
        [sys.executable, str(BASE / "scripts" / "drill_backup.py")],
        cwd=BASE,
        capture_output=True,
        text=True,
    )
    print(done.stdout + done.stderr[-2000:])
    result: Result = {"drill_backup.py exit status": done.returncode}
    found = re.search(r"^\{.*^\}", done.stdout, re.S | re.M)
    for stage, figures in (json.loads(found.group(0)) if found else {}).items():
        result[stage] = ", ".join(
            f"{key} {value}" for key, value in figures.items() if key != "user_sees"
        )
        if "user_sees" in figures:
            result[stage] += f"; user sees {figures['user_sees']['status']}"
    result["ok"] = done.returncode == 0
    return result


SCENARIOS: dict[str, Callable[[argparse.Namespace], Result]] = {
    "postgres": scenario_postgres,
    "smtp": scenario_smtp,
    "redis": scenario_redis,
    "disk": scenario_disk,
    "backup": scenario_backup,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SCENARIOS), help="scenarios, comma-separated")
    parser.add_argument("--outage", type=float, default=20, help="seconds PostgreSQL is down")
    parser.add_argument("--threads", type=int, default=3, help="users saving (postgres)")
    parser.add_argument("--forms", type=int, default=10, help="forms submitted (smtp)")
    parser.add_argument(
        "--smtp-port", type=int, default=0, help="black hole port (25: where old code sends)"
    )
    parser.add_argument("--export-forms", type=int, default=60, help="forms exported (postgres)")
    parser.add_argument("--export-format", default="pdf", help="pdf, zip or xlsx (postgres)")
    args = parser.parse_args()
    failed = []
    for name in args.only.split(","):
        print(f"== {name}: {SCENARIOS[name].__doc__}", flush=True)
        try:
            result = SCENARIOS[name](args)
        except Exception as exc:  # a broken scenario is reported, the others still run
            result = {"error": f"{type(exc).__name__}: {exc}"[:1500], "ok": False}
        for key, value in result.items():
            print(f"  {key}: {value}")
        if not result.get("ok"):
            failed.append(name)
    print("FAILED: " + ", ".join(failed) if failed else "all scenarios passed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
