#!/usr/bin/env python
"""Load benchmark: 100,000 forms on PostgreSQL, gunicorn + db_worker on loopback, 50 Locust users.

Usage (a throwaway PostgreSQL cluster, removed afterwards):

    scripts/with-postgres.sh .venv/bin/python scripts/bench_load.py [--forms 100000]
        [--users 50] [--duration 300] [--workers 3] [--think 2,8] [--json out.json]

    # smoke test, about two minutes in all:
    scripts/with-postgres.sh .venv/bin/python scripts/bench_load.py --forms 5000 --users 10 --duration 30

Seeds the database (COPY on PostgreSQL: 4 funding rows and 12 indicators per form, 40 for
one form in twenty, a version snapshot and history events; one staff user per department;
years 2019-2024), collects static files, starts gunicorn in production mode and a
``manage.py db_worker`` beside it, then runs Locust headless (``scripts/locustfile.py``,
one process, gevent users): every user logs in through the login form, and once all are
in, the clock starts and each user loops over list, detail, edit + save, PDF, an Excel
export job (POST /exports/, then poll its status.json until done) and /healthz (one
SELECT 1: the baseline of the same run). Prints p50/p95 per page (client side, from
Locust, and server side, from gunicorn's access log), the ratio to /healthz and the CPU
each process used. Only ever talks to 127.0.0.1. Exit status 1 if any request failed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from http.client import HTTPConnection
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))
HOST = "127.0.0.1"
PASSWORD = "bench-password-1"
D = Decimal
YEARS = list(range(2019, 2025))

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


def long_indicators() -> list[tuple[str, str, str, str, str, str]]:
    """40 rows, still 50 / 30 / 10: 20 output rows of 2.5, 15 benefit rows of 2, 5 of 2."""
    output = [r for r in INDICATORS if r[0] == "产出指标"]
    benefit = [r for r in INDICATORS if r[0] == "效益指标"]
    satisfaction = [r for r in INDICATORS if r[0] == "满意度指标"]
    rows = []
    for source, count, weight in ((output, 20, "2.5"), (benefit, 15, "2"), (satisfaction, 5, "2")):
        for i in range(count):
            level1, level2, name, target, actual, _w = source[i % len(source)]
            rows.append((level1, level2, f"{name}（第{i + 1}项）", target, actual, weight))
    return rows


# --- seeding -----------------------------------------------------------------------------------


def _variant(index: int):
    """One realistic form: execution between 70% and 100%, some indicators below target.

    One variant in twenty has 40 indicator rows (the rest 12).
    """
    from evaluations.core.evaluation_data import FormData, FundingData, IndicatorData

    rng = random.Random(index)
    budget = D(rng.randrange(20, 500))
    executed = (budget * D(rng.randrange(70, 101)) / 100).quantize(D("0.01"))
    indicators = []
    rows = long_indicators() if index % 20 == 0 else INDICATORS
    for level1, level2, name, target, actual, weight in rows:
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


class Table:
    """Rows of one model as database-ready column values, written by COPY (PostgreSQL) or
    executemany (other databases). A row is prepared from an unsaved instance with the same
    field conversions Django's save uses; ``template`` prepares once for many rows."""

    def __init__(self, model, *, with_pk: bool) -> None:
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]
        self.columns = [f.column for f in self.fields]
        self.rows: list[list] = []
        self.written = 0

    def index(self, attname: str) -> int:
        return [f.attname for f in self.fields].index(attname)

    def template(self, obj) -> list:
        from django.db import DEFAULT_DB_ALIAS, connections

        connection = connections[DEFAULT_DB_ALIAS]  # not the proxy: much faster per call
        return [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in self.fields]

    def setter(self, *attnames: str):
        """A function adding a copy of a template row with these columns replaced."""
        positions = [self.index(a) for a in attnames]
        rows = self.rows

        def add(template: list, *values) -> list:
            row = template.copy()
            for position, value in zip(positions, values, strict=True):
                row[position] = value
            rows.append(row)
            return row

        return add

    def flush(self) -> None:
        from django.db import connection

        if not self.rows:
            return
        table = connection.ops.quote_name(self.model._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in self.rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(self.columns))
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", self.rows)
        self.written += len(self.rows)
        self.rows.clear()


def _status_for(year_index: int, years: int, n: int):
    """Older years are mostly approved; the latest is being filled in."""
    from evaluations.models import Status

    slot = n % 20
    if year_index == years - 1:  # 60 % draft, 15 % submitted, 5 % returned, 20 % approved
        table = (
            [Status.DRAFT] * 12 + [Status.SUBMITTED] * 3 + [Status.RETURNED] + [Status.APPROVED] * 4
        )
    else:  # 10 % draft, 10 % submitted, 5 % returned, 75 % approved
        table = (
            [Status.DRAFT] * 2 + [Status.SUBMITTED] * 2 + [Status.RETURNED] + [Status.APPROVED] * 15
        )
    return table[slot]


def seed(forms: int, departments: int, years: list[int] = YEARS) -> tuple[dict, dict]:
    """Create departments, one staff user each and ``forms`` evaluations on an empty database.

    Returns the plan for the load generator (per user: department, form ids, editable ids)
    and the seeding figures (rows per table, seconds).
    """
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.core.management.color import no_style
    from django.db import connection, transaction
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
    from evaluations.rules import current_rules
    from evaluations.services import form_rows

    started = time.monotonic()
    User = get_user_model()
    now = timezone.now()
    password = make_password(PASSWORD)
    evaluations = Table(Evaluation, with_pk=True)
    funding_rows = Table(FundingRow, with_pk=False)
    indicators = Table(Indicator, with_pk=False)
    versions = Table(EvaluationVersion, with_pk=False)
    events = Table(EvaluationEvent, with_pk=False)
    tables = [evaluations, funding_rows, indicators, versions, events]

    # 40 variants, each scored once by the real engine, its rows prepared once.
    variants = []
    for index in range(40):
        data = _variant(index)
        result = evaluate(data, current_rules())
        funding, rows = form_rows(data)
        for row in funding + rows:
            row.evaluation_id = 0
        variants.append(
            {
                "data": data,
                "result": result,
                "funding": [funding_rows.template(r) for r in funding],
                "indicators": [indicators.template(r) for r in rows],
                "snapshot": snapshot(data),
                "evaluation": evaluations.template(
                    Evaluation(
                        pk=0,
                        year=0,
                        department_id=0,
                        implementing_unit=data.implementing_unit,
                        project_name="",
                        goal_target=data.goal_target,
                        goal_actual=data.goal_actual,
                        execution_weight=data.execution_weight,
                        stated_execution_score=data.execution_score,
                        stated_total=data.stated_total,
                        computed_execution_rate=result.execution_rate.quantize(D("0.000001")),
                        computed_execution_score=result.execution_score,
                        computed_total=result.computed_total,
                        error_count=len(result.errors),
                        warning_count=len(result.warnings),
                    )
                ),
            }
        )
    add_evaluation = evaluations.setter(
        "id",
        "year",
        "department_id",
        "project_name",
        "status",
        "created_by_id",
        "updated_by_id",
        "submitted_at",
        "approved_at",
    )
    add_funding = funding_rows.setter("evaluation_id")
    add_indicator = indicators.setter("evaluation_id", "key")
    add_version = versions.setter("evaluation_id", "data")
    add_event = events.setter("evaluation_id", "actor_id")
    version_template = versions.template(EvaluationVersion(evaluation_id=0, revision=1, data={}))
    json_value = version_template[versions.index("data")]
    jsonb = type(json_value) if connection.vendor == "postgresql" else None
    created, submitted = (
        events.template(
            EvaluationEvent(
                evaluation_id=0, action=action, from_status=before, to_status=after, revision=1
            )
        )
        for action, before, after in (
            (EventAction.CREATED, Status.DRAFT, Status.DRAFT),
            (EventAction.SUBMITTED, Status.DRAFT, Status.SUBMITTED),
        )
    )

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
        plan = {
            u.username: {"department": d.pk, "all": [], "editable": [], "years": years}
            for u, d in zip(users, depts, strict=True)
        }
        per_department = -(-forms // departments)
        for n in range(forms):
            pk = n + 1
            dept_index, k = n % departments, n // departments
            year_index = k * len(years) // per_department
            year = years[year_index]
            status = _status_for(year_index, len(years), k)
            variant = variants[n % len(variants)]
            user, dept = users[dept_index], depts[dept_index]
            name = f"压测项目{n + 1:06d}：农村住房质量监督"
            add_evaluation(
                variant["evaluation"],
                pk,
                year,
                dept.pk,
                name,
                str(status),
                user.pk,
                user.pk,
                now if status != Status.DRAFT else None,
                now if status == Status.APPROVED else None,
            )
            for template in variant["funding"]:
                add_funding(template, pk)
            keys = [uuid.uuid4().hex for _ in variant["indicators"]]
            for template, key in zip(variant["indicators"], keys, strict=True):
                add_indicator(template, pk, key)
            # The version snapshot as the application stores it (services: with_keys=True).
            snap = dict(variant["snapshot"], year=year, project_name=name, department=dept.name)
            snap["indicators"] = [
                {"key": key, **ind} for key, ind in zip(keys, snap["indicators"], strict=True)
            ]
            add_version(
                version_template,
                pk,
                jsonb(snap) if jsonb else json.dumps(snap, ensure_ascii=False),
            )
            add_event(created, pk, user.pk)
            if status != Status.DRAFT:
                add_event(submitted, pk, user.pk)
            plan[user.username]["all"].append(pk)
            if status in (Status.DRAFT, Status.RETURNED):
                plan[user.username]["editable"].append(pk)
            if pk % 5000 == 0:
                evaluations.flush()  # the rows below point at it
                for table in tables[1:]:
                    table.flush()
        for table in tables:
            table.flush()
        # Explicit primary keys: move the sequence past them.
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), [Evaluation]):
                cursor.execute(statement)
    figures = {
        "seed_seconds": round(time.monotonic() - started, 1),
        "rows": {t.model._meta.db_table: t.written for t in tables},
    }
    return plan, figures


# --- processes ---------------------------------------------------------------------------------


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
            "TASKS_BACKEND": "db",
            "HOST": HOST,
            "PORT": str(port),
            "WEB_CONCURRENCY": str(workers),
        }
    )
    return env


# Method, path?query, status and the time the worker spent on the request (microseconds).
ACCESS_FORMAT = "%(m)s %(U)s?%(q)s %(s)s %(D)s"


def pinned(cpus: str | None) -> list[str]:
    """``taskset -c CPUS`` before a command (it then runs on those cores only), or nothing."""
    return ["taskset", "-c", cpus] if cpus else []


def start_server(
    env: dict[str, str], log: Path, access_log: Path, cpus: str | None = None
) -> subprocess.Popen:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [
        *pinned(cpus),
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


def start_worker(
    env: dict[str, str], log: Path, nice: int, cpus: str | None = None
) -> subprocess.Popen:
    """The task worker beside gunicorn, so export jobs complete; ``nice`` lowers its CPU
    priority so that on a small machine the pages go first and exports take the rest."""
    return subprocess.Popen(
        [*pinned(cpus), "nice", "-n", str(nice), sys.executable, "manage.py", "db_worker"],
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


def exports_routed(port: int) -> bool:
    """Whether /exports/ exists yet (signed out: a redirect to the login page, not a 404)."""
    conn = HTTPConnection(HOST, port, timeout=10)
    conn.request("GET", "/exports/", headers={"Host": HOST})
    return conn.getresponse().status != 404


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds() -> dict[str, float]:
    """CPU used so far by gunicorn (master, workers and reaped workers), the task worker and
    PostgreSQL (postmaster, backends and reaped backends), from /proc."""
    # The whole machine (busy = all but idle and iowait), to tell other work apart.
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    groups: dict[str, float] = {"machine": (sum(ticks) - ticks[3] - ticks[4]) / TICK}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        pgid = int(fields[2])
        used = sum(int(x) for x in fields[11:15]) / TICK  # utime stime cutime cstime
        group = PGIDS.get(pgid) or ("postgresql" if comm.startswith("postgres") else None)
        if group:
            groups[group] = groups.get(group, 0.0) + used
    return groups


PGIDS: dict[int, str] = {}


def run_locust(args, port: int, plan_path: Path, work: Path, export: bool) -> dict:
    """Locust headless in one process; returns its figures and the CPU of every process."""
    locust = Path(sys.executable).with_name("locust")
    marker = work / "started"
    env = dict(os.environ)
    env.update(
        {
            "BENCH_PLAN": str(plan_path),
            "BENCH_PASSWORD": PASSWORD,
            "BENCH_DURATION": str(args.duration),
            "BENCH_THINK": args.think,
            "BENCH_EXPORT_WEIGHT": str(args.export_weight if export else 0),
            "BENCH_MARKER": str(marker),
            "BENCH_RESULTS": str(work / "locust.json"),
        }
    )
    command = [
        str(locust),
        "-f",
        str(BASE / "scripts" / "locustfile.py"),
        "--headless",
        "--host",
        f"http://{HOST}:{port}",
        "--users",
        str(args.users),
        "--spawn-rate",
        str(args.spawn_rate),
        # A safety cap: the locustfile stops the run BENCH_DURATION after the last login.
        "--run-time",
        f"{args.duration + 600}s",
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    log = (work / "locust.log").open("ab")
    process = subprocess.Popen(command, cwd=BASE, env=env, stdout=log, stderr=subprocess.STDOUT)
    cpu_start = locust_start = None
    started = ended = None
    while process.poll() is None:
        if cpu_start is None and marker.exists():
            started = time.monotonic()
            cpu_start = cpu_seconds()
            locust_start = _proc_cpu(process.pid)
        if started and ended is None and time.monotonic() >= started + args.duration:
            ended = time.monotonic()
            cpu_end = cpu_seconds()
            locust_end = _proc_cpu(process.pid)
        time.sleep(0.1)
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    if cpu_start is None:
        raise SystemExit("Locust ended before every user had logged in")
    if ended is None:
        ended, cpu_end = time.monotonic(), cpu_seconds()
        locust_end = (after_children.ru_utime + after_children.ru_stime) - (
            before_children.ru_utime + before_children.ru_stime
        )
    wall = ended - started
    cpu = {
        name: round((cpu_end.get(name, 0.0) - cpu_start.get(name, 0.0)) / wall, 2)
        for name in ("gunicorn", "db_worker", "postgresql")
    }
    cpu["locust"] = round((locust_end - (locust_start or 0.0)) / wall, 2)
    machine = (cpu_end["machine"] - cpu_start["machine"]) / wall
    cpu["other processes"] = round(max(0.0, machine - sum(cpu.values())), 2)
    return {
        "wall": wall,
        "cpu_cores": cpu,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "exit": process.returncode,
    }


def _proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(x) for x in fields[11:13]) / TICK


# --- report ------------------------------------------------------------------------------------


PAGES = [
    # (Locust name, access-log method and path pattern)
    ("list", "GET", re.compile(r"^/evaluations/$")),
    ("detail", "GET", re.compile(r"^/evaluations/\d+/$")),
    ("edit (GET)", "GET", re.compile(r"^/evaluations/\d+/edit/$")),
    ("save (POST)", "POST", re.compile(r"^/evaluations/\d+/edit/$")),
    ("pdf", "GET", re.compile(r"^/evaluations/\d+/pdf/$")),
    ("export (POST)", "POST", re.compile(r"^/exports/$")),
    ("export status", "GET", re.compile(r"^/exports/\d+/status\.json$")),
    ("export download", "GET", re.compile(r"^/exports/\d+/download/$")),
    ("healthz (baseline)", "GET", re.compile(r"^/healthz$")),
]
START_MARK = "/healthz?bench-start"
TARGET_MS = 200
TARGET_PAGES = ("list", "detail", "save (POST)")


def server_times(access_log: Path) -> dict[str, list[float]]:
    """Milliseconds each worker spent per page, after the start mark in the access log."""
    times: dict[str, list[float]] = {}
    counting = False
    for line in access_log.read_text(errors="replace").splitlines():
        parts = line.split()
        if len(parts) != 4:
            continue
        method, target, _status, micros = parts
        if target == START_MARK:
            counting = True
            continue
        if not counting:
            continue
        path = target.split("?", 1)[0]
        for page, wanted, pattern in PAGES:
            if method == wanted and pattern.match(path):
                times.setdefault(page, []).append(int(micros) / 1000)
                break
    return times


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))]


def report(client: dict, server: dict, meta: dict) -> dict:
    """p50/p95 per page on both sides, the ratio to /healthz; prints the table."""
    times, failures = client["times"], client["failures"]
    base = times.get("healthz (baseline)")
    base_p50 = statistics.median(base) if base else None
    base_p95 = percentile(base, 0.95) if base else None
    rows = []
    names = [p for p, _m, _r in PAGES] + ["export xlsx (click to done)"]
    for name in names:
        values = times.get(name)
        if not values:
            continue
        p50, p95 = statistics.median(values), percentile(values, 0.95)
        on_server = server.get(name, [])
        rows.append(
            {
                "page": name,
                "requests": len(values),
                "errors": len(failures.get(name, [])),
                "p50_ms": round(p50, 1),
                "p95_ms": round(p95, 1),
                "max_ms": round(max(values), 1),
                "p50_vs_healthz": round(p50 / base_p50, 1) if base_p50 else None,
                "p95_vs_healthz": round(p95 / base_p95, 1) if base_p95 else None,
                "server_p50_ms": round(statistics.median(on_server), 1) if on_server else None,
                "server_p95_ms": round(percentile(on_server, 0.95), 1) if on_server else None,
            }
        )
    requests = sum(len(v) for k, v in times.items() if k != "export xlsx (click to done)")
    errors = sum(len(v) for v in failures.values())
    missed = [r["page"] for r in rows if r["page"] in TARGET_PAGES and r["p95_ms"] >= TARGET_MS]
    result = {
        **meta,
        "requests": requests,
        "errors": errors,
        "throughput_rps": round(requests / meta["seconds"], 1),
        "target_met": not errors and not missed,
        "target_missed_pages": missed,
        "failures": [f"{k}: {m}" for k, v in failures.items() for m in v][:20],
        "pages": rows,
    }
    print()
    print(
        f"{requests} requests in {meta['seconds']} s = {result['throughput_rps']} req/s, "
        f"{errors} errors; {meta['users']} users (think {meta['think_s']} s), "
        f"{meta['forms']} forms, {meta['workers']} gunicorn workers + 1 db_worker "
        f"(nice {meta['worker_nice']}), "
        + (f"pinned (gunicorn:db_worker cores {meta['pin']}), " if meta.get("pin") else "")
        + f"{meta['database']}, {meta['cpus']} CPUs"
    )
    # CPU time is what a request costs whatever else runs; wall time is not.
    result["gunicorn_cpu_ms_per_request"] = round(
        meta["cpu_cores"]["gunicorn"] * meta["seconds"] * 1000 / max(1, requests), 1
    )
    print(
        "CPU (cores busy on average): "
        + ", ".join(f"{k} {v}" for k, v in meta["cpu_cores"].items())
        + f"; gunicorn {result['gunicorn_cpu_ms_per_request']} ms of CPU per request"
        + f"; load average at the end {meta['load_average_at_end']}"
    )
    print(
        "| page | requests | errors | p50 ms | p95 ms | max ms | p50 / healthz | p95 / healthz "
        "| server p50 ms | server p95 ms |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['page']} | {r['requests']} | {r['errors']} | {r['p50_ms']} | "
            f"{r['p95_ms']} | {r['max_ms']} | {r['p50_vs_healthz']}× | {r['p95_vs_healthz']}× | "
            f"{r['server_p50_ms']} | {r['server_p95_ms']} |"
        )
    for line in result["failures"]:
        print("failure:", line)
    verdict = "met" if result["target_met"] else f"MISSED ({', '.join(missed) or 'errors'})"
    print(f"target (0 errors, p95 < {TARGET_MS} ms for list, detail, save): {verdict}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forms", type=int, default=100_000)
    parser.add_argument(
        "--departments", type=int, default=0, help="default: one per user (each user's own)"
    )
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument(
        "--duration", type=int, default=300, help="seconds measured, after every user logged in"
    )
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument(
        "--think",
        default="2,8",
        help="a user's pause between two tasks, uniform between MIN,MAX seconds (default 2,8)",
    )
    parser.add_argument("--spawn-rate", type=float, default=5)
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=10,
        help="CPU niceness of the db_worker (default 10: below gunicorn; 0: the same)",
    )
    parser.add_argument(
        "--export-weight",
        type=int,
        default=1,
        help="weight of the export job among the tasks (list 30, detail 30, save 15, pdf 5, "
        "healthz 19); 0 leaves it out",
    )
    parser.add_argument(
        "--pin",
        metavar="SERVER:WORKER",
        help="run gunicorn and the db_worker on these cores (taskset -c), e.g. 1:0 — the "
        "task worker on a machine of its own, as far as one machine can stand for two",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs)")
    parser.add_argument(
        "--seed-only", action="store_true", help="seed, then stop (to study the data: EXPLAIN)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--allow-sqlite", action="store_true", help="run without DATABASE_URL (not representative)"
    )
    args = parser.parse_args()
    args.departments = args.departments or args.users
    server_cpus, _, worker_cpus = (args.pin or "").partition(":")
    if args.pin and not (server_cpus and worker_cpus and shutil.which("taskset")):
        raise SystemExit("--pin SERVER:WORKER needs both core lists (e.g. 1:0) and taskset")
    if args.departments < args.users:
        raise SystemExit("--departments must be at least --users (one department per user)")
    if not os.environ.get("DATABASE_URL") and not args.allow_sqlite:
        raise SystemExit(
            "DATABASE_URL is not set: run  scripts/with-postgres.sh .venv/bin/python scripts/bench_load.py"
        )

    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    # Seeding runs in this process; the server runs in production mode.
    os.environ["DJANGO_DEBUG"] = "1"
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
    plan, seeding = seed(args.forms, args.departments)
    t0 = time.monotonic()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    seeding["analyze_seconds"] = round(time.monotonic() - t0, 1)
    rows = sum(seeding["rows"].values())
    print(
        f"seeded {args.forms} forms in {args.departments} departments: {rows} rows "
        f"({', '.join(f'{k} {v}' for k, v in seeding['rows'].items())}) in "
        f"{seeding['seed_seconds']} s = {args.forms / seeding['seed_seconds']:.0f} forms/s; "
        f"VACUUM ANALYZE {seeding['analyze_seconds']} s"
    )
    database = connection.vendor
    connection.close()
    if args.seed_only:
        shutil.rmtree(work, ignore_errors=True)
        return
    plan_path = work / "plan.json"
    plan_path.write_text(json.dumps(dict(list(plan.items())[: args.users])))

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
    access_log = work / "access.log"
    server = start_server(env, work / "gunicorn.log", access_log, server_cpus or None)
    worker = start_worker(env, work / "worker.log", args.worker_nice, worker_cpus or None)
    PGIDS.update({server.pid: "gunicorn", worker.pid: "db_worker"})
    try:
        export = args.export_weight > 0 and exports_routed(port)
        if args.export_weight and not export:
            print("/exports/ is not routed (404): the export job is left out of the mix")
        run = run_locust(args, port, plan_path, work, export)
        time.sleep(1)  # let the access log catch up
    finally:
        stop(worker)
        stop(server)
    results = work / "locust.json"
    if not results.exists():
        raise SystemExit(f"Locust wrote no results; see {work / 'locust.log'}")
    client = json.loads(results.read_text())
    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "forms": args.forms,
        "departments": args.departments,
        "users": args.users,
        "think_s": args.think,
        "workers": args.workers,
        "worker_nice": args.worker_nice,
        "pin": args.pin or "",
        "cpus": os.cpu_count(),
        "database": database,
        "export": export,
        "seconds": round(run["wall"], 1),
        "cpu_cores": run["cpu_cores"],
        "load_average_at_end": run["load_average"],
        **seeding,
    }
    result = report(client, server_times(access_log), meta)
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    if args.keep or result["errors"]:
        print(f"logs kept in {work} (gunicorn.log, worker.log, locust.log, access.log)")
    else:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if result["errors"] == 0 and run["exit"] in (0, 1) else 1)


if __name__ == "__main__":
    main()
