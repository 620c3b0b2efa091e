"""Merged PDFs checked by tools independent of pypdf: qpdf's structure check and poppler.

``pdfmerge.py`` writes the merged file with pypdf's objects; reading it back with pypdf
would share its mistakes. ``qpdf --check`` parses the cross-reference table, the object
streams and the page tree on its own, and ``pdfinfo`` (poppler) reads the document
information the way PDF readers do.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from exports import compose
from tests.export_helpers import merged_pdf, sample_forms, store
from tests.exports.test_export_pages import export_through_job

pytestmark = pytest.mark.django_db


def qpdf_check(path: Path) -> subprocess.CompletedProcess[str]:
    assert shutil.which("qpdf"), "qpdf is missing: scripts/setup.sh installs it"
    return subprocess.run(
        ["qpdf", "--check", str(path)], capture_output=True, text=True, timeout=60
    )


def pdf_info(path: Path) -> dict[str, str]:
    output = subprocess.run(
        ["pdfinfo", "-enc", "UTF-8", str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    info = {}
    for line in output.splitlines():
        key, _sep, value = line.partition(":")
        info[key.strip()] = value.strip()
    return info


def stored(dept, count: int):
    forms = [form for prefix, _i, form in sample_forms() if prefix == "000"][:count]
    return [store(form, dept) for form in forms]


def test_a_merged_pdf_passes_qpdf_and_carries_its_metadata(dept_a, tmp_path, settings):
    settings.PDF_AUTHOR = "昌吉回族自治州财政局"
    evaluations = stored(dept_a, 3)
    target = tmp_path / "merged.pdf"
    with target.open("wb") as out:
        assert merged_pdf(evaluations, out) == 3
    checked = qpdf_check(target)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "No syntax or stream encoding errors found" in checked.stdout
    info = pdf_info(target)
    assert info["Title"] == "2021年度项目支出绩效自评表"
    assert info["Author"] == "昌吉回族自治州财政局"
    pages = sum(
        int(pdf_info_of(compose.evaluation_pdf(e), tmp_path / f"{e.pk}.pdf")["Pages"])
        for e in evaluations
    )
    assert int(info["Pages"]) == pages


def pdf_info_of(data: bytes, path: Path) -> dict[str, str]:
    path.write_bytes(data)
    return pdf_info(path)


@pytest.mark.django_db(transaction=True)
def test_the_bulk_download_and_the_command_pass_qpdf(dept_a, finance, tmp_path):
    stored(dept_a, 2)
    client = Client()
    client.force_login(finance)
    response = client.get("/evaluations/export/pdf/", {"year": 2021})
    assert response.status_code == 302
    assert response["Location"] == "/exports/?year=2021&format=pdf"
    _job, response = export_through_job(client, year=2021, format="pdf")
    assert response.status_code == 200
    downloaded = tmp_path / "bulk.pdf"
    downloaded.write_bytes(b"".join(response.streaming_content))
    checked = qpdf_check(downloaded)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert pdf_info(downloaded)["Title"] == "2021年度项目支出绩效自评表"

    written = tmp_path / "command.pdf"
    call_command("export_pdf", year=2021, output=str(written))
    checked = qpdf_check(written)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_qpdf_finds_a_broken_cross_reference(dept_a, tmp_path):
    """The check can fail: a merged file whose offset table points into the wrong places."""
    evaluations = stored(dept_a, 1)
    out = BytesIO()
    merged_pdf(evaluations, out)
    data = out.getvalue()
    # Every offset shifted by one byte, as a merger that miscounted its output would write.
    head, xref = data.split(b"\nxref\n", 1)
    table = re.sub(
        rb"^(\d{10}) 00000 n", lambda m: b"%010d 00000 n" % (int(m[1]) + 1), xref, flags=re.M
    )
    broken = head + b"\nxref\n" + table
    target = tmp_path / "broken.pdf"
    target.write_bytes(broken)
    checked = qpdf_check(target)
    assert checked.returncode != 0
    assert "damaged" in checked.stdout + checked.stderr
