"""The bulk writers: many forms into one merged PDF, a ZIP of PDFs, or one workbook.

One writer per kind, used by the export jobs (exports/jobs.py, from the PDF cache) and by
``manage.py export_pdf`` (rendered in its own process, or from the cache with
``--workers``): ``pdf_of`` says where a form's PDF comes from. Each writer returns how many
forms it wrote and calls ``progress.step()`` after each form.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Protocol

from django.conf import settings
from django.utils.translation import gettext as _

from campaigns.selectors import campaign_years
from common.pdfmerge import StreamingPdfMerger
from common.safetext import clean_text
from evaluations.models import Evaluation
from exports.evidence import EvidenceFolders
from exports.excel import write_workbook
from exports.pdf import export_filename
from exports.pdfcache import cached_pdf_bytes

# A form's PDF: from the PDF cache (``cached_pdf_bytes``) or rendered now (``evaluation_pdf``).
PdfOf = Callable[[Evaluation], bytes]


class Progress(Protocol):
    """What a writer reports to: a step per form written, notes for the finished file."""

    notes: list[str]

    def step(self) -> None: ...


class NoProgress:
    """A writer's progress when nobody watches it (the command line)."""

    def __init__(self) -> None:
        self.notes: list[str] = []

    def step(self) -> None:
        pass


Writer = Callable[[Iterable[Evaluation], IO[bytes], Progress], int]


def with_campaign_flags(evaluations: Iterable[Evaluation]) -> Iterator[Evaluation]:
    """The forms, each told whether its year has a campaign (one query for all of them)."""
    years = campaign_years()
    for evaluation in evaluations:
        evaluation.year_has_campaign = evaluation.year in years  # type: ignore[attr-defined]
        yield evaluation


def write_merged(
    forms: Iterable[Evaluation],
    target: IO[bytes],
    progress: Progress,
    *,
    pdf_of: PdfOf = cached_pdf_bytes,
) -> int:
    """One PDF of every form, with an outline entry and page labels per form.

    Each form's PDF (its page numbers start at 1) is streamed into the target at once, so
    memory stays flat however many forms there are.
    """
    merger = StreamingPdfMerger(target, author=settings.PDF_AUTHOR)
    years: set[int] = set()
    count = 0
    for evaluation in forms:
        merger.append(
            pdf_of(evaluation), clean_text(f"{evaluation.year} {evaluation.project_name}")
        )
        years.add(evaluation.year)
        count += 1
        progress.step()
    # The document's title: the year when every form is of one year, as the exports are.
    merger.title = (
        _("%(year)s年度项目支出绩效自评表") % {"year": years.pop()}
        if len(years) == 1
        else _("项目支出绩效自评表")
    )
    merger.close()
    return count


def write_zip(
    forms: Iterable[Evaluation],
    target: IO[bytes],
    progress: Progress,
    *,
    pdf_of: PdfOf = cached_pdf_bytes,
) -> int:
    """A ZIP of one PDF per form and each form's evidence files (each distinct file once)."""
    count = 0
    # PDFs are compressed already: stored as they are, the archive streams at disk speed.
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:
        evidence = EvidenceFolders(archive)
        for evaluation in forms:
            count += 1
            name = f"{count:03d}_{export_filename(evaluation, 'pdf')}"
            # One form's PDF (tens of kB) in memory at a time; the cache's reader retries when
            # a concurrent render replaces the file between lookup and read.
            with archive.open(name, "w") as entry:
                entry.write(pdf_of(evaluation))
            evidence.add(evaluation, name)
            progress.step()
        evidence.close()
    if note := evidence.missing_note():
        progress.notes.append(note)
    return count


def write_xlsx(forms: Iterable[Evaluation], target: IO[bytes], progress: Progress) -> int:
    """One workbook: a sheet per form in the official layout, then the flat sheet."""

    def counted() -> Iterator[Evaluation]:
        for evaluation in forms:
            yield evaluation
            progress.step()

    return write_workbook(counted(), target)
