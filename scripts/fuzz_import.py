#!/usr/bin/env python
"""Fuzz the importers (text, .xlsx, .docx) with mutated files, outside CI.

Usage: .venv/bin/python scripts/fuzz_import.py [--inputs 10000] [--seed 1] [--jobs 2]
       [--timeout 5] [--memory-limit 500] [--out DIR]

Seeds are the sample text dumps (whole files and single forms) and workbooks and Word
documents generated from the sample forms (exports.excel's export, with its flat
sheet, and the official layout with merged cells in Word). Each input is one of them
mutated atheris/AFL-style: bytes flipped, set, inserted, deleted, duplicated or spliced
from another seed, numbers swapped for boundary values; for .xlsx/.docx the mutation
goes either into the raw archive or into one XML entry that is then zipped again, so
the XML readers are reached and not only the zip checks.

Each input is imported in a forked child with an address-space limit (RLIMIT_AS) and a
wall-time limit, against a throwaway SQLite database (one copy per job, already holding
a few forms so imports also update): ``import_file`` runs for real inside a transaction
that is rolled back afterwards. Reported:

- crash: an exception escaped import_file (the importer must report problems instead);
- hang: the child outlived --timeout and was killed;
- memory: MemoryError, or a child killed by a signal (RLIMIT_AS reached);
- partial write: a report that says failed while rows were written (or rows written
  that the report does not account for);
- reader errors: exceptions the readers caught and turned into a problem ("内部错误",
  "无法读取 …：TypeError"), counted by exception name: not failures of the contract,
  but each one is a reader bug worth a look.

Inputs that crash, hang, blow the memory, write partially, make a reader report an
exception or take over 2 s are saved in --out; one --seed always makes the same inputs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
import traceback
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))

MIB = 1024 * 1024
SLOW = 2.0  # seconds: inputs slower than this are saved (and counted) for a look
INTERESTING_NUMBERS = [
    b"0",
    b"-1",
    b"1",
    b"255",
    b"65536",
    b"16384",
    b"16385",
    b"1048576",
    b"1048577",
    b"2147483648",
    b"99999999999999999999",
    b"1e308",
    b"NaN",
    b"3.5",
]
INTERESTING_BYTES = [
    b"\x00",
    b"\xff",
    b"\x7f",
    b"<",
    b">",
    b"&",
    b"\t",
    b"\n",
    b'"',
    b"\xef\xbf\xbe",
]
INTERESTING_TEXT = [
    "项目支出绩效自评表".encode(),
    "\t项目名称\n".encode(),
    "\t年度资金总额\n".encode(),
    "\t一级指标\n".encode(),
    "\t总分\n".encode(),
    "（2021年度）".encode(),
    b'<mergeCell ref="A1:XFD1048576"/>',
    b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>',
    b'<w:vMerge w:val="continue"/>',
    b"<w:tc><w:p/></w:tc>",
    b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>',
]


# --- seeds ---------------------------------------------------------------------------------

_DATES = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def _stable(data: bytes) -> bytes:
    """A zip seed without the time it was made (entry dates, document properties), so that
    one --seed always makes the same inputs and a saved one can be made again."""
    source = zipfile.ZipFile(BytesIO(data))
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = _DATES.sub(rb"\g<1>2021-01-01T00:00:00Z\g<2>", source.read(info))
            entry = zipfile.ZipInfo(info.filename, date_time=(2021, 1, 1, 0, 0, 0))
            target.writestr(entry, content, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def seeds() -> list[tuple[str, bytes]]:
    """The files mutated: (name, bytes), names carry the format by their extension."""
    from openpyxl import Workbook

    from departments.models import Department
    from evaluations.importer.text import parse_text
    from evaluations.services import evaluation_create
    from exports import excel
    from tests.evaluations.importer.test_docx import form_docx

    found: list[tuple[str, bytes]] = []
    forms = []
    for path in sorted((BASE / "sample_data").glob("*.txt")):
        data = path.read_bytes()
        found.append((path.name, data))
        text = data.decode("utf-8")
        starts = [m.start() for m in re.finditer(r"\n\t项目支出绩效自评表\n", text)]
        for number, (a, b) in enumerate(zip(starts, [*starts[1:], len(text)], strict=True)):
            if number % 4 == 0:
                found.append((f"{path.stem}-{number}.txt", text[a:b].encode("utf-8")))
        forms += parse_text(data).forms
    # Templates of other places (tests/data): split targets, weights in labels, rows around.
    for pattern in ("variant-indicators-*", "variant-around-*", "variant-department-wide*"):
        found += [
            (path.name, path.read_bytes()) for path in sorted(BASE.glob(f"tests/data/{pattern}"))
        ]
    picked = [forms[0], forms[5], forms[12], forms[25]]
    for number, form in enumerate(picked):
        workbook = Workbook()
        workbook.remove(workbook.active)
        excel.write_form_sheet(workbook.create_sheet(f"表{number}"), form)
        buffer = BytesIO()
        workbook.save(buffer)
        found.append((f"form-{number}.xlsx", buffer.getvalue()))
        found.append((f"form-{number}.docx", form_docx([form])))
    found.append(("title-in-table.docx", form_docx([picked[1]], title_in_table=True)))
    found.append(("two-forms.docx", form_docx(picked[2:])))
    department = Department.objects.create(name=picked[0].department or "部门")
    stored = [evaluation_create(department=department, data=f, user=None)[0] for f in picked]
    found.append(("export.xlsx", excel.evaluations_xlsx(stored)))
    return [
        (name, _stable(data) if name.endswith((".xlsx", ".docx")) else data) for name, data in found
    ]


# --- mutations -----------------------------------------------------------------------------


def _span(rng: random.Random, data: bytes) -> tuple[int, int]:
    start = rng.randrange(len(data) + 1)
    length = min(len(data) - start, int(rng.expovariate(1 / 16)) + 1)
    return start, start + length


def mutate_bytes(rng: random.Random, data: bytes, others: list[bytes]) -> bytes:
    """One to eight byte-level mutations, as atheris/libFuzzer's default mutators do."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        kind = rng.randrange(9)
        if not out:
            out += rng.choice(INTERESTING_BYTES)
            continue
        if kind == 0:  # flip a bit
            i = rng.randrange(len(out))
            out[i] ^= 1 << rng.randrange(8)
        elif kind == 1:  # set a byte
            out[rng.randrange(len(out))] = rng.randrange(256)
        elif kind == 2:  # insert random bytes
            i = rng.randrange(len(out) + 1)
            out[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif kind == 3:  # delete a range
            a, b = _span(rng, bytes(out))
            del out[a:b]
        elif kind == 4:  # duplicate a range, sometimes many times
            a, b = _span(rng, bytes(out))
            i = rng.randrange(len(out) + 1)
            out[i:i] = bytes(out[a:b]) * rng.choice([1, 1, 2, 10, 100])
        elif kind == 5:  # splice a piece of another seed
            other = rng.choice(others)
            if other:
                a, b = _span(rng, other)
                i = rng.randrange(len(out) + 1)
                out[i:i] = other[a:b]
        elif kind == 6:  # an interesting byte
            i = rng.randrange(len(out) + 1)
            out[i:i] = rng.choice(INTERESTING_BYTES)
        elif kind == 7:  # an interesting piece of text or markup
            i = rng.randrange(len(out) + 1)
            out[i:i] = rng.choice(INTERESTING_TEXT)
        else:  # a number swapped for a boundary value
            numbers = list(re.finditer(rb"-?\d+(?:\.\d+)?", bytes(out[-200_000:])))
            if numbers:
                offset = max(0, len(out) - 200_000)
                match = rng.choice(numbers)
                out[offset + match.start() : offset + match.end()] = rng.choice(INTERESTING_NUMBERS)
    return bytes(out)


def mutate_text(rng: random.Random, data: bytes, others: list[bytes]) -> bytes:
    """Mutate a text dump line by line, so it stays text and reaches the parser."""
    lines = data.decode("utf-8", errors="replace").split("\n")
    other_lines = rng.choice(others).decode("utf-8", errors="replace").split("\n")
    for _ in range(rng.randint(1, 6)):
        kind = rng.randrange(7)
        i = rng.randrange(len(lines) + 1)
        if kind == 0 and lines:  # delete lines
            del lines[i : i + rng.randint(1, 5)]
        elif kind == 1 and lines:  # duplicate lines, sometimes many times
            j = rng.randrange(len(lines))
            lines[i:i] = lines[j : j + rng.randint(1, 20)] * rng.choice([1, 1, 3, 50])
        elif kind == 2 and lines:  # swap two lines
            a, b = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[a], lines[b] = lines[b], lines[a]
        elif kind == 3:  # lines of another seed
            j = rng.randrange(len(other_lines))
            lines[i:i] = other_lines[j : j + rng.randint(1, 30)]
        elif kind == 4:  # a label, a number or a control character in a line
            piece = rng.choice(
                ["\t", "", "\t总分", "\t项目名称", "\t—", "\t", "\x0b", "\u3000", "%", "-1"]
                + [n.decode() for n in INTERESTING_NUMBERS]
            )
            lines.insert(i, piece)
        elif kind == 5 and lines:  # numbers of a line swapped for boundary values
            j = rng.randrange(len(lines))
            number = rng.choice(INTERESTING_NUMBERS).decode()
            lines[j] = re.sub(r"\d+(\.\d+)?", number, lines[j], count=rng.randint(1, 3))
        elif lines:  # a line cut in two or joined with the next
            j = rng.randrange(len(lines))
            if rng.random() < 0.5 and j + 1 < len(lines):
                lines[j : j + 2] = [lines[j] + lines[j + 1]]
            else:
                cut = rng.randrange(len(lines[j]) + 1)
                lines[j : j + 1] = [lines[j][:cut], "\t" + lines[j][cut:]]
    text = "\n".join(lines)
    encoding = rng.choices(["utf-8", "gb18030", "utf-16", "utf-8-sig"], [8, 2, 1, 1])[0]
    return text.encode(encoding, errors="replace")


_ELEMENT = re.compile(
    rb"<(row|c|mergeCell|dimension|si|w:tr|w:tc|w:p|w:r|w:vMerge|w:gridSpan)\b[^>]*?(?:/>|>.*?</\1>)",
    re.DOTALL,
)


def mutate_xml(rng: random.Random, data: bytes, others: list[bytes]) -> bytes:
    """Mutate whole elements of an XML part, so it stays well-formed more often than not."""
    for _ in range(rng.randint(1, 4)):
        matches = list(_ELEMENT.finditer(data[:2_000_000]))
        if not matches:
            return mutate_bytes(rng, data, others)
        match = rng.choice(matches)
        element = match.group(0)
        kind = rng.randrange(5)
        if kind == 0:  # duplicate, sometimes many times
            element = element * rng.choice([2, 2, 5, 100, 1000])
        elif kind == 1:  # delete
            element = b""
        elif kind == 2:  # numbers (row and cell references, values, spans) to boundaries
            element = re.sub(
                rb"\d+",
                lambda _m: rng.choice(INTERESTING_NUMBERS),
                element,
                count=rng.randint(1, 3),
            )
        elif kind == 3:  # another element of the same part in its place
            element = rng.choice(matches).group(0)
        else:  # text content swapped
            element = re.sub(
                rb">([^<]+)<",
                lambda _m: b">" + rng.choice(INTERESTING_TEXT + INTERESTING_NUMBERS) + b"<",
                element,
                count=1,
            )
        data = data[: match.start()] + element + data[match.end() :]
    return data


def mutate_archive(rng: random.Random, data: bytes, others: list[bytes]) -> bytes:
    """Mutate one XML entry of a zip (most often the sheet or the document) and zip it again."""
    source = zipfile.ZipFile(BytesIO(data))
    infos = source.infolist()
    weights = [
        10 if re.search(r"worksheets/|document\.xml|sharedStrings", i.filename) else 1
        for i in infos
    ]
    target_name = rng.choices(infos, weights=weights)[0].filename
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in infos:
            content = source.read(info)
            if info.filename == target_name:
                mutator = mutate_xml if rng.random() < 0.6 else mutate_bytes
                content = mutator(rng, content, others)
            target.writestr(info.filename, content)
    return buffer.getvalue()


def make_input(rng: random.Random, pool: list[tuple[str, bytes]]) -> tuple[str, bytes, str]:
    """A mutated input: its name, bytes and how it was made."""
    name, data = rng.choice(pool)
    others = [d for _n, d in pool]
    if name.endswith((".xlsx", ".docx")) and rng.random() < 0.7:
        return name, mutate_archive(rng, data, others), "entry"
    if name.endswith(".txt") and rng.random() < 0.6:
        texts = [d for n, d in pool if n.endswith(".txt")]
        return name, mutate_text(rng, data, texts), "text"
    if rng.random() < 0.03:  # now and then, a file under another extension
        name = Path(name).stem + rng.choice([".txt", ".xlsx", ".docx"])
    return name, mutate_bytes(rng, data, others), "bytes"


# --- running one input in a forked child ---------------------------------------------------

COUNTED = (
    "evaluations.Evaluation",
    "evaluations.FundingRow",
    "evaluations.Indicator",
    "evaluations.EvaluationEvent",
    "evaluations.EvaluationVersion",
    "departments.Department",
)
READER_ERROR = re.compile(
    r"内部错误（(\w+)）|无法读取该文件：|无法读取 Excel 文件：(\w+)|读取 Word 文件内容时出错：(\w+)"
)


def _counts() -> dict[str, int]:
    from django.apps import apps

    return {label: apps.get_model(label).objects.count() for label in COUNTED}


def child(data: bytes, name: str, database: str, result_path: str, memory_mb: int) -> None:
    """Import one input for real in a transaction rolled back afterwards; write the outcome."""
    limit = memory_mb * MIB
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    warnings.simplefilter("ignore")  # openpyxl warns about what it repairs
    outcome: dict = {}
    try:
        from django.db import connections, transaction

        connections["default"].settings_dict["NAME"] = database
        from evaluations.importer.service import import_file

        started = time.perf_counter()
        with transaction.atomic():
            before = _counts()
            try:
                report = import_file(data=data, name=name)
            except MemoryError:
                outcome["memory"] = True
                raise
            except BaseException as error:  # noqa: BLE001 - what the fuzzer is looking for
                outcome["crash"] = "".join(
                    traceback.format_exception_only(type(error), error)
                ).strip()[:300]
                outcome["where"] = traceback.format_exc()[-1500:]
                report = None
            if report is not None:
                after = _counts()
                written = {k: after[k] - before[k] for k in after if after[k] != before[k]}
                created = report.count("created")
                outcome.update(
                    {
                        "failed": report.failed,
                        "forms": len(report.forms),
                        "created": created,
                        "written": written,
                        "problems": [str(p.message) for p in report.problems],
                    }
                )
                new_forms = written.get("evaluations.Evaluation", 0)
                if (report.failed and written) or new_forms != created:
                    outcome["partial"] = written
            transaction.set_rollback(True)
        outcome["seconds"] = time.perf_counter() - started
    except MemoryError:
        outcome["memory"] = True
    except BaseException as error:  # noqa: BLE001 - the harness itself must report, not die
        outcome["crash"] = f"harness: {type(error).__name__}: {error}"[:300]
    try:
        with open(result_path, "w") as file:
            json.dump(outcome, file, ensure_ascii=False)
    finally:
        os._exit(0)


@dataclass
class Running:
    pid: int
    index: int
    name: str
    data: bytes
    how: str
    started: float
    result: Path
    slot: int


def _reason(message: str) -> str:
    """A problem message without its particulars (places, names, numbers), for counting."""
    message = re.sub(r"^(工作表“[^”]*”(单元格 \w+)?|表格\d+ 第\d+行第\d+格|第\d+段)：", "", message)
    message = re.sub(r"“[^”]*”", "“…”", message)
    return re.sub(r"\d[\d,.]*", "N", message)[:60]


@dataclass
class Totals:
    by_format: Counter
    by_format_outcome: Counter
    refusals: Counter
    outcomes: Counter
    reader_errors: Counter
    crashes: Counter
    seconds: list
    rss: list
    saved: list
    slow: int = 0


def classify(result: dict) -> list[str]:
    """The reader errors a report reveals (exception names the readers caught)."""
    names = []
    for problem in result.get("problems", []):
        match = READER_ERROR.search(problem)
        if match:
            names.append(next((g for g in match.groups() if g), "Exception"))
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per input")
    parser.add_argument("--memory-limit", type=int, default=500, help="RLIMIT_AS per input, MB")
    parser.add_argument("--out", type=Path, help="where failing inputs are saved")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="fuzz-import-"))
    out = args.out or work / "failures"
    os.environ["DJANGO_DEBUG"] = "1"
    os.environ["DJANGO_VAR_DIR"] = str(work)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.pop("DATABASE_URL", None)  # always a throwaway SQLite file
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)
    pool = seeds()
    connections.close_all()
    main_db = Path(connections["default"].settings_dict["NAME"])
    databases = []
    for slot in range(args.jobs):
        copy = work / f"job{slot}.sqlite3"
        source, target = sqlite3.connect(main_db), sqlite3.connect(copy)
        source.backup(target)
        source.close()
        target.close()
        databases.append(str(copy))

    rng = random.Random(args.seed)
    totals = Totals(Counter(), Counter(), Counter(), Counter(), Counter(), Counter(), [], [], [])
    running: dict[int, Running] = {}
    free = list(range(args.jobs))
    made = 0
    next_report = 1000
    started = time.perf_counter()

    def finish(job: Running, status: int, rss_kb: int, killed: bool) -> None:
        free.append(job.slot)
        suffix = Path(job.name).suffix
        totals.by_format[suffix] += 1
        totals.rss.append(rss_kb / 1024)
        result: dict = {}
        if job.result.exists():
            try:
                result = json.loads(job.result.read_text())
            except ValueError:
                result = {}
            job.result.unlink()
        memory = any("MemoryError" in p for p in result.get("problems", []))
        if killed:
            kind = "hang"
        elif memory or result.get("memory") or (not result and os.WIFSIGNALED(status)):
            kind = "memory"
        elif result.get("crash"):
            kind = "crash"
            totals.crashes[result["crash"]] += 1
        elif "partial" in result:
            kind = "partial write"
        elif not result:
            kind = "crash"
            totals.crashes[f"child died (status {status})"] += 1
        elif result.get("failed"):
            kind = "refused (nothing written)"
        else:
            kind = "imported"
        totals.outcomes[kind] += 1
        totals.by_format_outcome[(suffix, kind)] += 1
        if kind == "refused (nothing written)" and result.get("problems"):
            totals.refusals[_reason(result["problems"][0])] += 1
        if "seconds" in result:
            totals.seconds.append(result["seconds"])
        for name in classify(result):
            totals.reader_errors[name] += 1
        reader_errors = classify(result)
        slow = result.get("seconds", 0) > SLOW
        if slow:
            totals.slow += 1
        if kind in ("hang", "memory", "crash", "partial write") or reader_errors or slow:
            label = kind if kind not in ("imported", "refused (nothing written)") else "slow"
            if reader_errors:
                label = f"reader-{reader_errors[0]}"
            out.mkdir(parents=True, exist_ok=True)
            path = out / f"{job.index:05d}-{label.replace(' ', '-')}{suffix}"
            path.write_bytes(job.data)
            (path.with_suffix(path.suffix + ".json")).write_text(
                json.dumps({"how": job.how, "seed_name": job.name, **result}, ensure_ascii=False)
            )
            totals.saved.append(str(path))

    while made < args.inputs or running:
        while free and made < args.inputs:
            name, data, how = make_input(rng, pool)
            slot = free.pop()
            result = work / f"result{slot}.json"
            result.unlink(missing_ok=True)
            pid = os.fork()
            if pid == 0:
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                child(data, name, databases[slot], str(result), args.memory_limit)
            running[pid] = Running(pid, made, name, data, how, time.perf_counter(), result, slot)
            made += 1
        pid, status, usage = os.wait4(-1, os.WNOHANG)
        if pid:
            finish(running.pop(pid), status, usage.ru_maxrss, killed=False)
            continue
        now = time.perf_counter()
        for job in list(running.values()):
            if now - job.started > args.timeout:
                os.kill(job.pid, signal.SIGKILL)
                _pid, status, usage = os.wait4(job.pid, 0)
                finish(running.pop(job.pid), status, usage.ru_maxrss, killed=True)
        time.sleep(0.002)
        done = totals.outcomes.total()
        if done >= next_report:
            next_report += 1000
            print(f"  {done} inputs, {time.perf_counter() - started:.0f} s", flush=True)

    elapsed = time.perf_counter() - started
    seconds = sorted(totals.seconds) or [0.0]
    rss = sorted(totals.rss) or [0.0]

    def pct(values: list[float], q: float) -> float:
        return values[min(len(values) - 1, int(q * len(values)))]

    print(
        f"\n{made} inputs from {len(pool)} seeds in {elapsed:.0f} s with {args.jobs} jobs "
        f"(seed {args.seed}, {args.timeout:.0f} s and {args.memory_limit} MB per input)"
    )
    print("by format:  " + ", ".join(f"{k} {v}" for k, v in sorted(totals.by_format.items())))
    kinds = ("imported", "refused (nothing written)", "crash", "hang", "memory", "partial write")
    formats = sorted(totals.by_format)
    print(f"  {'':28} {'all':>6} " + " ".join(f"{f:>6}" for f in formats))
    for kind in kinds:
        row = " ".join(f"{totals.by_format_outcome[(f, kind)]:6}" for f in formats)
        print(f"  {kind:28} {totals.outcomes[kind]:6} {row}")
    print("most common reasons for a refusal (first problem of the report):")
    for reason, count in totals.refusals.most_common(12):
        print(f"  {count:6}  {reason}")
    print(
        f"import time per input: median {pct(seconds, 0.5) * 1000:.0f} ms, "
        f"p99 {pct(seconds, 0.99) * 1000:.0f} ms, max {seconds[-1] * 1000:.0f} ms"
    )
    print(f"inputs slower than {SLOW:.0f} s (saved, not failures): {totals.slow}")
    print(
        f"child peak RSS: median {pct(rss, 0.5):.0f} MB, p99 {pct(rss, 0.99):.0f} MB, "
        f"max {rss[-1]:.0f} MB"
    )
    if totals.reader_errors:
        print("reader errors reported as problems (exception: inputs):")
        for name, count in totals.reader_errors.most_common():
            print(f"  {name:28} {count:6}")
    for crash, count in totals.crashes.most_common(10):
        print(f"crash x{count}: {crash}")
    if totals.saved:
        print(f"{len(totals.saved)} failing inputs saved in {out}")
    for path in work.iterdir():  # the databases and results; failures stay
        if path != out:
            path.unlink() if path.is_file() else shutil.rmtree(path, ignore_errors=True)
    if not any(work.iterdir()):
        work.rmdir()
    failures = sum(totals.outcomes[k] for k in ("crash", "hang", "memory", "partial write"))
    sys.exit(1 if failures else 0)


def run_subset(count: int, seed: int, check: Callable[[str, bytes], None]) -> int:
    """The fixed-seed subset CI runs in-process: ``check`` gets each mutated input."""
    pool = seeds()
    rng = random.Random(seed)
    for _ in range(count):
        name, data, _how = make_input(rng, pool)
        check(name, data)
    return count


if __name__ == "__main__":
    main()
