#!/usr/bin/env python
"""Benchmark PDF rendering on the sample forms, in a throwaway SQLite database.

Usage: .venv/bin/python scripts/bench_pdf.py [--repeat N]

Prints the median seconds per one-page form and the total seconds of the bulk
export (merged PDF and ZIP) of every sample form. Exits 1 when a target is missed
(median < 0.5 s, bulk < 20 s).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from io import BytesIO
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
MEDIAN_TARGET = 0.5
BULK_TARGET = 20.0


def main() -> int:
    """Run the benchmark and report the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="render every form N times")
    args = parser.parse_args()

    var_dir = tempfile.mkdtemp(prefix="bench-pdf-")
    os.environ["DJANGO_DEBUG"] = "1"
    os.environ["DJANGO_VAR_DIR"] = var_dir
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(PROJECT_DIR))

    import django

    django.setup()
    from django.core.management import call_command
    from pypdf import PdfReader

    from evaluations import pdf
    from evaluations.importer.service import import_file
    from evaluations.models import Evaluation

    call_command("migrate", verbosity=0)
    samples = sorted((PROJECT_DIR / "sample_data").glob("*.txt"))
    for path in samples:
        import_file(data=path.read_bytes(), name=path.name)
    evaluations = list(
        Evaluation.objects.select_related("department")
        .prefetch_related("funding_rows", "indicators")
        .order_by("department__name", "project_name")
    )
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    print(f"database: {var_dir}/db.sqlite3, {len(evaluations)} forms from {len(samples)} files")

    started = time.perf_counter()
    pdf.evaluation_pdf(evaluations[0])  # loads fonts and the stylesheet once
    print(f"first render (fonts and stylesheet loading): {time.perf_counter() - started:.2f} s")

    # Wall time is what a user waits; CPU time shows the cost when the machine is shared.
    one_page: list[tuple[float, float]] = []
    longer: list[tuple[float, float]] = []
    for _round in range(args.repeat):
        for evaluation in evaluations:
            wall, cpu = time.perf_counter(), time.process_time()
            data = pdf.evaluation_pdf(evaluation)
            timing = (time.perf_counter() - wall, time.process_time() - cpu)
            pages = len(PdfReader(BytesIO(data)).pages)
            (one_page if pages == 1 else longer).append(timing)
    for label, timings in (("one-page forms", one_page), ("longer forms", longer)):
        if timings:
            print(
                f"{label}: {len(timings)} renders, median "
                f"{statistics.median(t[0] for t in timings):.3f} s wall, "
                f"{statistics.median(t[1] for t in timings):.3f} s CPU"
            )
    median = statistics.median(t[0] for t in (one_page or longer))

    with tempfile.TemporaryFile() as target:
        started = time.perf_counter()
        count = pdf.write_merged_pdf(evaluations, target)
        bulk_pdf = time.perf_counter() - started
        size = target.tell()
    print(f"bulk merged PDF: {count} forms in {bulk_pdf:.2f} s ({size / 1e6:.1f} MB)")
    with tempfile.TemporaryFile() as target:
        started = time.perf_counter()
        count = pdf.write_pdf_zip(evaluations, target)
        bulk_zip = time.perf_counter() - started
        size = target.tell()
    print(f"bulk ZIP: {count} forms in {bulk_zip:.2f} s ({size / 1e6:.1f} MB)")

    ok = median < MEDIAN_TARGET and max(bulk_pdf, bulk_zip) < BULK_TARGET
    print(
        f"targets: median < {MEDIAN_TARGET} s, bulk < {BULK_TARGET} s: "
        + ("met" if ok else "MISSED")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
