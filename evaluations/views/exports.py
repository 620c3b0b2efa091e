"""Downloads: one evaluation as PDF or Excel; the old bulk URLs lead to the export jobs."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from common.http import PDF_CONTENT_TYPE, XLSX_CONTENT_TYPE, content_disposition
from evaluations import permissions, selectors
from evaluations.forms.workflow import BulkExportForm
from evaluations.selectors import visible_evaluations
from exports import excel, pdf
from exports.pdfcache import download_pdf, pdf_ready


def _attachment(response: HttpResponse, filename: str, fallback: str) -> HttpResponse:
    response["Content-Disposition"] = content_disposition(filename, fallback)
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def evaluation_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Download one evaluation as PDF, or a page that waits while the task worker prints it."""
    evaluation = selectors.evaluation_get(user=request.user, pk=pk)
    permissions.require_or_404(permissions.EXPORT, request.user, evaluation)
    # From the PDF cache (exports/pdfcache.py): rendered now only when the form's printed
    # state has no stored PDF yet and prints quickly; an approved form was rendered in the
    # background, a long one is rendered there now.
    data = download_pdf(evaluation)
    if data is None:
        waiting = render(
            request, "evaluations/pdf_waiting.html", {"evaluation": evaluation}, status=202
        )
        waiting["Cache-Control"] = "private, no-store"  # the same URL answers the PDF later
        return waiting
    response = HttpResponse(data, content_type=PDF_CONTENT_TYPE)
    return _attachment(
        response, pdf.export_filename(evaluation, "pdf"), f"evaluation-{evaluation.pk}.pdf"
    )


@require_GET
def evaluation_pdf_status(request: HttpRequest, pk: int) -> JsonResponse:
    """Whether the form's PDF is ready, polled by the waiting page (static/js/pdf_waiting.js)."""
    evaluation = selectors.evaluation_get(user=request.user, pk=pk)
    permissions.require_or_404(permissions.EXPORT, request.user, evaluation)
    response = JsonResponse(pdf_ready(evaluation))
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def evaluation_xlsx_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Download one evaluation as an Excel workbook in the official layout."""
    evaluation = selectors.evaluation_get(user=request.user, pk=pk)
    permissions.require_or_404(permissions.EXPORT, request.user, evaluation)
    response = HttpResponse(excel.evaluations_xlsx([evaluation]), content_type=XLSX_CONTENT_TYPE)
    return _attachment(
        response, pdf.export_filename(evaluation, "xlsx"), f"evaluation-{evaluation.pk}.xlsx"
    )


def _bulk_redirect(request: HttpRequest, format: str) -> HttpResponse:
    """The old download URLs: send the browser to the pre-filled export form (/exports/).

    Bulk files are made by background jobs now (exports/); a GET never starts one. The
    query is checked as before: 400 for a malformed one, 404 when the user may not export,
    does not see the department, or nothing matches.
    """
    permissions.require_or_404(permissions.EXPORT, request.user)
    form = BulkExportForm(request.GET)
    if not form.is_valid():
        # Answered by config.views.bad_request: the Chinese 400 page with this message.
        raise BadRequest(form.first_error())
    year = form.cleaned_data["year"]
    evaluations = visible_evaluations(request.user).filter(year=year)
    query = {"year": year}
    department_id = form.cleaned_data["department"]
    if department_id is not None:
        found = get_object_or_404(selectors.departments_for(user=request.user), pk=department_id)
        evaluations = evaluations.filter(department=found)
        query["department"] = found.pk
    status = form.cleaned_data["status"]
    if status:
        evaluations = evaluations.filter(status=status)
        query["status"] = status
    if not evaluations.exists():
        raise Http404(_("没有符合条件的自评表。"))
    query["format"] = format
    return redirect(f"{reverse('exports:list')}?{urlencode(query)}")


@require_GET
def bulk_pdf_view(request: HttpRequest) -> HttpResponse:
    """A year's evaluations as one PDF: now an export job (redirect to its form)."""
    return _bulk_redirect(request, "pdf")


@require_GET
def bulk_zip_view(request: HttpRequest) -> HttpResponse:
    """A year's evaluations as a ZIP of single PDFs: now an export job."""
    return _bulk_redirect(request, "zip")


@require_GET
def bulk_xlsx_view(request: HttpRequest) -> HttpResponse:
    """A year's evaluations as one workbook: now an export job."""
    return _bulk_redirect(request, "xlsx")
