"""``manage.py export_pdf --workers N``: the export jobs' parallel path, the same file."""

from __future__ import annotations

import zipfile
from io import BytesIO

import pytest
from django.core.management import CommandError, call_command
from pypdf import PdfReader

from evaluations.models import Evaluation, Status
from exports.pdfcache import cached_pdf_name
from tests.export_helpers import pdf_pages, sample_forms, store

# The children read the forms through their own connections: the rows must be committed.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def forms(settings):
    settings.EXPORT_CHUNK_SIZE = 2  # 7 forms: 4 chunks over the processes
    # Two departments of 2021 (files 000 and 001).
    picked = [
        form for n, (_p, _i, form) in enumerate(sample_forms()) if n in (0, 1, 2, 3, 4, 10, 11)
    ]
    return [store(form, status=Status.APPROVED) for form in picked]


def structure(data: bytes) -> dict:
    reader = PdfReader(BytesIO(data))
    return {
        "pages": pdf_pages(data),
        "outline": [item.title for item in reader.outline],
        "labels": list(reader.page_labels),
        "title": reader.metadata.title,
    }


def test_workers_write_the_same_merged_pdf_as_the_sequential_path(forms, tmp_path):
    sequential, parallel = tmp_path / "sequential.pdf", tmp_path / "parallel.pdf"
    call_command("export_pdf", year=2021, output=str(sequential))
    call_command("export_pdf", year=2021, output=str(parallel), workers=2)

    expected = structure(sequential.read_bytes())
    assert len(expected["outline"]) == len(forms)
    assert structure(parallel.read_bytes()) == expected
    # Rendered into the PDF cache: a download or an export job reuses them.
    for evaluation in Evaluation.objects.select_related("department"):
        assert cached_pdf_name(evaluation, render=False) is not None


def test_workers_write_the_same_zip_as_the_sequential_path(forms, tmp_path):
    sequential, parallel = tmp_path / "sequential.zip", tmp_path / "parallel.zip"
    call_command("export_pdf", year=2021, output=str(sequential))
    call_command("export_pdf", year=2021, output=str(parallel), workers=2)

    with zipfile.ZipFile(sequential) as a, zipfile.ZipFile(parallel) as b:
        assert b.namelist() == a.namelist()
        pdfs = [name for name in a.namelist() if name.endswith(".pdf")]
        assert len(pdfs) == len(forms)
        for name in pdfs:
            assert pdf_pages(b.read(name)) == pdf_pages(a.read(name))


def test_one_worker_and_a_department_use_the_cache_path_too(forms, tmp_path):
    department = forms[-1].department
    assert Evaluation.objects.exclude(department=department).exists()
    sequential, cached = tmp_path / "sequential.pdf", tmp_path / "cached.pdf"
    call_command("export_pdf", year=2021, department=department.name, output=str(sequential))
    call_command("export_pdf", year=2021, department=department.name, output=str(cached), workers=1)
    expected = structure(sequential.read_bytes())
    assert len(expected["outline"]) == Evaluation.objects.filter(department=department).count()
    assert structure(cached.read_bytes()) == expected


def test_a_negative_number_of_workers_is_refused(forms, tmp_path):
    with pytest.raises(CommandError):
        call_command("export_pdf", year=2021, output=str(tmp_path / "x.pdf"), workers=-1)
    assert not list(tmp_path.iterdir())


# --- the merge's byte copy (common/pdfmerge.py) ---------------------------------


def merged(*documents: tuple[bytes, str]) -> bytes:
    from common.pdfmerge import StreamingPdfMerger

    out = BytesIO()
    merger = StreamingPdfMerger(out, title="合并")
    for data, title in documents:
        merger.append(data, title)
    merger.close()
    return out.getvalue()


def test_a_pdf_of_another_shape_is_merged_through_pypdf_with_the_same_pages(forms):
    from pypdf import PdfWriter

    from exports.compose import evaluation_pdf

    weasy = evaluation_pdf(forms[0])
    # Rewritten by pypdf: a classic cross-reference table, no object streams, so the
    # byte copy does not apply and the merger parses the objects instead.
    rewritten = BytesIO()
    PdfWriter(clone_from=PdfReader(BytesIO(weasy))).write(rewritten)
    assert b"/ObjStm" in weasy and b"/ObjStm" not in rewritten.getvalue()

    data = merged((weasy, "一"), (rewritten.getvalue(), "二"), (weasy, "三"))
    reader = PdfReader(BytesIO(data))
    pages = pdf_pages(weasy)
    assert pdf_pages(data) == pages * 3
    assert [item.title for item in reader.outline] == ["一", "二", "三"]
    assert list(reader.page_labels) == [str(n + 1) for n in range(len(pages))] * 3


def test_the_byte_copy_renumbers_references_outside_strings_only():
    from common.pdfmerge import _RawObject

    raw = _RawObject(b"<</A (text 1 0 R \\) (nested 2 0 R)) /B [3 0 R 4 0 R]/F12 0 /Parent 5 0 R>>")
    assert raw.keys() == [(3, 0), (4, 0)]
    numbers = {(3, 0): 30, (4, 0): 40}
    assert raw.renumbered(numbers, None) == (
        b"<</A (text 1 0 R \\) (nested 2 0 R)) /B [30 0 R 40 0 R]/F12 0 >>"
    )
    assert raw.renumbered(numbers, 2).endswith(b"/F12 0 /Parent 2 0 R>>")
