#!/usr/bin/env python
"""Benchmark: server time of the list, detail, review and edit pages beside ``/healthz``.

Usage: .venv/bin/python scripts/bench_page_cpu.py [--forms 2000] [--requests 40]
       [--before REF] [--profile PAGE]
Production settings (``DJANGO_DEBUG`` off, the cached template loader, WhiteNoise's
manifest storage after ``collectstatic``), one process, a throwaway SQLite database with
forms of 4 funding rows and 12 indicators (``bench_pages.build``). Each page is requested
``--requests`` times through Django's request handler (after one warm-up); the table gives
the median wall and CPU milliseconds, the Python function calls of one request (a measure
of the work that a busy machine does not change), the queries and the size of the HTML,
``/healthz`` (one ``SELECT 1``, no template) as the baseline of the same run.
``--before REF`` first runs the same measurement on a throwaway ``git worktree`` of REF (e.g.
``main``) and prints both tables side by side; ``--profile PAGE`` (e.g. ``edit``) prints the
cProfile functions that take the most time on that page.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
TARGETS = {
    "list": 15.0,
    "list (finance)": 15.0,
    "detail": 15.0,
    "review queue": 15.0,
    "review page": 15.0,
    "edit": 25.0,
}


def production_environment(tmp: str, tree: Path) -> None:
    """Production settings for a process that only talks to itself over plain HTTP."""
    os.environ.pop("DJANGO_DEBUG", None)
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    os.environ["DJANGO_VAR_DIR"] = tmp
    os.environ["DJANGO_STATIC_ROOT"] = str(Path(tmp) / "static")
    os.environ["DJANGO_SECURE_SSL_REDIRECT"] = "0"
    os.environ["DJANGO_SESSION_COOKIE_SECURE"] = "0"
    os.environ["DJANGO_CSRF_COOKIE_SECURE"] = "0"
    os.environ["DJANGO_LOG_LEVEL"] = "WARNING"
    sys.path[:0] = [str(tree), str(tree / "scripts")]
    os.chdir(tree)


def measure(client: object, url: str, requests: int) -> dict[str, float]:
    """Median wall and CPU milliseconds of ``requests`` GETs, queries and bytes of one."""
    from django.db import connection

    statements: list[str] = []

    def count(execute, sql, params, many, context):  # noqa: ANN001
        statements.append(sql)
        return execute(sql, params, many, context)

    client.get(url)  # type: ignore[attr-defined]  # warm-up: templates compiled, caches filled
    with connection.execute_wrapper(count):
        response = client.get(url)  # type: ignore[attr-defined]
    assert response.status_code == 200, (url, response.status_code)
    wall, cpu = [], []
    for _ in range(requests):
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)  # type: ignore[attr-defined]
        cpu.append((time.process_time() - start_cpu) * 1000)
        wall.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    # Python function calls of one request: unlike time, the same on a busy machine.
    profiler = cProfile.Profile()
    profiler.runcall(client.get, url)  # type: ignore[attr-defined]
    return {
        "wall": statistics.median(wall),
        "cpu": statistics.median(cpu),
        "calls": pstats.Stats(profiler).total_calls,  # type: ignore[attr-defined]
        "queries": len(statements),
        "kb": len(response.content) / 1024,
    }


def run(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Build the data, measure every page; return {page: figures}."""
    import django

    django.setup()
    from bench_pages import build
    from django.core.management import call_command
    from django.test import Client

    from evaluations.models import Evaluation, Status

    call_command("migrate", verbosity=0)
    call_command("collectstatic", verbosity=0, interactive=False)
    staff, finance, pk = build(args.forms, 20)
    # Some forms awaiting review so that the review queue has a full page.
    Evaluation.objects.filter(
        pk__in=list(Evaluation.objects.values_list("pk", flat=True)[:200])
    ).update(status=Status.SUBMITTED)
    submitted = Evaluation.objects.filter(status=Status.SUBMITTED).order_by("pk")[0].pk
    staff_client, finance_client = Client(), Client()
    staff_client.force_login(staff)
    finance_client.force_login(finance)
    pages = {
        "healthz": (staff_client, "/healthz"),
        "list": (staff_client, "/evaluations/"),
        "list (finance)": (finance_client, "/evaluations/"),
        "detail": (staff_client, f"/evaluations/{pk}/"),
        "review queue": (finance_client, "/review/"),
        "review page": (finance_client, f"/review/{submitted}/"),
        "edit": (staff_client, f"/evaluations/{pk}/edit/"),
    }
    results = {name: measure(client, url, args.requests) for name, (client, url) in pages.items()}
    if args.profile:
        client, url = pages[args.profile]
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.requests):
            client.get(url)  # type: ignore[attr-defined]
        profiler.disable()
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(40)
    return results


def table(after: dict, before: dict | None) -> str:
    """Markdown table of the pages; with ``before``, both runs side by side."""
    lines = []
    if before:
        lines.append(
            "| page | before ms | before CPU ms | after ms | after CPU ms | target | "
            "after / healthz | calls before → after | queries before → after | "
            "KB before → after |"
        )
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    else:
        lines.append("| page | ms | CPU ms | target | / healthz | calls | queries | KB |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    base = after["healthz"]["wall"]
    for page, now in after.items():
        target = f"< {TARGETS[page]:.0f}" if page in TARGETS else "–"
        ratio = f"{now['wall'] / base:.1f}×"
        if before:
            was = before[page]
            lines.append(
                f"| {page} | {was['wall']:.1f} | {was['cpu']:.1f} | **{now['wall']:.1f}** | "
                f"{now['cpu']:.1f} | {target} | {ratio} | {was['calls']:,} → {now['calls']:,} | "
                f"{was['queries']} → {now['queries']} "
                f"| {was['kb']:.0f} → {now['kb']:.0f} |"
            )
        else:
            lines.append(
                f"| {page} | **{now['wall']:.1f}** | {now['cpu']:.1f} | {target} | {ratio} | "
                f"{now['calls']:,} | {now['queries']} | {now['kb']:.0f} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forms", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--before", metavar="REF", help="also measure this git ref, first")
    parser.add_argument("--profile", choices=["healthz", *TARGETS])
    parser.add_argument("--tree", type=Path, default=BASE, help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    before = None
    if args.before:
        checkout = Path(tempfile.mkdtemp(prefix="bench-page-cpu-tree-")) / "tree"
        subprocess.run(
            [
                "git",
                "-C",
                str(BASE),
                "worktree",
                "add",
                "--detach",
                "-q",
                str(checkout),
                args.before,
            ],
            check=True,
        )
        try:
            command = [sys.executable, __file__, "--json", "--tree", str(checkout)]
            command += ["--forms", str(args.forms), "--requests", str(args.requests)]
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            before = json.loads(output.splitlines()[-1])
        finally:
            subprocess.run(
                ["git", "-C", str(BASE), "worktree", "remove", "--force", str(checkout)],
                check=False,
            )
            shutil.rmtree(checkout.parent, ignore_errors=True)

    tmp = tempfile.mkdtemp(prefix="bench-page-cpu-")
    try:
        production_environment(tmp, args.tree.resolve())
        results = run(args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        print(json.dumps(results))
        return
    print(
        f"{args.forms} forms (12 indicators each), production settings, one process, "
        f"median of {args.requests} requests"
        + (f"; before = {args.before}, measured first in the same run" if before else "")
    )
    print(table(results, before))


if __name__ == "__main__":
    main()
