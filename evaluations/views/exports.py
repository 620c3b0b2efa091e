"""Downloads: one evaluation or a department's year as PDF, ZIP of PDFs, or Excel."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator
from typing import IO
from urllib.parse import quote

from django.core.exceptions import BadRequest
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from departments.access import visible_evaluations
from evaluations import permissions, selectors
from evaluations.core.safetext import safe_filename_text
from evaluations.exports import excel, pdf
from evaluations.forms.workflow import BulkExportForm
from evaluations.models import Evaluation

PDF = "application/pdf"
ZIP = "application/zip"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# Line breaks, tabs, quotes and backslashes cannot stand in the quoted ASCII name.
_NOT_IN_QUOTED_NAME = re.compile(r'[\x00-\x1f\x7f"\\]')


def content_disposition(filename: str, fallback: str) -> str:
    """An attachment header every browser understands: ASCII name plus RFC 5987 UTF-8 name.

    Whatever the caller built the name from, control and bidirectional characters are
    dropped here too: a browser shows the decoded name, and U+202E would reverse it.
    """
    filename = safe_filename_text(filename) or "download"
    ascii_name = safe_filename_text(fallback).encode("ascii", "ignore").decode()
    ascii_name = _NOT_IN_QUOTED_NAME.sub("", ascii_name) or "download"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _attachment(response: HttpResponse, filename: str, fallback: str) -> HttpResponse:
    response["Content-Disposition"] = content_disposition(filename, fallback)
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def evaluation_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Download one evaluation as PDF."""
    from django.core.files.storage import default_storage

    from exports.pdfcache import cached_pdf_name

    evaluation = selectors.evaluation_get(user=request.user, pk=pk)
    permissions.require_or_404(permissions.EXPORT, request.user, evaluation)
    # From the PDF cache (exports/pdfcache.py): rendered now only when the form's printed
    # state has no stored PDF yet; an approved form was rendered in the background.
    with default_storage.open(cached_pdf_name(evaluation), "rb") as handle:
        response = HttpResponse(handle.read(), content_type=PDF)
    return _attachment(
        response, pdf.export_filename(evaluation, "pdf"), f"evaluation-{evaluation.pk}.pdf"
    )


@require_GET
def evaluation_xlsx_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Download one evaluation as an Excel workbook in the official layout."""
    evaluation = selectors.evaluation_get(user=request.user, pk=pk)
    permissions.require_or_404(permissions.EXPORT, request.user, evaluation)
    response = HttpResponse(excel.evaluations_xlsx([evaluation]), content_type=XLSX)
    return _attachment(
        response, pdf.export_filename(evaluation, "xlsx"), f"evaluation-{evaluation.pk}.xlsx"
    )


def _bulk_selection(request: HttpRequest) -> tuple[int, str | None, QuerySet[Evaluation]]:
    """Year, department name and evaluations chosen by the GET parameters, scoped to the user."""
    permissions.require_or_404(permissions.EXPORT, request.user)
    form = BulkExportForm(request.GET)
    if not form.is_valid():
        # Answered by config.views.bad_request: the Chinese 400 page with this message.
        raise BadRequest(form.first_error())
    year = form.cleaned_data["year"]
    evaluations = visible_evaluations(request.user).filter(year=year)
    department_name = None
    department_id = form.cleaned_data["department"]
    if department_id is not None:
        found = get_object_or_404(selectors.departments_for(user=request.user), pk=department_id)
        department_name = found.name
        evaluations = evaluations.filter(department=found)
    status = form.cleaned_data["status"]
    if status:
        evaluations = evaluations.filter(status=status)
    evaluations = evaluations.select_related("department").order_by(
        "department__name", "project_name", "pk"
    )
    if not evaluations.exists():
        raise Http404(_("没有符合条件的自评表。"))
    return year, department_name, evaluations


def iter_evaluations(evaluations: QuerySet[Evaluation]) -> Iterator[Evaluation]:
    """Stream evaluations with their rows, a few at a time, so memory stays flat."""
    yield from evaluations.prefetch_related("funding_rows", "indicators").iterator(chunk_size=20)


def _bulk(
    request: HttpRequest,
    writer: Callable[[Iterator[Evaluation], IO[bytes]], int],
    extension: str,
    content_type: str,
) -> HttpResponse:
    year, department_name, evaluations = _bulk_selection(request)
    # Written form by form into a temporary file that FileResponse streams and then closes.
    target = tempfile.TemporaryFile()
    try:
        writer(iter_evaluations(evaluations), target)
        target.seek(0)
    except BaseException:
        target.close()
        raise
    response = FileResponse(target, content_type=content_type)
    return _attachment(
        response,
        pdf.bulk_filename(year, department_name, extension),
        f"evaluations-{year}.{extension}",
    )


@require_GET
def bulk_pdf_view(request: HttpRequest) -> HttpResponse:
    """Download a year's evaluations (of one department, or all visible) as one PDF."""
    return _bulk(request, pdf.write_merged_pdf, "pdf", PDF)


@require_GET
def bulk_zip_view(request: HttpRequest) -> HttpResponse:
    """Download a year's evaluations as a ZIP archive of single PDFs."""
    return _bulk(request, pdf.write_pdf_zip, "zip", ZIP)


@require_GET
def bulk_xlsx_view(request: HttpRequest) -> HttpResponse:
    """Download a year's evaluations as one workbook: one sheet per form and a flat sheet."""
    return _bulk(request, excel.write_workbook, "xlsx", XLSX)
