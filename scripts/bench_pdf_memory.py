#!/usr/bin/env python
"""Benchmark: peak memory of the bulk PDF exports as the number of forms grows.

Usage: .venv/bin/python scripts/bench_pdf_memory.py N pdf|zip
Imports the sample forms into a throwaway SQLite database, exports N forms (the samples
repeated) as one merged PDF or a ZIP into a temporary file, and prints the peak RSS.
Run it for two values of N and compare: the figure should not grow with N.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))


def main() -> None:
    n, kind = int(sys.argv[1]), sys.argv[2]
    os.environ["DJANGO_VAR_DIR"] = tempfile.mkdtemp(prefix="bench-pdf-memory-")
    os.environ["DJANGO_DEBUG"] = "1"
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from evaluations.importer.service import import_file
    from evaluations.models import Evaluation
    from exports.bulk import NoProgress, with_campaign_flags, write_merged, write_zip
    from exports.compose import evaluation_pdf

    call_command("migrate", verbosity=0)
    for path in sorted((BASE / "sample_data").glob("*.txt")):
        import_file(data=path.read_bytes(), name=path.name)
    forms = list(Evaluation.objects.select_related("department"))
    forms = (forms * (n // len(forms) + 1))[:n]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    with tempfile.TemporaryFile() as target:
        writer = write_merged if kind == "pdf" else write_zip
        writer(with_campaign_flags(forms), target, NoProgress(), pdf_of=evaluation_pdf)
        size = target.tell()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{kind}: {n} forms in {time.perf_counter() - started:.1f} s, {size / 1e6:.1f} MB; "
        f"peak RSS {peak:.0f} MB (before export {before:.0f} MB)"
    )


if __name__ == "__main__":
    main()
