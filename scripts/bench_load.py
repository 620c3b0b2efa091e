#!/usr/bin/env python
"""Load benchmark: 10,000 forms on PostgreSQL, gunicorn on loopback, 20 concurrent staff users.

Usage (a throwaway PostgreSQL cluster, removed afterwards):

    scripts/with-postgres.sh .venv/bin/python scripts/bench_load.py [--forms 10000] [--users 20]
        [--requests 2000] [--seconds 120] [--workers 3] [--think-ms 0,1000] [--json out.json]

Seeds the database with bulk_create (4 funding rows and 12 indicators per form, ~20
departments, one staff user each), collects static files, starts gunicorn with a
production-like environment on 127.0.0.1 and a free port, logs every user in through the
login form, then runs a mix of list, detail, edit + save and PDF requests, with /healthz
(one SELECT 1) interleaved as the baseline. Prints throughput and median/p95 per page.
Only ever talks to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from http.client import HTTPConnection
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))
HOST = "127.0.0.1"
PASSWORD = "bench-password-1"
D = Decimal

# (first level, second level, indicator, target, actual, weight): 50 / 30 / 10 plus 10 execution.
INDICATORS = [
    ("产出指标", "数量指标", "改造农村住房户数", "=1600户", "1600户", "10"),
    ("产出指标", "数量指标", "监督检查次数", ">=10次", "12次", "8"),
    ("产出指标", "质量指标", "工程质量达标率", ">=98%", "99%", "8"),
    ("产出指标", "质量指标", "资料归档完整率", "=100%", "100%", "8"),
    ("产出指标", "时效指标", "完成时间", "2021年12月31日", "2021年12月20日", "8"),
    ("产出指标", "成本指标", "检查费用", "<=21.50万元", "20.80万元", "8"),
    ("效益指标", "社会效益指标", "居民住房条件", "有效改善", "有效改善", "10"),
    ("效益指标", "社会效益指标", "安全事故发生率", "<=1%", "0.5%", "7"),
    ("效益指标", "可持续影响指标", "长效机制", "逐步建立", "已建立", "7"),
    ("效益指标", "生态效益指标", "建筑垃圾资源化利用率", ">=60%", "63%", "6"),
    ("满意度指标", "满意度指标", "群众满意度", ">=95%", "96%", "5"),
    ("满意度指标", "满意度指标", "受益对象满意度", ">=90%", "92%", "5"),
]
# Request mix (weights); "save" is a GET of the edit page followed by the POST.
MIX = {"list": 30, "detail": 30, "save": 15, "pdf": 5, "healthz": 20}


# --- seeding -----------------------------------------------------------------------------------


def _variant(index: int):
    """One realistic form: execution between 70% and 100%, some indicators below target."""
    from evaluations.core.formdata import FormData, FundingData, IndicatorData

    rng = random.Random(index)
    budget = D(rng.randrange(20, 500))
    executed = (budget * D(rng.randrange(70, 101)) / 100).quantize(D("0.01"))
    indicators = []
    for level1, level2, name, target, actual, weight in INDICATORS:
        w = D(weight)
        score = w if rng.random() > 0.2 else (w * D("0.8")).quantize(D("0.01"))
        deviation = "" if score == w else "受疫情影响，部分工作延期，下年度加强进度管理。"
        indicators.append(
            IndicatorData(level1, level2, name, target, actual, w, score, deviation=deviation)
        )
    rate = executed / budget
    execution_score = (D("10") * min(rate, D("1"))).quantize(D("0.01"))
    return FormData(
        year=2021,
        project_name="",
        department="",
        implementing_unit="项目实施单位",
        goal_target="按期完成年度建设任务，保障资金使用安全有效。" * 3,
        goal_actual="已完成年度主要建设任务，资金按规定拨付使用。" * 3,
        funding=[
            FundingData("total", budget, budget, executed),
            FundingData("current_year", budget, budget, executed),
            FundingData("carryover", D("0"), D("0"), D("0")),
            FundingData("other", D("0"), D("0"), D("0")),
        ],
        execution_weight=D("10"),
        execution_score=execution_score,
        stated_total=execution_score + sum(i.score for i in indicators),
        indicators=indicators,
    )


def seed(forms: int, departments: int) -> dict:
    """Create departments, one staff user each and ``forms`` evaluations; returns ids per user."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from departments.models import Department, Membership, Role
    from evaluations.core.scoring import evaluate
    from evaluations.mapping import snapshot
    from evaluations.models import (
        Evaluation,
        EvaluationEvent,
        EvaluationVersion,
        EventAction,
        FundingRow,
        Indicator,
        Status,
    )
    from evaluations.services import current_rules, form_rows

    User = get_user_model()
    variants = []
    for index in range(40):
        data = _variant(index)
        variants.append((data, evaluate(data, current_rules())))
    rows_of = {id(data): form_rows(data) for data, _result in variants}
    password = make_password(PASSWORD)
    statuses = (
        [Status.DRAFT] * 12 + [Status.SUBMITTED] * 3 + [Status.RETURNED] + [Status.APPROVED] * 4
    )
    now = timezone.now()
    with transaction.atomic():
        depts = Department.objects.bulk_create(
            Department(name=f"压测部门{i + 1:02d}·昌吉州某局") for i in range(departments)
        )
        users = User.objects.bulk_create(
            User(username=f"bench{i + 1:02d}", password=password) for i in range(departments)
        )
        Membership.objects.bulk_create(
            Membership(user=u, role=Role.STAFF, department=d)
            for u, d in zip(users, depts, strict=True)
        )
        batch = 1000
        for start in range(0, forms, batch):
            evaluations, payloads = [], []
            for n in range(start, min(start + batch, forms)):
                dept_index = n % departments
                data, result = variants[n % len(variants)]
                status = statuses[(n // departments) % len(statuses)]
                evaluations.append(
                    Evaluation(
                        year=2018 + (n // departments) % 5,
                        department=depts[dept_index],
                        implementing_unit=data.implementing_unit,
                        project_name=f"压测项目{n + 1:05d}：农村住房质量监督",
                        goal_target=data.goal_target,
                        goal_actual=data.goal_actual,
                        status=status,
                        execution_weight=data.execution_weight,
                        stated_execution_score=data.execution_score,
                        stated_total=data.stated_total,
                        computed_execution_rate=result.execution_rate.quantize(D("0.000001")),
                        computed_execution_score=result.execution_score,
                        computed_total=result.computed_total,
                        error_count=len(result.errors),
                        warning_count=len(result.warnings),
                        created_by=users[dept_index],
                        updated_by=users[dept_index],
                        submitted_at=now if status != Status.DRAFT else None,
                        approved_at=now if status == Status.APPROVED else None,
                    )
                )
                payloads.append(data)
            Evaluation.objects.bulk_create(evaluations)
            funding, indicators, versions, events = [], [], [], []
            for evaluation, data in zip(evaluations, payloads, strict=True):
                # The same rows the application's save would build (services.form_rows),
                # prepared once per variant and copied for each form.
                variant_funding, variant_indicators = rows_of[id(data)]
                for target, prepared in (
                    (funding, variant_funding),
                    (indicators, variant_indicators),
                ):
                    for row in prepared:
                        row = copy.copy(row)
                        row.evaluation = evaluation
                        target.append(row)
                data.project_name = evaluation.project_name
                versions.append(
                    EvaluationVersion(evaluation=evaluation, revision=1, data=snapshot(data))
                )
                events.append(
                    EvaluationEvent(
                        evaluation=evaluation,
                        action=EventAction.CREATED,
                        actor=evaluation.created_by,
                        from_status=Status.DRAFT,
                        to_status=Status.DRAFT,
                        revision=1,
                    )
                )
                if evaluation.status != Status.DRAFT:
                    events.append(
                        EvaluationEvent(
                            evaluation=evaluation,
                            action=EventAction.SUBMITTED,
                            actor=evaluation.created_by,
                            from_status=Status.DRAFT,
                            to_status=Status.SUBMITTED,
                            revision=1,
                        )
                    )
            FundingRow.objects.bulk_create(funding)
            Indicator.objects.bulk_create(indicators)
            EvaluationVersion.objects.bulk_create(versions)
            EvaluationEvent.objects.bulk_create(events)
    plan = {}
    for user, dept in zip(users, depts, strict=True):
        qs = Evaluation.objects.filter(department=dept)
        plan[user.username] = {
            "all": list(qs.values_list("id", flat=True)),
            "editable": list(
                qs.filter(status__in=[Status.DRAFT, Status.RETURNED]).values_list("id", flat=True)
            ),
        }
    return plan


# --- HTTP client -------------------------------------------------------------------------------


class FormParser(HTMLParser):
    """Collect the fields of one <form id=...> as a browser would submit them."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._select_value: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []
        self._option_value: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("id") == self.form_id:
            self.inside = True
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type", "text") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((name, a.get("value", "")))
        elif tag == "select" and name:
            self._select, self._select_value, self._first_option = name, None, None
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in a:
                self._select_value = value
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if not self.inside:
            return
        if tag == "select" and self._select is not None:
            value = self._select_value if self._select_value is not None else self._first_option
            self.fields.append((self._select, value or ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = "".join(self._text)
            self.fields.append((self._textarea, text[1:] if text.startswith("\n") else text))
            self._textarea = None
        elif tag == "form":
            self.inside = False


@dataclass
class Sample:
    page: str
    seconds: float
    status: int
    ok: bool


@dataclass
class Session:
    """One user's cookies against the server (plain HTTP on loopback)."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self, method: str, path: str, body: dict | list | None = None
    ) -> tuple[int, dict[str, str], bytes, float]:
        headers = {"Host": f"{HOST}:{self.port}", "Connection": "close"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://{HOST}:{self.port}{path}"
        started = time.perf_counter()
        conn = HTTPConnection(HOST, self.port, timeout=120)
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            content = response.read()
        finally:
            conn.close()
        elapsed = time.perf_counter() - started
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                cookie = SimpleCookie()
                cookie.load(value)
                for name, morsel in cookie.items():
                    self.cookies[name] = morsel.value
        return response.status, dict(response.getheaders()), content, elapsed

    def login(self, username: str) -> None:
        status, _h, body, _t = self.request("GET", "/accounts/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        assert status == 200 and token, f"login page: {status}"
        status, headers, _b, _t = self.request(
            "POST",
            "/accounts/login/",
            {
                "username": username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": token.group(1).decode(),
            },
        )
        assert status == 302 and "sessionid" in self.cookies, f"login {username}: {status}"


class Runner:
    """Drive the request mix from several threads until the request or time budget is spent."""

    def __init__(self, port: int, plan: dict, args: argparse.Namespace, think_ms: int) -> None:
        self.port, self.plan, self.args, self.think_ms = port, plan, args, think_ms
        self.samples: list[Sample] = []
        self.errors: list[str] = []
        self.lock = threading.Lock()
        self.issued = 0
        self.deadline = 0.0
        self.pdf_enabled = True

    def _take(self) -> bool:
        with self.lock:
            if self.issued >= self.args.requests or time.monotonic() >= self.deadline:
                return False
            self.issued += 1
            return True

    def _record(self, page: str, status: int, seconds: float, ok: bool, note: str = "") -> None:
        with self.lock:
            self.samples.append(Sample(page, seconds, status, ok))
            if not ok:
                self.errors.append(f"{page} {status} {note}")

    def user(self, session: Session, username: str, seed: int) -> None:
        rng = random.Random(seed)
        ids, editable = self.plan[username]["all"], list(self.plan[username]["editable"])
        pages = max(1, len(ids) // 50)
        choices, weights = zip(*MIX.items(), strict=True)
        while True:
            page = rng.choices(choices, weights)[0]
            if page == "pdf" and not self.pdf_enabled:
                page = "detail"
            if not self._take():
                return
            if page == "list":
                query = {"page": rng.randint(1, pages)}
                if rng.random() < 0.3:
                    query = {"year": rng.choice([2018, 2019, 2020, 2021, 2022])}
                status, _h, body, t = session.request("GET", f"/evaluations/?{urlencode(query)}")
                self._record("list", status, t, status == 200 and b"evaluation-list" in body)
            elif page == "detail":
                status, _h, _b, t = session.request("GET", f"/evaluations/{rng.choice(ids)}/")
                self._record("detail", status, t, status == 200)
            elif page == "pdf":
                status, headers, body, t = session.request(
                    "GET", f"/evaluations/{rng.choice(ids)}/pdf/"
                )
                ok = status == 200 and body.startswith(b"%PDF")
                self._record("pdf", status, t, ok)
            elif page == "healthz":
                status, _h, _b, t = session.request("GET", "/healthz")
                self._record("healthz (baseline)", status, t, status == 200)
            else:
                self._save(session, rng.choice(editable), rng)
            if self.think_ms:
                time.sleep(rng.uniform(0, 2 * self.think_ms) / 1000)

    def _save(self, session: Session, pk: int, rng: random.Random) -> None:
        status, _h, body, t = session.request("GET", f"/evaluations/{pk}/edit/")
        self._record("edit (GET)", status, t, status == 200)
        if status != 200 or not self._take():
            return
        parser = FormParser("evaluation-form")
        parser.feed(body.decode())
        fields = [
            (
                name,
                value + f" 压测修改{rng.randint(1, 10**6)}"
                if name.endswith("goal_actual")
                else value,
            )
            for name, value in parser.fields
        ]
        fields.append(("next", "edit"))
        status, headers, body, t = session.request("POST", f"/evaluations/{pk}/edit/", fields)
        ok = status == 302 and headers.get("Location", "").endswith(f"/evaluations/{pk}/edit/")
        self._record(
            "save (POST)", status, t, ok, "" if ok else body[:300].decode(errors="replace")
        )

    def run(self, sessions: dict[str, Session]) -> float:
        """Run the mix with one thread per logged-in user; returns the wall time."""
        threads = [
            threading.Thread(target=self.user, args=(session, name, index), daemon=True)
            for index, (name, session) in enumerate(sessions.items())
        ]
        started = time.monotonic()
        self.deadline = started + self.args.seconds
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.monotonic() - started


def pdf_available(port: int, plan: dict) -> bool:
    """One PDF first: a missing PDF view would otherwise count as errors."""
    probe = Session(port)
    first_user = next(iter(plan))
    probe.login(first_user)
    status, _h, body, _t = probe.request("GET", f"/evaluations/{plan[first_user]['all'][0]}/pdf/")
    return status == 200 and body.startswith(b"%PDF")


# --- server ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def production_env(port: int, static_root: str, var_dir: str, workers: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        {
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": HOST,
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            # Plain HTTP on loopback: the browser-side Secure flag would drop the cookies.
            "DJANGO_SESSION_COOKIE_SECURE": "0",
            "DJANGO_CSRF_COOKIE_SECURE": "0",
            "DJANGO_STATIC_ROOT": static_root,
            "DJANGO_VAR_DIR": var_dir,
            "DJANGO_LOG_LEVEL": "WARNING",
            "AXES_FAILURE_LIMIT": "1000",
            "HOST": HOST,
            "PORT": str(port),
            "WEB_CONCURRENCY": str(workers),
        }
    )
    return env


# Method, path, status and the time the worker spent on the request (microseconds).
ACCESS_FORMAT = "%(m)s %(U)s %(s)s %(D)s"


def start_server(env: dict[str, str], log: Path, access_log: Path) -> subprocess.Popen:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [
        str(gunicorn),
        "config.wsgi",
        "-c",
        "gunicorn.conf.py",
        "--access-logfile",
        str(access_log),
        "--access-logformat",
        ACCESS_FORMAT,
    ]
    server = subprocess.Popen(
        command,
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
            conn = HTTPConnection(HOST, int(env["PORT"]), timeout=2)
            conn.request("GET", "/healthz", headers={"Host": HOST})
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("gunicorn did not answer /healthz within 60 s")


# --- report ------------------------------------------------------------------------------------


PAGE_PATTERNS = [
    ("list", "GET", re.compile(r"^/evaluations/$")),
    ("detail", "GET", re.compile(r"^/evaluations/\d+/$")),
    ("edit (GET)", "GET", re.compile(r"^/evaluations/\d+/edit/$")),
    ("save (POST)", "POST", re.compile(r"^/evaluations/\d+/edit/$")),
    ("pdf", "GET", re.compile(r"^/evaluations/\d+/pdf/$")),
    ("healthz (baseline)", "GET", re.compile(r"^/healthz$")),
]


def server_times(access_log: Path, offset: int) -> dict[str, list[float]]:
    """Seconds each worker spent per page, from the access log lines written after ``offset``."""
    times: dict[str, list[float]] = {}
    with access_log.open("rb") as f:
        f.seek(offset)
        for line in f.read().decode(errors="replace").splitlines():
            parts = line.split()
            if len(parts) != 4:
                continue
            method, path, _status, micros = parts
            for page, wanted, pattern in PAGE_PATTERNS:
                if method == wanted and pattern.match(path):
                    times.setdefault(page, []).append(int(micros) / 1e6)
                    break
    return times


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[index]


def report(
    samples: list[Sample],
    wall: float,
    errors: list[str],
    meta: dict,
    server: dict[str, list[float]],
) -> dict:
    pages: dict[str, list[Sample]] = {}
    for sample in samples:
        pages.setdefault(sample.page, []).append(sample)
    baseline = [s.seconds for s in pages.get("healthz (baseline)", [])]
    base_median = statistics.median(baseline) if baseline else None
    rows = []
    for page in ["list", "detail", "edit (GET)", "save (POST)", "pdf", "healthz (baseline)"]:
        if page not in pages:
            continue
        times = [s.seconds for s in pages[page]]
        median = statistics.median(times)
        rows.append(
            {
                "page": page,
                "requests": len(times),
                "errors": sum(1 for s in pages[page] if not s.ok),
                "median_ms": round(median * 1000, 1),
                "p95_ms": round(percentile(times, 0.95) * 1000, 1),
                "max_ms": round(max(times) * 1000, 1),
                "median_vs_baseline": round(median / base_median, 1) if base_median else None,
                "server_median_ms": (
                    round(statistics.median(server[page]) * 1000, 1) if server.get(page) else None
                ),
                "server_p95_ms": (
                    round(percentile(server[page], 0.95) * 1000, 1) if server.get(page) else None
                ),
            }
        )
    result = {
        **meta,
        "requests": len(samples),
        "seconds": round(wall, 1),
        "throughput_rps": round(len(samples) / wall, 1) if wall else 0,
        "errors": len(errors),
        "error_samples": errors[:10],
        "pages": rows,
    }
    print()
    print(
        f"{result['requests']} requests in {result['seconds']} s = {result['throughput_rps']} req/s, "
        f"{result['errors']} errors; {meta['users']} users, {meta['workers']} gunicorn workers, "
        f"{meta['forms']} forms, database {meta['database']}, think time {meta['think_ms']} ms"
    )
    print(
        "| page | requests | errors | median ms | p95 ms | max ms | median / baseline "
        "| server median ms | server p95 ms |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['page']} | {row['requests']} | {row['errors']} | {row['median_ms']} | "
            f"{row['p95_ms']} | {row['max_ms']} | {row['median_vs_baseline']}× | "
            f"{row['server_median_ms']} | {row['server_p95_ms']} |"
        )
    for line in errors[:10]:
        print("error:", line)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forms", type=int, default=10_000)
    parser.add_argument("--departments", type=int, default=20)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument(
        "--think-ms",
        type=lambda v: [int(x) for x in v.split(",")],
        default=[0, 1000],
        help="mean pause between a user's requests; a comma list runs one phase each (default 0,1000)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--allow-sqlite", action="store_true", help="run without DATABASE_URL (not representative)"
    )
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL") and not args.allow_sqlite:
        raise SystemExit(
            "DATABASE_URL is not set: run  scripts/with-postgres.sh .venv/bin/python scripts/bench_load.py"
        )

    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    os.environ["DJANGO_DEBUG"] = (
        "1"  # seeding runs in this process; the server runs in production mode
    )
    os.environ["DJANGO_VAR_DIR"] = str(work / "var")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from evaluations.models import Evaluation

    call_command("migrate", verbosity=0)
    if Evaluation.objects.exists():
        raise SystemExit(
            "The database already holds evaluations: use an empty (throwaway) database."
        )
    t0 = time.monotonic()
    plan = seed(args.forms, args.departments)
    seeded = time.monotonic() - t0
    print(f"seeded {args.forms} forms in {args.departments} departments in {seeded:.1f} s")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
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
    log, access_log = work / "gunicorn.log", work / "access.log"
    server = start_server(env, log, access_log)
    results, failed = [], False
    try:
        pdf = pdf_available(port, plan)
        # Log everybody in before the clock starts (PBKDF2 is deliberately slow).
        sessions = {}
        for name in list(plan)[: args.users]:
            sessions[name] = Session(port)
            sessions[name].login(name)
        for think_ms in args.think_ms:
            runner = Runner(port, plan, args, think_ms)
            runner.pdf_enabled = pdf
            offset = access_log.stat().st_size
            wall = runner.run(sessions)
            time.sleep(1)  # let the access log catch up
            meta = {
                "forms": args.forms,
                "departments": args.departments,
                "users": len(sessions),
                "workers": args.workers,
                "cpus": os.cpu_count(),
                "think_ms": think_ms,
                "database": connection.vendor,
                "pdf": pdf,
                "seed_seconds": round(seeded, 1),
            }
            server_side = server_times(access_log, offset)
            results.append(report(runner.samples, wall, runner.errors, meta, server_side))
            failed = failed or bool(runner.errors)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
