"""Uploads that would exhaust the server end in a clear problem.

The hostile files are built by scripts/bench_import_bombs.py (smaller where a smaller one
crosses the same limit). Each bomb is first read in a child process limited to 400 MB of
address space and 20 s, so a regression fails the test instead of taking the machine;
then it goes through the import service here, to show what is written: nothing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import struct
import subprocess
import sys
import threading
import uuid
import zipfile
from datetime import timedelta
from io import BytesIO, StringIO
from pathlib import Path

import docx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from openpyxl import Workbook

from common import archive
from evaluations.importer.service import import_file, import_paths, parse_file
from evaluations.importer.uploads import (
    ClaimState,
    PreviewTooLarge,
    upload_claim,
    upload_store,
)
from evaluations.mapping import snapshot
from evaluations.models import Evaluation, ImportUpload
from exports import excel
from tests.conftest import PROJECT_DIR, sample_path
from tests.export_helpers import sample_form

pytestmark = pytest.mark.django_db


def _load_bombs():
    path = PROJECT_DIR / "scripts" / "bench_import_bombs.py"
    spec = importlib.util.spec_from_file_location("bench_import_bombs", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


bombs = _load_bombs()
MIB = 1024 * 1024

UNCOMPRESSED = "文件解压后超过 50 MB（上限），未读取。"
TOO_MANY_FORMS = "文件中的自评表超过 200 张（上限），本文件未导入：请拆分成多个文件后再导入。"


def clipped(ref: str) -> str:
    return f"工作表“表1”的合并单元格 {ref} 超出 5000 行 × 40 列（上限），只读取此范围内的部分。"


CHILD = """
import json, resource, sys
limit = 400 * 1024 * 1024
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
import django
django.setup()
from evaluations.importer.service import parse_file
result = parse_file(open(sys.argv[1], "rb").read(), sys.argv[2])
print(json.dumps({"forms": len(result.forms), "problems": [str(p.message) for p in result.problems]}))
"""


def read_in_child(tmp_path: Path, data: bytes, name: str, **limits: int) -> dict:
    """Parse a file in a child process with 400 MB of address space and 20 s at most."""
    path = tmp_path / name
    path.write_bytes(data)
    env = {
        **os.environ,
        "DJANGO_DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_VAR_DIR": str(tmp_path),
        **{key: str(value) for key, value in limits.items()},
    }
    completed = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), name],
        capture_output=True,
        text=True,
        timeout=20,
        env=env,
        cwd=PROJECT_DIR,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.splitlines()[-1])


def refused_and_nothing_written(data: bytes, name: str, message: str, dept, user) -> None:
    report = import_file(data=data, name=name, department=dept, user=user)
    assert report.failed
    assert report.forms == []
    assert [p.message for p in report.problems] == [message]
    assert not Evaluation.objects.exists()


def workbook_of(*forms) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for number, form in enumerate(forms, start=1):
        excel.write_form_sheet(workbook.create_sheet(f"表{number}"), form)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def rewrite(data: bytes, name: str, content: bytes) -> bytes:
    return bombs._rewrite(data, name, lambda _old: content)


def paragraphs_docx(body: bytes) -> bytes:
    """A Word document whose body XML is given."""
    buffer = BytesIO()
    docx.Document().save(buffer)
    return rewrite(
        buffer.getvalue(),
        "word/document.xml",
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b"<w:body>" + body + b"<w:sectPr/></w:body></w:document>",
    )


# --------------------------------------------------------------------------- the bombs


@pytest.mark.parametrize("ref", ["J100:XFD1048576", "J100:AW200000"])
def test_it_clips_a_merged_range_to_the_sheet_limits(tmp_path, ref):
    data = bombs.merge_bomb(ref)
    assert len(data) < 10_000
    child = read_in_child(tmp_path, data, "合并.xlsx")
    assert child == {"forms": 1, "problems": [clipped(ref)]}
    plain = parse_file(bombs.exported_workbook(), "表.xlsx")
    result = parse_file(data, "合并.xlsx")
    assert [snapshot(f) for f in result.forms] == [snapshot(f) for f in plain.forms]
    assert [p.message for p in result.problems] == [clipped(ref)] + [
        p.message for p in plain.problems
    ]
    report = import_file(data=data, name="合并.xlsx", dry_run=True)
    assert [f.action for f in report.forms] == ["would-create"]
    assert not Evaluation.objects.exists()


def test_it_refuses_a_zip_bomb_workbook_before_reading_it(tmp_path, dept_a, staff_a):
    data = bombs.zip_bomb_xlsx(xml_size=60 * MIB)
    assert read_in_child(tmp_path, data, "炸弹.xlsx") == {"forms": 0, "problems": [UNCOMPRESSED]}
    refused_and_nothing_written(data, "炸弹.xlsx", UNCOMPRESSED, dept_a, staff_a)


def test_it_refuses_a_docx_of_empty_paragraphs(tmp_path, dept_a, staff_a):
    data = bombs.empty_paragraphs_docx(xml_size=60 * MIB)
    assert read_in_child(tmp_path, data, "空段落.docx") == {"forms": 0, "problems": [UNCOMPRESSED]}
    refused_and_nothing_written(data, "空段落.docx", UNCOMPRESSED, dept_a, staff_a)


def test_it_refuses_a_docx_with_more_paragraphs_than_a_document_may_have(tmp_path, dept_a, staff_a):
    data = paragraphs_docx(b"<w:p/>" * 20_001)
    message = "文档的段落和表格行超过 20,000 个（上限），未读取。"
    assert read_in_child(tmp_path, data, "段落.docx") == {"forms": 0, "problems": [message]}
    refused_and_nothing_written(data, "段落.docx", message, dept_a, staff_a)


def test_it_stops_reading_a_text_file_past_the_forms_cap(tmp_path, dept_a, staff_a):
    data = bombs.many_forms_txt(1313)
    assert len(data) > 3 * MIB
    assert read_in_child(tmp_path, data, "多表.txt") == {"forms": 0, "problems": [TOO_MANY_FORMS]}
    refused_and_nothing_written(data, "多表.txt", TOO_MANY_FORMS, dept_a, staff_a)


def test_it_reads_a_file_of_exactly_the_forms_cap(settings):
    settings.IMPORT_MAX_FORMS_PER_FILE = 10
    result = parse_file(sample_path("000").read_bytes(), "000.txt")
    assert len(result.forms) == 10
    settings.IMPORT_MAX_FORMS_PER_FILE = 9
    result = parse_file(sample_path("000").read_bytes(), "000.txt")
    assert result.forms == []
    assert [p.message for p in result.problems] == [
        "文件中的自评表超过 9 张（上限），本文件未导入：请拆分成多个文件后再导入。"
    ]


def test_it_caps_the_forms_of_a_workbook_across_its_sheets(settings):
    data = workbook_of(sample_form("000", 0), sample_form("000", 1), sample_form("000", 2))
    settings.IMPORT_MAX_FORMS_PER_FILE = 2
    result = parse_file(data, "表.xlsx")
    assert result.forms == []
    assert [p.message for p in result.problems] == [
        "文件中的自评表超过 2 张（上限），本文件未导入：请拆分成多个文件后再导入。"
    ]


def test_it_caps_the_forms_of_a_word_document(settings):
    from tests.evaluations.importer.test_docx import form_docx

    data = form_docx([sample_form("000", 0), sample_form("000", 1), sample_form("000", 2)])
    settings.IMPORT_MAX_FORMS_PER_FILE = 2
    result = parse_file(data, "表.docx")
    assert result.forms == []
    assert [p.message for p in result.problems] == [
        "文件中的自评表超过 2 张（上限），本文件未导入：请拆分成多个文件后再导入。"
    ]


def test_it_refuses_a_file_over_the_size_limit_whatever_the_way_in(tmp_path, settings):
    settings.IMPORT_MAX_FILE_SIZE = 20 * 1024
    path = tmp_path / "大.txt"
    path.write_bytes(sample_path("000").read_bytes())
    message = "文件超过 20 KB（单个文件的上限），未读取。"
    (report,) = import_paths([path])
    assert report.failed and report.forms == []
    assert [p.message for p in report.problems] == [message]
    report = import_file(data=path.read_bytes(), name="大.txt")
    assert [p.message for p in report.problems] == [message]
    assert not Evaluation.objects.exists()


# ------------------------------------------------------------------------ archive checks


def test_it_refuses_an_archive_with_too_many_entries(settings):
    settings.IMPORT_MAX_ARCHIVE_ENTRIES = 5
    result = parse_file(bombs.exported_workbook(), "表.xlsx")
    assert [p.message for p in result.problems] == [
        "文件包含 9 个压缩条目，超过 5 个（上限），未读取。"
    ]


def test_it_refuses_a_compression_ratio_over_the_limit():
    data = rewrite(
        bombs.exported_workbook(),
        "docProps/app.xml",
        b"<Properties>" + b" " * (2 * MIB) + b"</Properties>",
    )
    assert [p.message for p in parse_file(data, "表.xlsx").problems] == [
        "文件的压缩比超过 100 倍（上限），可能是“压缩炸弹”，未读取。"
    ]


def _central_directory_patch(data: bytes, name: bytes, offset: int, value: int) -> bytes:
    """Change one 4-byte field of an entry's central directory header."""
    header = data.index(b"PK\x01\x02")
    while True:
        header = data.index(b"PK\x01\x02", header)
        length = struct.unpack("<H", data[header + 28 : header + 30])[0]
        if data[header + 46 : header + 46 + length] == name:
            break
        header += 4
    return data[: header + offset] + struct.pack("<I", value) + data[header + offset + 4 :]


def test_it_reads_no_more_of_an_entry_than_it_declares():
    data = bombs.exported_workbook()
    lying = _central_directory_patch(data, b"xl/worksheets/sheet1.xml", 24, 1000)
    assert zipfile.ZipFile(BytesIO(lying)).getinfo("xl/worksheets/sheet1.xml").file_size == 1000
    assert [p.message for p in parse_file(lying, "表.xlsx").problems] == [
        "无法打开 Excel 文件：文件不是有效的 .xlsx 工作簿（BadZipFile）。"
    ]


def test_it_refuses_a_declared_size_over_the_limit():
    data = bombs.exported_workbook()
    lying = _central_directory_patch(data, b"xl/worksheets/sheet1.xml", 24, 0xFFFFFFF0)
    assert [p.message for p in parse_file(lying, "表.xlsx").problems] == [UNCOMPRESSED]


def test_it_refuses_entries_that_share_their_data():
    data = bombs.exported_workbook()
    first = zipfile.ZipFile(BytesIO(data)).infolist()[0]
    overlapping = _central_directory_patch(
        data, b"xl/worksheets/sheet1.xml", 42, first.header_offset
    )
    assert [p.message for p in parse_file(overlapping, "表.xlsx").problems] == [
        "文件结构异常（压缩条目相互重叠），未读取。"
    ]


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_it_refuses_duplicate_entry_names():
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for info in zipfile.ZipFile(BytesIO(bombs.exported_workbook())).infolist():
            target.writestr(info.filename, b"<x/>")
        target.writestr("xl/worksheets/sheet1.xml", b"<x/>")
    assert [p.message for p in parse_file(buffer.getvalue(), "表.xlsx").problems] == [
        "文件结构异常（压缩条目名称重复），未读取。"
    ]


def test_it_refuses_an_encrypted_entry():
    data = bombs.exported_workbook()
    header = data.index(b"PK\x01\x02")
    flags = struct.unpack("<H", data[header + 8 : header + 10])[0] | 1
    encrypted = data[: header + 8] + struct.pack("<H", flags) + data[header + 10 :]
    assert [p.message for p in parse_file(encrypted, "表.xlsx").problems] == [
        "文件已加密，请取消密码保护后再导入。"
    ]


def _patch(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    """Change a field of the first central directory header."""
    at = data.index(b"PK\x01\x02") + offset
    return data[:at] + struct.pack(fmt, value) + data[at + struct.calcsize(fmt) :]


def test_it_refuses_zip_features_it_cannot_read():
    data = bombs.exported_workbook()
    flags = struct.unpack("<H", data[data.index(b"PK\x01\x02") + 8 :][:2])[0]
    patched = _patch(data, 8, "<H", flags | 0x20)  # "compressed patched data"
    assert [p.message for p in parse_file(patched, "表.xlsx").problems] == [
        "文件结构异常（不支持的压缩方式），未读取。"
    ]
    newer = _patch(data, 6, "<H", 105)  # needs zip version 10.5 to extract
    assert [p.message for p in parse_file(newer, "表.docx").problems] == [
        "文件结构异常（不支持的压缩格式），未读取。"
    ]


@pytest.mark.parametrize(
    "prolog",
    [
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>',
        b'<?xml version="1.0"?><!-- <b> --><!DOCTYPE x>',
    ],
)
def test_it_refuses_a_document_type_declaration(prolog):
    data = bombs.exported_workbook()
    sheet = zipfile.ZipFile(BytesIO(data)).read("xl/worksheets/sheet1.xml")
    body = sheet[sheet.index(b"<worksheet") :]
    result = parse_file(rewrite(data, "xl/worksheets/sheet1.xml", prolog + body), "表.xlsx")
    assert [p.message for p in result.problems] == [
        "文件结构异常（含有 XML 文档类型声明），未读取。"
    ]


def test_it_bounds_the_markup_one_reading_may_parse(settings):
    settings.IMPORT_MAX_XML_MARKUP = 4000
    forms = [sample_form("000", i) for i in range(5)]
    assert [p.message for p in parse_file(workbook_of(*forms), "表.xlsx").problems] == [
        "文件内容过于复杂：XML 标记超过 4,000 个（上限），未读取。"
    ]
    settings.IMPORT_MAX_XML_MARKUP = 20_000
    assert len(parse_file(workbook_of(*forms), "表.xlsx").forms) == 5


def test_it_bounds_a_part_read_whole():
    data = bombs.exported_workbook()
    styles = b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    styles += b"".join(b"<numFmts><x%d/></numFmts>" % i for i in range(60_000)) + b"</styleSheet>"
    result = parse_file(rewrite(data, "xl/styles.xml", styles), "表.xlsx")
    assert [p.message for p in result.problems] == [
        "文件内容过于复杂：XML 标记超过 100,000 个（上限），未读取。"
    ]


def test_it_bounds_the_size_of_a_part_read_whole():
    data = bombs.exported_workbook()
    text = os.urandom(3 * MIB).hex().encode()  # 6 MB that do not compress much
    styles = b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    styles += b"<x>" + text + b"</x></styleSheet>"
    result = parse_file(rewrite(data, "xl/styles.xml", styles), "表.xlsx")
    assert [p.message for p in result.problems] == [
        "文件内容过于复杂：其中一个部分超过 5 MB（上限），未读取。"
    ]


# ------------------------------------------------------------------------- sheet limits


def _sheet(data: bytes) -> bytes:
    return zipfile.ZipFile(BytesIO(data)).read("xl/worksheets/sheet1.xml")


def test_it_reads_the_first_rows_of_a_sheet_and_says_so(settings):
    settings.IMPORT_MAX_SHEET_ROWS = 40
    data = bombs.exported_workbook()
    sheet = _sheet(data).replace(
        b"</sheetData>",
        b'<row r="41"><c r="A41" t="inlineStr"><is><t>x</t></is></c></row></sheetData>',
    )
    result = parse_file(rewrite(data, "xl/worksheets/sheet1.xml", sheet), "表.xlsx")
    plain = parse_file(data, "表.xlsx")
    assert [snapshot(f) for f in result.forms] == [snapshot(f) for f in plain.forms]
    assert [p.message for p in result.problems] == [
        "工作表“表1”超过40行（上限），只读取前40行。"
    ] + [p.message for p in plain.problems]


def test_it_bounds_the_cells_of_a_workbook(settings):
    forms = [sample_form("001", i) for i in range(4)]
    settings.IMPORT_MAX_SHEET_ROWS = 50
    settings.IMPORT_MAX_SHEET_COLUMNS = 10
    assert len(parse_file(workbook_of(forms[0]), "表.xlsx").forms) == 1
    assert [p.message for p in parse_file(workbook_of(*forms), "表.xlsx").problems] == [
        "工作簿的单元格超过 500 个（50 行 × 10 列，上限），未读取。"
    ]


def test_it_bounds_the_shared_strings_of_a_workbook(settings):
    settings.IMPORT_MAX_SHEET_ROWS = 100
    settings.IMPORT_MAX_SHEET_COLUMNS = 10
    data = bombs.exported_workbook()
    strings = (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + b"<si><t>x</t></si>" * 1001
        + b"</sst>"
    )
    types = (
        zipfile.ZipFile(BytesIO(data))
        .read("[Content_Types].xml")
        .replace(
            b"</Types>",
            b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        )
    )
    buffer = BytesIO(rewrite(data, "[Content_Types].xml", types))
    with zipfile.ZipFile(buffer, "a") as target:
        target.writestr("xl/sharedStrings.xml", strings)
    assert [p.message for p in parse_file(buffer.getvalue(), "表.xlsx").problems] == [
        "工作簿中的文字条目超过 250 个（上限），未读取。"
    ]


def test_it_bounds_the_text_cells_repeat_from_the_shared_strings(settings):
    settings.IMPORT_MAX_TEXT_CHARACTERS = 100_000
    workbook = Workbook()
    sheet = workbook.active
    long_text = "长" * 30_000
    for row in range(1, 5):
        sheet.cell(row=row, column=1, value=long_text)
    buffer = BytesIO()
    workbook.save(buffer)
    assert [p.message for p in parse_file(buffer.getvalue(), "表.xlsx").problems] == [
        "工作簿中的文字超过 100,000 字（上限），未读取。"
    ]


def test_it_bounds_what_a_sheet_holds_outside_its_rows():
    data = bombs.exported_workbook()
    sheet = _sheet(data)
    # Varied, so the ratio check lets them through: what the scan would hold is refused.
    columns = b"".join(
        b'<col min="%d" max="%d" width="%d"/>' % (i, i, i % 97) for i in range(1, 200_000)
    )
    start, end = sheet.index(b"<cols>") + len(b"<cols>"), sheet.index(b"</cols>")
    sheet = sheet[:start] + columns + sheet[end:]
    result = parse_file(rewrite(data, "xl/worksheets/sheet1.xml", sheet), "表.xlsx")
    assert [p.message for p in result.problems] == [
        "工作表“表1”中表格以外的内容过多（超过 20,000 个 XML 标记，上限），未读取。"
    ]


def test_it_stops_reading_a_sheet_after_its_merged_ranges():
    data = bombs.exported_workbook()
    sheet = _sheet(data)
    assert b"<pageMargins" in sheet
    # Past the merged ranges nothing is read, so junk there costs nothing.
    junk = b"".join(b'<x a="%d"/>' % i for i in range(300_000))
    sheet = sheet.replace(b"<pageMargins", b"<hyperlinks>" + junk + b"</hyperlinks><pageMargins")
    result = parse_file(rewrite(data, "xl/worksheets/sheet1.xml", sheet), "表.xlsx")
    plain = parse_file(data, "表.xlsx")
    assert [snapshot(f) for f in result.forms] == [snapshot(f) for f in plain.forms]
    assert [p.message for p in result.problems] == [p.message for p in plain.problems]


def test_it_refuses_overlapping_merges_that_would_cover_too_many_cells(settings):
    settings.IMPORT_MAX_SHEET_ROWS = 100
    settings.IMPORT_MAX_SHEET_COLUMNS = 10
    data = bombs.exported_workbook()
    merges = b"".join(b'<mergeCell ref="A1:J100"/>' for _ in range(2))
    sheet = _sheet(data).replace(b"</mergeCells>", merges + b"</mergeCells>")
    result = parse_file(rewrite(data, "xl/worksheets/sheet1.xml", sheet), "表.xlsx")
    assert [p.message for p in result.problems] == [
        "工作表“表1”的合并单元格超过 1,000 个（上限），未读取。"
    ]


def test_it_refuses_a_paragraph_too_large_to_hold():
    runs = b"".join(b"<w:r><w:t>%d</w:t></w:r>" % i for i in range(60_000))
    data = paragraphs_docx(b"<w:p>" + runs + b"</w:p>")
    assert [p.message for p in parse_file(data, "表.docx").problems] == [
        "文档中有一个段落或表格行过大（超过 100,000 个 XML 标记，上限），未读取。"
    ]


WORD_BODY = (
    '<w:p><w:r><w:t>项目</w:t><w:tab/><w:t>名称</w:t><w:br/><w:br w:type="page"/><w:cr/>'
    '<w:noBreakHyphen/><w:ptab w:relativeTo="margin" w:alignment="left" w:leader="none"/>'
    '<w:t xml:space="preserve"> 空格 </w:t><w:t/></w:r>'
    "<w:hyperlink><w:r><w:t>链接</w:t></w:r></w:hyperlink>"
    "<w:ins><w:r><w:t>修订</w:t></w:r></w:ins><w:fldSimple><w:r><w:t>域</w:t></w:r></w:fldSimple>"
    "<w:r><w:t>末尾</w:t></w:r></w:p>"
    "<w:p/><w:sdt><w:sdtContent><w:p><w:r><w:t>控件</w:t></w:r></w:p></w:sdtContent></w:sdt>"
    "<w:tbl><w:tr>"
    '<w:tc><w:tcPr><w:vMerge w:val="restart"/></w:tcPr><w:p><w:r><w:t>上</w:t></w:r></w:p>'
    "<w:p><w:r><w:t>第二段</w:t></w:r></w:p></w:tc>"
    "<w:tc><w:p><w:r><w:t>外</w:t></w:r></w:p><w:tbl><w:tr><w:tc><w:p><w:r><w:t>内</w:t>"
    "</w:r></w:p></w:tc></w:tr></w:tbl><w:p/></w:tc></w:tr>"
    "<w:tr><w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p><w:r><w:t>隐藏</w:t></w:r></w:p></w:tc>"
    "<w:tc><w:p><w:r><w:t>下</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"
    "<w:p><w:r><w:t>尾段</w:t></w:r></w:p>"
)


def test_it_reads_word_text_as_python_docx_does():
    from docx.table import Table, _Cell

    from evaluations.importer.docx import _Locations, document_rows

    data = paragraphs_docx(WORD_BODY.encode())
    expected = []
    document = docx.Document(BytesIO(data))
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for tr in block._tbl.tr_lst:
                expected.append(
                    ["" if tc.vMerge == "continue" else _Cell(tc, block).text for tc in tr.tc_lst]
                )
        elif block.text.strip():
            expected.append([block.text])
    rows = document_rows(archive.open_archive(data), _Locations())
    assert [[cell.text for cell in row.cells] for row in rows] == expected
    assert expected[0] == ["项目\t名称\n\n-\t 空格 链接末尾"]
    assert expected[1] == ["上\n第二段", "外\n"]


def test_it_still_refuses_what_is_not_a_word_document():
    data = bombs.exported_workbook()
    result = parse_file(data, "其实是表格.docx")
    assert [p.message for p in result.problems] == [
        "无法打开 Word 文件：文件不是有效的 .docx 文档（没有 Word 文档正文）。"
    ]


# -------------------------------------------------------------------- forms per request


def upload(prefix: str, name: str | None = None) -> SimpleUploadedFile:
    path = sample_path(prefix)
    return SimpleUploadedFile(name or path.name, path.read_bytes(), content_type="text/plain")


def batch_of(page: str) -> str:
    match = re.search(r'name="batch" value="([0-9a-f-]+)"', page)
    assert match, "no confirm form on the page"
    return match.group(1)


OVER_REQUEST = "本次导入的自评表超过 15 张（一次导入的上限），此文件未导入：请分批导入。"


def test_it_caps_the_forms_of_one_request_in_preview_and_confirm(client_a, settings):
    settings.IMPORT_MAX_FORMS_PER_REQUEST = 15
    files = [upload("000", "一.txt"), upload("003", "二.txt"), upload("000", "三.txt")]
    page = client_a.post("/evaluations/import/", {"files": files}).content.decode()
    assert page.count(OVER_REQUEST) == 2
    assert "将新建 10 张" in page
    page = client_a.post("/evaluations/import/confirm/", {"batch": batch_of(page)}).content.decode()
    assert page.count(OVER_REQUEST) == 2
    assert Evaluation.objects.count() == 10
    assert set(Evaluation.objects.values_list("source", flat=True)) == {"一.txt"}


def test_it_refuses_the_rest_of_a_request_without_reading_it(settings, client_a):
    settings.IMPORT_MAX_FORMS_PER_REQUEST = 10
    files = [upload("000", "一.txt"), SimpleUploadedFile("二.txt", b"\x00" * 100)]
    page = client_a.post("/evaluations/import/", {"files": files}).content.decode()
    assert "本次导入的自评表超过 10 张" in page
    assert "非文本内容" not in page  # the second file was never read


# ---------------------------------------------------------------------------- previews


def test_it_refuses_files_larger_than_the_preview_quota(client_a, settings):
    settings.IMPORT_PREVIEW_QUOTA = 50_000
    page = client_a.post(
        "/evaluations/import/", {"files": [upload("000", "一.txt"), upload("000", "二.txt")]}
    ).content.decode()
    assert (
        "所选文件共 55.7\xa0KB，超过每位用户可暂存待确认的 48.8\xa0KB（上限），请分批导入。" in page
    )
    assert not ImportUpload.objects.exists()


@pytest.mark.files
def test_it_drops_the_oldest_previews_of_the_user_to_stay_within_the_quota(
    client_a, staff_a, colleague_a, settings
):
    settings.IMPORT_PREVIEW_QUOTA = 60_000
    other = Client()
    other.force_login(colleague_a)
    other.post("/evaluations/import/", {"files": [upload("000")]})
    first = batch_of(
        client_a.post("/evaluations/import/", {"files": [upload("000")]}).content.decode()
    )
    second = batch_of(
        client_a.post("/evaluations/import/", {"files": [upload("003")]}).content.decode()
    )
    page = client_a.post("/evaluations/import/", {"files": [upload("000")]}).content.decode()
    assert "已删除您较早的 1 个未确认的导入预览" in page
    held = {
        str(b) for b in ImportUpload.objects.filter(owner=staff_a).values_list("batch", flat=True)
    }
    assert held == {second, batch_of(page)}
    assert first not in held
    assert ImportUpload.objects.filter(owner=colleague_a).count() == 1  # others untouched
    response = client_a.post("/evaluations/import/confirm/", {"batch": first}, follow=True)
    assert "导入预览已过期或不存在" in response.content.decode()


@pytest.mark.files
def test_it_refuses_to_store_more_than_the_quota(staff_a, settings):
    settings.IMPORT_PREVIEW_QUOTA = 10
    with pytest.raises(PreviewTooLarge):
        upload_store(owner=staff_a, files=[("a.txt", b"x" * 11)])
    assert not ImportUpload.objects.exists()


@pytest.mark.files
def test_it_keeps_a_preview_for_the_configured_lifetime(staff_a, settings):
    settings.IMPORT_PREVIEW_LIFETIME = 600
    before = timezone.now()
    stored = upload_store(owner=staff_a, files=[("a.txt", b"x")])
    row = ImportUpload.objects.get(batch=stored.batch)
    assert (
        before + timedelta(seconds=600) <= row.expires_at <= timezone.now() + timedelta(seconds=600)
    )


@pytest.mark.files
def test_it_purges_expired_previews_from_the_command(staff_a, colleague_a):
    old = upload_store(owner=staff_a, files=[("a.txt", b"x"), ("b.txt", b"y")])
    kept = upload_store(owner=colleague_a, files=[("c.txt", b"z")])
    ImportUpload.objects.filter(batch=old.batch).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    out = StringIO()
    call_command("purge_import_previews", stdout=out)
    assert out.getvalue().strip() == "已删除 2 个过期的导入预览文件。"
    assert list(ImportUpload.objects.values_list("batch", flat=True)) == [kept.batch]
    out = StringIO()
    call_command("purge_import_previews", stdout=out)  # again: nothing left to do
    assert out.getvalue().strip() == "已删除 0 个过期的导入预览文件。"


@pytest.mark.files
def test_it_claims_a_batch_once(staff_a, colleague_a):
    stored = upload_store(owner=staff_a, files=[("a.txt", b"x")])
    assert upload_claim(owner=colleague_a, batch=stored.batch).state is ClaimState.MISSING
    claim = upload_claim(owner=staff_a, batch=stored.batch)
    assert claim.state is ClaimState.CLAIMED and claim.files == [("a.txt", b"x")]
    assert upload_claim(owner=staff_a, batch=stored.batch).state is ClaimState.CONFIRMED


@pytest.mark.files
def test_it_tells_a_second_confirmation_that_the_first_is_importing(client_a, staff_a):
    page = client_a.post("/evaluations/import/", {"files": [upload("000")]}).content.decode()
    batch = batch_of(page)
    upload_claim(owner=staff_a, batch=uuid.UUID(batch))  # the first confirmation
    response = client_a.post("/evaluations/import/confirm/", {"batch": batch})
    assert response.status_code == 302
    assert response["Location"] == "/evaluations/"
    page = client_a.get("/evaluations/").content.decode()
    assert "此导入已确认过" in page
    assert "导入失败" not in page
    assert not Evaluation.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_it_imports_once_when_two_confirmations_race(tmp_path, staff_a, monkeypatch):
    """Two requests confirm one preview at once: one imports, the other is told so."""
    from evaluations.views import imports as views
    from tests.evaluations.test_concurrent_saves import database_file, using

    first = Client()
    first.force_login(staff_a)
    second = Client()
    second.force_login(staff_a)
    batch = batch_of(
        first.post("/evaluations/import/", {"files": [upload("000")]}).content.decode()
    )
    claimed, answered = threading.Event(), threading.Event()
    real_import = views.import_file
    responses: dict[str, object] = {}

    def slow_import(**kwargs):
        claimed.set()  # the batch is claimed: let the other request in, then go on
        answered.wait(10)
        return real_import(**kwargs)

    monkeypatch.setattr(views, "import_file", slow_import)

    with database_file(tmp_path) as settings_dict:

        def confirm(name: str, client: Client, wait: threading.Event | None) -> None:
            with using(settings_dict):
                if wait is not None:
                    wait.wait(10)
                responses[name] = client.post("/evaluations/import/confirm/", {"batch": batch})
                if wait is not None:
                    answered.set()
                else:
                    responses["count"] = Evaluation.objects.count()

        threads = [
            threading.Thread(target=confirm, args=("first", first, None)),
            threading.Thread(target=confirm, args=("second", second, claimed)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert responses["first"].status_code == 200
    assert "导入完成：新建 10 张" in responses["first"].content.decode()
    assert responses["second"].status_code == 302
    assert responses["second"]["Location"] == "/evaluations/"
    assert responses["count"] == 10


def test_it_writes_sizes_as_the_limits_are_written():
    assert archive.megabytes(50 * MIB) == "50 MB"
    assert archive.megabytes(5 * MIB // 2) == "2.5 MB"
    assert archive.megabytes(20 * 1024) == "20 KB"


# ------------------------------------------------------------------- fuzzing, fixed seed


def _load_fuzz():
    path = PROJECT_DIR / "scripts" / "fuzz_import.py"
    spec = importlib.util.spec_from_file_location("fuzz_import", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_it_survives_the_fixed_seed_subset_of_the_fuzzer():
    """CI's share of scripts/fuzz_import.py: 120 mutated files, every 5th imported for real."""
    fuzz = _load_fuzz()
    seen = {"inputs": 0, "imported": 0}

    def check(name: str, data: bytes) -> None:
        seen["inputs"] += 1
        result = parse_file(data, name)  # never raises
        assert all(isinstance(p.message, str) and p.message for p in result.problems)
        if seen["inputs"] % 5:
            return
        before = Evaluation.objects.count()
        report = import_file(data=data, name=name)
        created = report.count("created")
        assert Evaluation.objects.count() - before == (0 if report.failed else created)
        seen["imported"] += created

    assert fuzz.run_subset(120, seed=9, check=check) == 120
    assert seen["imported"] > 0


def test_it_states_the_limits_on_the_upload_page(client_a):
    page = client_a.get("/evaluations/import/").content.decode()
    assert "每个文件最多 200 张自评表，一次最多 500 张。" in page
    assert "预览保留 2 小时，过期后需重新上传；每人待确认的文件最多暂存 20.0\xa0MB" in page


# --- found by the fuzzer and by the text-limit work -----------------------------------------


def test_it_reads_a_label_holding_a_nul_and_says_it_removed_it():
    from evaluations.importer.text import parse_text

    text = sample_path("000").read_bytes().decode("utf-8")
    damaged = text.replace("其中：当年财政拨款", "其中：当年财\x00政拨款", 1)
    assert damaged != text
    clean, dirty = parse_text(text.encode()), parse_text(damaged.encode())
    assert [f.funding for f in dirty.forms] == [f.funding for f in clean.forms]
    line = text[: text.index("其中：当年财政拨款")].count("\n") + 1
    assert [(p.line, p.message) for p in dirty.problems] == [
        *[(p.line, p.message) for p in clean.problems],
        (line, f"第{line}行含有 1 个不可见的控制字符（U+0000），已删除。"),
    ]
    assert "\x00" not in repr(dirty.forms)


def test_it_reads_excel_float_noise_as_the_number_excel_shows():
    from evaluations.importer.xlsx import cell_text

    assert cell_text(57.547000000000004) == "57.547"
    assert cell_text(0.1 + 0.2) == "0.3"
    assert cell_text(0.8221000000000001, "0.00%") == "82.21%"
    assert cell_text(70.0) == "70"


def test_it_reads_a_second_header_row_that_points_past_the_table():
    # The fuzzer's input 3847 (seed 2026): a header row whose 分值/得分 columns lie beyond the
    # width of the indicator rows made aligned() raise IndexError ("内部错误").
    from evaluations.importer.text import parse_text

    data = (PROJECT_DIR / "tests" / "data" / "fuzz-header-past-table.txt").read_bytes()
    result = parse_text(data)
    assert result.forms
    assert not [p for p in result.problems if "内部错误" in p.message]
