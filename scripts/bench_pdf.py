#!/usr/bin/env python
"""Benchmark PDF rendering on the sample forms, in a throwaway SQLite database.

Usage: .venv/bin/python scripts/bench_pdf.py [--repeat N] [--sizes]
       .venv/bin/python scripts/bench_pdf.py --longest [--shape prose|lines|numbers] [--repeat N]

Prints the median seconds and size per one-page form, the same for a bare WeasyPrint page
(WeasyPrint alone, as installed, on the form's HTML and stylesheet: the same page in the
same font, without the database, the template, the label merging or the font embedding of
common/pdffonts.py; rendered right after each form),
the seconds per form of ``manage.py export_pdf`` of the largest year with its ratio to the
bare page, and the total seconds and size of the bulk export (merged PDF and ZIP) of every
sample form. Exits 1 when a target is missed (median < 0.5 s, export_pdf per form within
1.5 × the bare page in CPU time, bulk < 20 s).

With --longest: the longest form the limits allow (every text at its length in
evaluations/core/limits.py, MAX_INDICATORS rows), stored through the service like any
form, rendered beside a 12-row baseline form in the same run, in two shapes of
text: Chinese prose, one character per line, and short numbers between characters
("1一1一…": the most figures the texts can hold). Prints each form's time and the peak
memory its render adds (--shape: that shape only, so that its peak is not hidden in memory
an earlier render left behind). Exits 1 when one takes 5 s or more.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from io import BytesIO, StringIO
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
MEDIAN_TARGET = 0.5
BULK_TARGET = 20.0
# A form end to end (manage.py export_pdf) against a bare WeasyPrint page of its characters.
BARE_RATIO_TARGET = 1.5
LONGEST_TARGET = 5.0
BASELINE_ROWS = 12
# Shapes of text for the longest form: every character a break opportunity (prose), a line
# break after every character (the most lines a text of that length can print), and a
# one-digit number after every character (the most figures that must not break inside).
FILLERS = {
    "prose": "项目资金按计划拨付到位，绩效目标全面完成，群众满意度较高。",
    "lines": "一\n",
    "numbers": "1一",
}


def _fill(length: int, filler: str) -> str:
    return (filler * (length // len(filler) + 1))[:length]


def longest_form(filler: str = FILLERS["prose"], rows: int | None = None) -> Any:
    """The longest form the limits allow: every text at its limit, MAX_INDICATORS rows.

    Texts end with a marker ("…末行" for the last indicator row) so a test can find them
    in the PDF's text. Needs Django set up (only for the imports).
    """
    from decimal import Decimal

    from evaluations.core.evaluation_data import FormData, FundingData, IndicatorData
    from evaluations.core.limits import MAX_INDICATORS, SINGLE_LINE_TEXTS, TEXT_LIMITS

    rows = MAX_INDICATORS if rows is None else rows

    def text(field: str, marker: str = "", prefix: str = "") -> str:
        # Names hold no line break (SINGLE_LINE_TEXTS): theirs are spaces.
        shape = filler.replace("\n", " ") if field in SINGLE_LINE_TEXTS else filler
        return prefix + _fill(TEXT_LIMITS[field] - len(marker) - len(prefix), shape) + marker

    weight = (Decimal(90) / rows).quantize(Decimal("0.01"))
    indicators = [
        IndicatorData(
            # A label of its own on every row: no merged cells, the slowest to lay out.
            level1=text("level1", prefix=f"{i}"),
            level2=text("level2", prefix=f"{i}"),
            name=text("name", f"第{i}行" if i < rows else "末行"),
            target=text("target"),
            actual=text("actual"),
            weight=weight,
            score=weight,
            deviation=text("deviation"),
        )
        for i in range(1, rows + 1)
    ]
    money = Decimal("99999999.9999")
    return FormData(
        year=2021,
        project_name=text("project_name"),
        department=text("department"),
        implementing_unit=text("implementing_unit"),
        goal_target=text("goal_target"),
        goal_actual=text("goal_actual"),
        funding=[
            FundingData(kind, money, money, money)
            for kind in ("total", "current_year", "carryover", "other")
        ],
        execution_weight=Decimal("10"),
        execution_score=Decimal("10"),
        stated_total=Decimal("100"),
        indicators=indicators,
    )


def _memory_kib(field: str) -> int:
    """A figure of /proc/self/status in KiB (VmRSS: now; VmHWM: the peak since the reset)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak() -> None:
    """Start measuring the peak RSS again from the current RSS (Linux: clear_refs 5)."""
    Path("/proc/self/clear_refs").write_text("5")


def _longest(repeat: int, shapes: list[str]) -> int:
    """Time the longest allowed form against a 12-row baseline, both stored."""
    from pypdf import PdfReader

    from departments.models import Department
    from evaluations.core.limits import MAX_INDICATORS
    from evaluations.services import evaluation_create
    from exports import compose as pdf

    department = Department.objects.create(name="基准测试部门")
    baseline_form = longest_form(FILLERS["prose"], rows=BASELINE_ROWS)
    # The baseline is an ordinary form: short texts, 12 rows.
    for field in ("project_name", "implementing_unit", "goal_target", "goal_actual"):
        setattr(baseline_form, field, getattr(baseline_form, field)[:40])
    for ind in baseline_form.indicators:
        ind.level1, ind.level2, ind.name = "产出指标", "数量指标", ind.name[-12:]
        ind.target, ind.actual, ind.deviation = ">=95%", "96%", ""
    baseline_form.project_name = "基准：十二行的普通表"
    cases = [("baseline, 12 rows", baseline_form)]
    for shape in shapes:
        form = longest_form(FILLERS[shape])
        form.project_name = f"{shape}-{form.project_name}"[: len(form.project_name)]
        cases.append((f"longest, {MAX_INDICATORS} rows, {shape}", form))
    stored = []
    for label, form in cases:
        form.department = department.name
        evaluation, _result = evaluation_create(department=department, data=form, user=None)
        stored.append((label, evaluation))

    pdf.evaluation_pdf(stored[0][1])  # loads fonts and the stylesheet once
    worst = 0.0
    for label, evaluation in stored:
        walls, cpus, peaks = [], [], []
        for _round in range(repeat):
            _reset_peak()
            rss = _memory_kib("VmRSS")
            wall, cpu = time.perf_counter(), time.process_time()
            data = pdf.evaluation_pdf(evaluation)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
            peaks.append(_memory_kib("VmHWM") - rss)
        pages = len(PdfReader(BytesIO(data)).pages)
        print(
            f"{label}: median {statistics.median(walls):.2f} s wall, "
            f"{statistics.median(cpus):.2f} s CPU, peak +{max(peaks) / 1024:.0f} MB RSS, "
            f"{pages} pages, {len(data) / 1e3:.0f} KB"
        )
        if label.startswith("longest"):
            worst = max(worst, statistics.median(walls))
    ok = worst < LONGEST_TARGET
    print(f"target: longest < {LONGEST_TARGET} s: " + ("met" if ok else "MISSED"))
    return 0 if ok else 1


def main() -> int:
    """Run the benchmark and report the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="render every form N times")
    parser.add_argument(
        "--longest", action="store_true", help="time the longest form the limits allow"
    )
    parser.add_argument("--sizes", action="store_true", help="print each form's pages and PDF size")
    parser.add_argument(
        "--shape", choices=sorted(FILLERS), help="with --longest: only this shape of text"
    )
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
    from django.template.loader import render_to_string
    from pypdf import PdfReader
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    from common import pdf as printing
    from evaluations.importer.service import import_file
    from evaluations.models import Evaluation
    from exports import compose as pdf
    from exports.bulk import NoProgress, with_campaign_flags, write_merged, write_zip
    from exports.pdf import TEMPLATE

    call_command("migrate", verbosity=0)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    if args.longest:
        return _longest(max(args.repeat, 1), [args.shape] if args.shape else list(FILLERS))
    samples = sorted((PROJECT_DIR / "sample_data").glob("*.txt"))
    for path in samples:
        import_file(data=path.read_bytes(), name=path.name)
    evaluations = list(
        Evaluation.objects.select_related("department")
        .prefetch_related("funding_rows", "indicators")
        .order_by("department__name", "project_name")
    )
    print(f"database: {var_dir}/db.sqlite3, {len(evaluations)} forms from {len(samples)} files")

    started = time.perf_counter()
    pdf.evaluation_pdf(evaluations[0])  # loads fonts and the stylesheet once
    print(f"first render (fonts and stylesheet loading): {time.perf_counter() - started:.2f} s")

    # Wall time is what a user waits; CPU time shows the cost when the machine is shared.
    # Each form is followed by a bare WeasyPrint page of the same HTML, so that both are
    # measured under the same load.
    bare_pages = [
        render_to_string(TEMPLATE, pdf.evaluation_context(evaluation)) for evaluation in evaluations
    ]
    base_url = printing.stylesheet_path().parent.parent.as_uri() + "/"
    fonts = FontConfiguration()  # one for all bare pages, as common/pdf.py keeps one
    stylesheet = CSS(filename=str(printing.stylesheet_path()), font_config=fonts)
    options = {"stylesheets": [stylesheet], "font_config": fonts}
    HTML(string=bare_pages[0], base_url=base_url).write_pdf(**options)
    one_page: list[tuple[float, float]] = []
    longer: list[tuple[float, float]] = []
    sizes: list[int] = []
    bare: list[tuple[float, float, int]] = []
    for _round in range(args.repeat):
        for evaluation, page in zip(evaluations, bare_pages, strict=True):
            wall, cpu = time.perf_counter(), time.process_time()
            data = pdf.evaluation_pdf(evaluation)
            timing = (time.perf_counter() - wall, time.process_time() - cpu)
            pages = len(PdfReader(BytesIO(data)).pages)
            (one_page if pages == 1 else longer).append(timing)
            if args.sizes and _round == 0:
                print(
                    f"  {evaluation.year} {evaluation.project_name}: {pages} page(s), "
                    f"{len(data) / 1e3:.1f} KB"
                )
            if pages == 1:
                sizes.append(len(data))
                wall, cpu = time.perf_counter(), time.process_time()
                bare_data = HTML(string=page, base_url=base_url).write_pdf(**options)
                bare.append((time.perf_counter() - wall, time.process_time() - cpu, len(bare_data)))
    for label, timings in (("one-page forms", one_page), ("longer forms", longer)):
        if timings:
            print(
                f"{label}: {len(timings)} renders, median "
                f"{statistics.median(t[0] for t in timings):.3f} s wall, "
                f"{statistics.median(t[1] for t in timings):.3f} s CPU"
            )
    median = statistics.median(t[0] for t in (one_page or longer))
    # A shared machine stretches wall times unevenly: the ratios are given in CPU time too.
    bare_wall = statistics.median(b[0] for b in bare) if bare else float("nan")
    bare_cpu = statistics.median(b[1] for b in bare) if bare else float("nan")
    if sizes:
        print(
            f"one-page forms: median {statistics.median(sizes) / 1e3:.1f} KB "
            f"(smallest {min(sizes) / 1e3:.1f}, largest {max(sizes) / 1e3:.1f})"
        )
        print(
            f"bare WeasyPrint page of the same HTML: median {bare_wall:.3f} s wall, "
            f"{bare_cpu:.3f} s CPU, {statistics.median(b[2] for b in bare) / 1e3:.1f} KB; "
            f"one-page form / bare: {median / bare_wall:.2f} wall, "
            f"{statistics.median(t[1] for t in one_page) / bare_cpu:.2f} CPU"
        )

    # End to end: the export command of the largest year, rendering every form itself.
    year = statistics.mode(evaluation.year for evaluation in evaluations)
    exported = Evaluation.objects.filter(year=year).count()
    with tempfile.TemporaryDirectory() as folder:
        wall, cpu = time.perf_counter(), time.process_time()
        call_command("export_pdf", year=year, output=f"{folder}/year.pdf", stdout=StringIO())
        per_form = (time.perf_counter() - wall) / exported
        per_form_cpu = (time.process_time() - cpu) / exported
        print(
            f"manage.py export_pdf --year {year}: {exported} forms "
            f"({Path(folder, 'year.pdf').stat().st_size / 1e6:.2f} MB), per form "
            f"{per_form:.3f} s wall, {per_form_cpu:.3f} s CPU = {per_form / bare_wall:.2f} "
            f"wall, {per_form_cpu / bare_cpu:.2f} CPU × the bare page"
        )

    with tempfile.TemporaryFile() as target:
        started = time.perf_counter()
        count = write_merged(
            with_campaign_flags(evaluations), target, NoProgress(), pdf_of=pdf.evaluation_pdf
        )
        bulk_pdf = time.perf_counter() - started
        size = target.tell()
    print(f"bulk merged PDF: {count} forms in {bulk_pdf:.2f} s ({size / 1e6:.1f} MB)")
    with tempfile.TemporaryFile() as target:
        started = time.perf_counter()
        count = write_zip(
            with_campaign_flags(evaluations), target, NoProgress(), pdf_of=pdf.evaluation_pdf
        )
        bulk_zip = time.perf_counter() - started
        size = target.tell()
    print(f"bulk ZIP: {count} forms in {bulk_zip:.2f} s ({size / 1e6:.1f} MB)")

    ok = (
        median < MEDIAN_TARGET
        and per_form_cpu < BARE_RATIO_TARGET * bare_cpu
        and max(bulk_pdf, bulk_zip) < BULK_TARGET
    )
    print(
        f"targets: median < {MEDIAN_TARGET} s, export_pdf per form < {BARE_RATIO_TARGET} × "
        f"the bare page (CPU), bulk < {BULK_TARGET} s: " + ("met" if ok else "MISSED")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
