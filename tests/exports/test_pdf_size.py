"""The PDF's weight: only the glyphs a form prints are embedded, the text and look unchanged.

WeasyPrint on its own embeds the Chinese font keeping ~63,000 empty glyphs (common/pdffonts.py);
the pages here are compared with what it makes on its own, by poppler (``pdftotext``,
``pdftoppm``) and qpdf, which scripts/setup.sh installs.
"""

from __future__ import annotations

import shutil
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from django.template.loader import render_to_string
from PIL import Image, ImageChops
from pypdf import PdfReader
from weasyprint import HTML

from common import pdf as printing
from exports import compose, pdf
from tests.export_helpers import sample_form, store

pytestmark = pytest.mark.django_db

# What a Word-made PDF of a one-page form weighs; WeasyPrint alone makes about 190 KB.
ONE_PAGE_FORM_MAX_BYTES = 60_000
CHINESE = "项目支出绩效自评表（2021年度）：资金执行率100.00%，群众满意度≥95%。堃喆犇"


def tool(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} is missing: scripts/setup.sh installs it"
    return found


def weasyprint_alone(html: str) -> bytes:
    """The PDF WeasyPrint makes of ``html`` with its own font subsets (same stylesheet)."""
    css, font_config, fetcher = printing.resources()
    base_url = printing.stylesheet_path().parent.parent.as_uri() + "/"
    document = HTML(string=html, base_url=base_url, url_fetcher=fetcher).render(
        stylesheets=[css], font_config=font_config
    )
    pdf.merge_repeated_labels(document)
    return document.write_pdf()


def pdftotext(data: bytes, path: Path) -> str:
    path.write_bytes(data)
    return subprocess.run(
        [tool("pdftotext"), "-enc", "UTF-8", "-layout", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


def rendered_pages(data: bytes, folder: Path) -> list[Image.Image]:
    """Each page as poppler draws it at 80 dpi, in grey."""
    folder.mkdir()
    (folder / "in.pdf").write_bytes(data)
    subprocess.run(
        [tool("pdftoppm"), "-r", "80", "-png", str(folder / "in.pdf"), str(folder / "page")],
        check=True,
        timeout=60,
    )
    return [Image.open(path).convert("L") for path in sorted(folder.glob("page*.png"))]


def embedded_font_kinds(data: bytes) -> set[str]:
    """The /Subtype of every embedded font program (FontFile3)."""
    kinds = set()
    for page in PdfReader(BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            for descendant in font.get_object()["/DescendantFonts"]:
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                kinds.add(str(descriptor["/FontFile3"].get_object()["/Subtype"]))
    return kinds


def test_a_one_page_sample_form_weighs_at_most_60_kb():
    data = compose.evaluation_pdf(store(sample_form("000", 6)))  # 建设项目审批平台
    assert len(PdfReader(BytesIO(data)).pages) == 1
    assert len(data) <= ONE_PAGE_FORM_MAX_BYTES


def test_the_chinese_text_extracts_as_printed(tmp_path):
    data = printing.render_html_pdf(f"<p>{CHINESE}</p>")
    assert data is not None
    assert pdftotext(data, tmp_path / "text.pdf").strip() == CHINESE
    # The font program is the bare CFF of the glyphs used, found by CID.
    assert embedded_font_kinds(data) == {"/CIDFontType0C"}


def test_a_form_reads_and_looks_as_weasyprint_alone_prints_it(tmp_path):
    evaluation = store(sample_form("001"))
    html = render_to_string(pdf.TEMPLATE, compose.evaluation_context(evaluation))
    alone = weasyprint_alone(html)
    compact = pdf.render_html_pdf(html)
    assert compact is not None
    assert len(compact) * 3 < len(alone)

    assert pdftotext(compact, tmp_path / "compact.pdf") == pdftotext(alone, tmp_path / "alone.pdf")
    before = rendered_pages(alone, tmp_path / "alone")
    after = rendered_pages(compact, tmp_path / "compact")
    assert len(after) == len(before) >= 1
    for old, new in zip(before, after, strict=True):
        assert ImageChops.difference(old, new).getbbox() is None  # not one pixel differs


def test_a_form_passes_qpdf(tmp_path):
    target = tmp_path / "form.pdf"
    target.write_bytes(compose.evaluation_pdf(store(sample_form("003"))))
    checked = subprocess.run(
        [tool("qpdf"), "--check", str(target)], capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "No syntax or stream encoding errors" in checked.stdout
