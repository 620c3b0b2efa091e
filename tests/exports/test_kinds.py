"""The kinds of bulk export are one table (exports/kinds.py) that every place reads.

The list of forms offers a button per row, the export form names the rows when it refuses
a format, the jobs serve each file with its row's extension and type, and the command and
the jobs write with the same writers (exports/bulk.py).
"""

from __future__ import annotations

import zipfile
from dataclasses import replace

import pytest
from django.core.management import call_command

from exports.forms import ExportForm
from exports.kinds import KINDS
from exports.models import Format
from tests.factories import make_evaluation

pytestmark = pytest.mark.django_db


def test_every_format_is_one_row_of_the_table():
    assert list(KINDS) == list(Format.values)
    assert {kind.extension for kind in KINDS.values()} == {"pdf", "zip", "xlsx"}
    assert KINDS["zip"].content_type == "application/zip"
    assert KINDS["xlsx"].renders_pdfs is False


def test_the_list_of_forms_offers_a_button_per_row(client_finance, dept_a, staff_a, monkeypatch):
    make_evaluation(dept_a, staff_a)
    monkeypatch.setitem(KINDS, "zip", replace(KINDS["zip"], button="每表一个 PDF 的压缩包"))
    page = client_finance.get("/evaluations/", {"year": 2021}).content.decode()
    assert 'name="format" value="zip">每表一个 PDF 的压缩包</button>' in page
    assert 'name="format" value="pdf">合并 PDF</button>' in page
    assert 'name="format" value="xlsx">Excel</button>' in page


def test_the_export_form_names_the_rows_when_it_refuses_a_format(finance):
    form = ExportForm({"year": 2021, "format": "csv"}, user=finance)
    assert not form.is_valid()
    assert form.first_error() == "导出格式无效（可选：合并 PDF、ZIP、Excel）。"


def test_the_command_writes_its_zip_with_the_jobs_writer(dept_a, staff_a, tmp_path):
    """One writer per kind: the command's ZIP stores the PDFs as they are, as a job's does."""
    make_evaluation(dept_a, staff_a)
    out = tmp_path / "forms.zip"
    call_command("export_pdf", year=2021, output=str(out))
    with zipfile.ZipFile(out) as archive:
        entries = archive.infolist()
    assert [entry.filename.endswith(".pdf") for entry in entries] == [True]
    assert entries[0].compress_type == zipfile.ZIP_STORED
