"""The kinds of bulk export, as one table: what each is called, writes and is served as.

The export form's choices (``Format`` in exports/models.py), the buttons on the list of
forms, the jobs' planning and assembling, the progress wording, the file's extension and
content type all read this table. A new kind is a ``Format`` member (and its migration), a
row here, and its writer (exports/bulk.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from common.http import PDF_CONTENT_TYPE, XLSX_CONTENT_TYPE
from exports.bulk import Writer, write_merged, write_xlsx, write_zip
from exports.models import Format


@dataclass(frozen=True)
class ExportKind:
    """One kind of bulk export."""

    format: Format
    # The file's extension and the type it is served as.
    extension: str
    content_type: str
    # Writes the file from the job's forms (exports/bulk.py).
    writer: Writer
    # Its forms are rendered into the PDF cache first, in chunks several workers share;
    # otherwise the writing is the whole job (and counts as its progress).
    renders_pdfs: bool
    # The progress of the writing once the PDFs are rendered (``%(count)s``: forms written).
    assembled: Promise | None
    # Its button on the list of forms (templates/evaluations/list.html, ``export_kinds``);
    # the export form's radio button reads ``Format``'s label.
    button: Promise
    # Its name in the form's refusal of an unknown format.
    name: Promise


KINDS: dict[str, ExportKind] = {
    kind.format.value: kind
    for kind in (
        ExportKind(
            format=Format.PDF,
            extension="pdf",
            content_type=PDF_CONTENT_TYPE,
            writer=write_merged,
            renders_pdfs=True,
            assembled=gettext_lazy("，已合并 %(count)s 张"),
            button=gettext_lazy("合并 PDF"),
            name=gettext_lazy("合并 PDF"),
        ),
        ExportKind(
            format=Format.ZIP,
            extension="zip",
            content_type="application/zip",
            writer=write_zip,
            renders_pdfs=True,
            assembled=gettext_lazy("，已打包 %(count)s 张"),
            button=gettext_lazy("PDF 压缩包（ZIP）"),
            name=gettext_lazy("ZIP"),
        ),
        ExportKind(
            format=Format.XLSX,
            extension="xlsx",
            content_type=XLSX_CONTENT_TYPE,
            writer=write_xlsx,
            renders_pdfs=False,
            assembled=None,
            button=gettext_lazy("Excel"),
            name=gettext_lazy("Excel"),
        ),
    )
}


def kind_of(format: str) -> ExportKind:
    """The row of a job's or request's format (a KeyError for an unknown one)."""
    return KINDS[str(format)]
