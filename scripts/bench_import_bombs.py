#!/usr/bin/env python
"""Benchmark: hostile uploads through ``import_file(dry_run=True)``, each in a fresh process.

Builds each hostile upload the import limits must refuse (a merged range J100:XFD1048576 and J100:AW200000 in an
exported workbook, a zip-bomb workbook of ~221 MB of XML, a ~1 MB .docx of empty
paragraphs, a .txt of 1,313 forms), then files within the archive limits built to cost
as much as the other limits allow, and imports each in a child process; prints the wall
time of the import and the child's peak RSS (its VmHWM: ru_maxrss would also count this
process's pages at the fork; both include Django itself, whose floor the baseline line, a
sample file imported the same way, shows).

Usage: .venv/bin/python scripts/bench_import_bombs.py [--only NAME ...] [--project DIR]
       [--timeout SECONDS] [--memory-limit MB] [--keep DIR]

--project runs the imports against another checkout (e.g. ``git archive 2fff58a``
unpacked in /tmp/old) to measure the code before a change; the files are always built with this
one. --memory-limit sets RLIMIT_AS of the children so an old, unbounded importer ends in
MemoryError instead of taking the machine. The test suite builds the same files with
smaller sizes (tests/evaluations/importer/test_import_limits.py) from the builders below.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))

MIB = 1024 * 1024
_CHUNK = 1 << 20


# --- the files ---------------------------------------------------------------------------


def exported_workbook() -> bytes:
    """One sample form in the official layout, as exports.excel writes it (~8 KB)."""
    from openpyxl import Workbook

    from evaluations.importer.text import parse_text
    from exports import excel

    form = parse_text(next((BASE / "sample_data").glob("000_*.txt")).read_bytes()).forms[0]
    workbook = Workbook()
    workbook.remove(workbook.active)
    excel.write_form_sheet(workbook.create_sheet("表1"), form)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _rewrite(data: bytes, name: str, change: Callable[[bytes], bytes]) -> bytes:
    """The archive with one entry's bytes changed."""
    source = zipfile.ZipFile(BytesIO(data))
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info)
            target.writestr(info.filename, change(content) if info.filename == name else content)
    return buffer.getvalue()


def merge_bomb(ref: str) -> bytes:
    """The exported workbook whose first sheet gains one more merged range."""

    def add_merge(xml: bytes) -> bytes:
        merge = f'<mergeCell ref="{ref}"/>'.encode()
        if b"</mergeCells>" in xml:
            xml = re.sub(
                rb'<mergeCells count="(\d+)"',
                lambda m: b'<mergeCells count="%d"' % (int(m.group(1)) + 1),
                xml,
            )
            return xml.replace(b"</mergeCells>", merge + b"</mergeCells>")
        return xml.replace(
            b"</sheetData>", b'</sheetData><mergeCells count="1">' + merge + b"</mergeCells>"
        )

    return _rewrite(exported_workbook(), "xl/worksheets/sheet1.xml", add_merge)


def _streamed_entry(
    data: bytes, name: str, head: bytes, filler: Callable[[int], bytes], tail: bytes, size: int
) -> bytes:
    """The archive with one entry replaced by head + filler... + tail of about ``size`` bytes."""
    source = zipfile.ZipFile(BytesIO(data))
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            if info.filename != name:
                target.writestr(info.filename, source.read(info))
                continue
            with target.open(name, "w", force_zip64=True) as entry:
                entry.write(head)
                written, index = len(head), 0
                while written < size:
                    chunk = filler(index)
                    entry.write(chunk)
                    written += len(chunk)
                    index += 1
                entry.write(tail)
    return buffer.getvalue()


def zip_bomb_xlsx(xml_size: int = 221 * MIB) -> bytes:
    """The exported workbook whose sheet goes on with ``xml_size`` bytes of rows."""
    workbook = exported_workbook()
    sheet = zipfile.ZipFile(BytesIO(workbook)).read("xl/worksheets/sheet1.xml")
    head, tail = sheet.split(b"</sheetData>")
    cells = b'<c t="n"><v>0</v></c>' * 80

    def rows(index: int) -> bytes:
        first = 100 + index * 500
        return b"".join(
            b'<row r="%d">%s</row>' % (number, cells) for number in range(first, first + 500)
        )

    return _streamed_entry(
        workbook, "xl/worksheets/sheet1.xml", head, rows, b"</sheetData>" + tail, xml_size
    )


def empty_paragraphs_docx(xml_size: int = 650 * MIB) -> bytes:
    """A Word document whose body is ``xml_size`` bytes of empty paragraphs (~1 MB zipped)."""
    import docx

    buffer = BytesIO()
    docx.Document().save(buffer)
    head = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b"<w:body>"
    )
    paragraphs = b"<w:p/>" * (_CHUNK // 6)
    return _streamed_entry(
        buffer.getvalue(),
        "word/document.xml",
        head,
        lambda _index: paragraphs,
        b"<w:sectPr/></w:body></w:document>",
        xml_size,
    )


def many_forms_txt(forms: int = 1313) -> bytes:
    """A text dump of ``forms`` forms: the sample forms over and over, largest first."""
    from evaluations.importer.text import parse_text

    texts = []
    for path in sorted((BASE / "sample_data").glob("*.txt")):
        text = path.read_bytes().decode("utf-8")
        starts = [m.start() for m in re.finditer(r"\n\t项目支出绩效自评表\n", text)]
        texts += [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]
    # Only pieces that are exactly one form (some sample forms have no title of their own).
    texts = [t for t in texts if len(parse_text(t.encode("utf-8")).forms) == 1]
    texts.sort(key=len, reverse=True)
    parts = [texts[i % len(texts)] for i in range(forms)]
    return "".join(parts).encode("utf-8")


# Files within the archive limits built to cost as much as those limits allow.


def _with_entries(data: bytes, entries: dict[str, bytes]) -> bytes:
    """The archive with entries replaced or added."""
    source = zipfile.ZipFile(BytesIO(data))
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename not in entries:
                target.writestr(info.filename, source.read(info))
        for name, content in entries.items():
            target.writestr(name, content)
    return buffer.getvalue()


def markup_xlsx(elements: int = 1_990_000) -> bytes:
    """The exported workbook whose sheet ends with just under two million hyperlinks."""
    workbook = exported_workbook()
    sheet = zipfile.ZipFile(BytesIO(workbook)).read("xl/worksheets/sheet1.xml")
    links = b"".join(b'<hyperlink ref="A%d"/>' % (i % 4000) for i in range(elements))
    sheet = sheet.replace(b"</worksheet>", b"<hyperlinks>" + links + b"</hyperlinks></worksheet>")
    return _with_entries(workbook, {"xl/worksheets/sheet1.xml": sheet})


def empty_rows_xlsx(rows: int = 1_300_000) -> bytes:
    """The exported workbook whose sheet goes on with 1.3 million empty formatted rows."""
    workbook = exported_workbook()
    sheet = zipfile.ZipFile(BytesIO(workbook)).read("xl/worksheets/sheet1.xml")
    filler = b"".join(b'<row r="%d" s="1" customFormat="1"/>' % (100 + i) for i in range(rows))
    sheet = sheet.replace(b"</sheetData>", filler + b"</sheetData>")
    return _with_entries(workbook, {"xl/worksheets/sheet1.xml": sheet})


def nested_markup_xlsx(rows: int = 100, per_cell: int = 18_000) -> bytes:
    """Rows after the form whose one cell each holds just under what a row may hold."""
    workbook = exported_workbook()
    sheet = zipfile.ZipFile(BytesIO(workbook)).read("xl/worksheets/sheet1.xml")
    filler = b"".join(
        b'<row r="%d"><c r="A%d"><v>1</v>' % (100 + r, 100 + r)
        + b"".join(b'<x a="%d"/>' % i for i in range(per_cell))
        + b"</c></row>"
        for r in range(rows)
    )
    sheet = sheet.replace(b"</sheetData>", filler + b"</sheetData>")
    return _with_entries(workbook, {"xl/worksheets/sheet1.xml": sheet})


_SST = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
_SST_TYPE = (
    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
)


def _with_strings(strings: bytes, cells: bytes = b"") -> bytes:
    workbook = exported_workbook()
    source = zipfile.ZipFile(BytesIO(workbook))
    types = source.read("[Content_Types].xml").replace(b"</Types>", _SST_TYPE)
    sheet = source.read("xl/worksheets/sheet1.xml").replace(
        b"</sheetData>", cells + b"</sheetData>"
    )
    return _with_entries(
        workbook,
        {
            "[Content_Types].xml": types,
            "xl/sharedStrings.xml": _SST + strings + b"</sst>",
            "xl/worksheets/sheet1.xml": sheet,
        },
    )


def shared_strings_xlsx(count: int = 49_990) -> bytes:
    """The exported workbook with just under the cap of distinct shared strings."""
    return _with_strings(b"".join(b"<si><t>%08d</t></si>" % i for i in range(count)))


def repeated_text_xlsx(length: int = 1_000_000, cells: int = 40) -> bytes:
    """One shared string of a million characters, shown in 40 cells of one row."""
    text = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(length)).encode()
    row = (
        b'<row r="200">'
        + b"".join(
            b'<c r="%s200" t="s"><v>0</v></c>' % _column(c).encode() for c in range(1, cells + 1)
        )
        + b"</row>"
    )
    return _with_strings(b"<si><t>" + text + b"</t></si>", row)


def _column(number: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(number)


def many_paragraphs_docx(paragraphs: int = 19_999) -> bytes:
    """A Word document of just under the cap of paragraphs, 50 characters each."""
    import docx

    buffer = BytesIO()
    docx.Document().save(buffer)
    body = b"".join(
        b"<w:p><w:r><w:t>%s</w:t></w:r></w:p>"
        % "".join(chr(0x4E00 + (i * 31 + j) % 20000) for j in range(50)).encode()
        for i in range(paragraphs)
    )
    document = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b"<w:body>" + body + b"<w:sectPr/></w:body></w:document>"
    )
    return _with_entries(buffer.getvalue(), {"word/document.xml": document})


def many_runs_docx(paragraphs: int = 19_999, runs: int = 25) -> bytes:
    """Just under the cap of paragraphs, each of many runs: two million tags in all."""
    import docx

    buffer = BytesIO()
    docx.Document().save(buffer)
    body = b"".join(
        b"<w:p>"
        + b"".join(b"<w:r><w:t>%d</w:t></w:r>" % (i * runs + j) for j in range(runs))
        + b"</w:p>"
        for i in range(paragraphs)
    )
    document = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b"<w:body>" + body + b"<w:sectPr/></w:body></w:document>"
    )
    return _with_entries(buffer.getvalue(), {"word/document.xml": document})


def wide_row_docx(cells: int = 12_000) -> bytes:
    """A Word table row of just under the markup a block may have."""
    import docx

    buffer = BytesIO()
    docx.Document().save(buffer)
    row = b"".join(b"<w:tc><w:p><w:r><w:t>%d</w:t></w:r></w:p></w:tc>" % i for i in range(cells))
    document = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b"<w:body><w:tbl><w:tr>" + row + b"</w:tr></w:tbl><w:sectPr/></w:body></w:document>"
    )
    return _with_entries(buffer.getvalue(), {"word/document.xml": document})


def many_sheets_xlsx(sheets: int = 900) -> bytes:
    """Sheets with one value each, in their last allowed row."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for number in range(sheets):
        workbook.create_sheet(f"S{number}").cell(row=5000, column=40, value="x")
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def sample_txt() -> bytes:
    return next((BASE / "sample_data").glob("000_*.txt")).read_bytes()


CASES: dict[str, tuple[str, Callable[[], bytes]]] = {
    "baseline": ("000.txt", sample_txt),
    "merge-XFD1048576": ("merge.xlsx", lambda: merge_bomb("J100:XFD1048576")),
    "merge-AW200000": ("merge.xlsx", lambda: merge_bomb("J100:AW200000")),
    "zip-bomb-xlsx": ("bomb.xlsx", zip_bomb_xlsx),
    "empty-paragraphs-docx": ("bomb.docx", empty_paragraphs_docx),
    "1313-forms-txt": ("many.txt", many_forms_txt),
    "200-forms-txt": ("cap.txt", lambda: many_forms_txt(200)),
    # Within the archive limits, as costly as the other limits allow:
    "markup-xlsx": ("markup.xlsx", markup_xlsx),
    "empty-rows-xlsx": ("rows.xlsx", empty_rows_xlsx),
    "nested-markup-xlsx": ("nested.xlsx", nested_markup_xlsx),
    "shared-strings-xlsx": ("strings.xlsx", shared_strings_xlsx),
    "repeated-text-xlsx": ("text.xlsx", repeated_text_xlsx),
    "many-sheets-xlsx": ("sheets.xlsx", many_sheets_xlsx),
    "paragraphs-docx": ("paragraphs.docx", many_paragraphs_docx),
    "runs-docx": ("runs.docx", many_runs_docx),
    "wide-row-docx": ("row.docx", wide_row_docx),
}


# --- running one import in a child ---------------------------------------------------------

CHILD = r"""
import json, os, resource, sys, time
project, path, name, out = sys.argv[1:5]
sys.path.insert(0, project)
os.chdir(project)
import django
django.setup()
from evaluations.importer.service import import_file
data = open(path, "rb").read()
setup_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
report = import_file(data=data, name=name, dry_run=True)
seconds = time.perf_counter() - started
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
with open(out, "w") as f:
    json.dump({
        "peak_kb": peak,
        "seconds": seconds,
        "setup_rss_kb": setup_rss,
        "forms": len(report.forms),
        "failed": report.failed,
        "problems": [str(p.message) for p in report.problems],
    }, f, ensure_ascii=False)
"""


def run_child(
    project: Path, path: Path, name: str, env: dict[str, str], timeout: float, memory_mb: int
) -> dict:
    """Import one file in a fresh interpreter; its result, wall time and peak RSS."""
    out = path.with_suffix(".json")
    out.unlink(missing_ok=True)

    def limit() -> None:
        if memory_mb:
            size = memory_mb * MIB
            resource.setrlimit(resource.RLIMIT_AS, (size, size))

    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(project), str(path), name, str(out)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=limit,
    )
    status, usage, killed = 0, None, False
    while usage is None:
        pid, status, rusage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            usage = rusage
            break
        if time.perf_counter() - started > timeout:
            child.kill()
            killed = True
            _pid, status, usage = os.wait4(child.pid, 0)
            break
        time.sleep(0.02)
    stderr = child.stderr.read().decode(errors="replace") if child.stderr else ""
    result = json.loads(out.read_text()) if out.exists() else {}
    result.update(
        {
            # The child's own high-water mark (VmHWM); ru_maxrss would also count the pages
            # of this process at the fork before exec. Without a report: ru_maxrss, as "~".
            "peak_rss_mb": result.get("peak_kb", usage.ru_maxrss) / 1024,
            "measured": "peak_kb" in result,
            "killed": killed,
            "status": status,
            "error": stderr.strip().splitlines()[-1] if stderr.strip() and not result else "",
        }
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(CASES), help="cases to run")
    parser.add_argument("--project", type=Path, default=BASE, help="checkout to import with")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per import")
    parser.add_argument("--memory-limit", type=int, default=0, help="RLIMIT_AS of a child, MB")
    parser.add_argument("--keep", type=Path, help="write the files built into this folder")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-bombs-"))
    env = dict(os.environ, DJANGO_DEBUG="1", DJANGO_VAR_DIR=str(work), PYTHONHASHSEED="0")
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.update({k: env[k] for k in ("DJANGO_DEBUG", "DJANGO_VAR_DIR")})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    subprocess.run(
        [sys.executable, str(args.project / "manage.py"), "migrate", "--verbosity", "0"],
        env=env,
        cwd=args.project,
        check=True,
    )
    print(f"importing with {args.project}; children limited to {args.memory_limit or '-'} MB")
    print(f"{'case':24} {'file':>9} {'seconds':>8} {'peak RSS':>9}  outcome")
    for case, (name, build) in CASES.items():
        if args.only and case not in args.only:
            continue
        data = build()
        path = work / f"{case}-{name}"
        path.write_bytes(data)
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            (args.keep / path.name).write_bytes(data)
        result = run_child(args.project, path, name, env, args.timeout, args.memory_limit)
        path.unlink()
        if result["killed"]:
            outcome = f"killed after {args.timeout:.0f} s"
            seconds = "-"
        elif "seconds" not in result:
            outcome = f"crashed: {result['error']}"
            seconds = "-"
        else:
            seconds = f"{result['seconds']:.2f}"
            first = result["problems"][0] if result["problems"] else ""
            outcome = f"{result['forms']} forms, {'failed' if result['failed'] else 'ok'}"
            if first:
                outcome += f"; {first[:70]}"
        size = f"{len(data) / 1024:.0f} KB"
        mark = " " if result["measured"] else "~"
        peak = f"{mark}{result['peak_rss_mb']:.0f} MB"
        print(f"{case:24} {size:>9} {seconds:>8} {peak:>9}  {outcome}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
