#!/usr/bin/env python
"""Benchmark: parse and import the three sample files; prints forms per second.

Usage: .venv/bin/python scripts/bench_import.py [--repeat N]
Runs against a throwaway SQLite database (or DATABASE_URL if set).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="bench-import-")
    os.environ.setdefault("DJANGO_VAR_DIR", tmp)
    os.environ["DJANGO_DEBUG"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from evaluations.core.scoring import evaluate
    from evaluations.importer.service import import_file
    from evaluations.importer.text import parse_text

    call_command("migrate", verbosity=0)
    files = sorted((BASE / "sample_data").glob("*.txt"))
    blobs = [(f.name, f.read_bytes()) for f in files]

    parse_times, import_times, reimport_times = [], [], []
    forms = 0
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        forms = 0
        for _name, data in blobs:
            result = parse_text(data)
            for form in result.forms:
                evaluate(form)
            forms += len(result.forms)
        parse_times.append(time.perf_counter() - t0)

        with connection.cursor() as c:  # start from an empty database each round
            for table in (
                "evaluations_notification",
                "evaluations_reviewcomment",
                "evaluations_evaluationevent",
                "evaluations_evaluationversion",
                "evaluations_indicator",
                "evaluations_fundingrow",
                "evaluations_evaluation",
                "departments_department",
            ):
                c.execute(f"DELETE FROM {table}")
        t0 = time.perf_counter()
        for name, data in blobs:
            import_file(data=data, name=name)
        import_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        for name, data in blobs:
            import_file(data=data, name=name)
        reimport_times.append(time.perf_counter() - t0)

    def line(label: str, times: list[float]) -> None:
        med = statistics.median(times)
        print(f"{label:38} median {med * 1000:8.1f} ms   {forms / med:8.0f} forms/s")

    print(f"{len(files)} files, {forms} forms, {args.repeat} rounds, database {connection.vendor}")
    line("parse + score (no database)", parse_times)
    line("import into an empty database", import_times)
    line("re-import (all unchanged)", reimport_times)


if __name__ == "__main__":
    main()
