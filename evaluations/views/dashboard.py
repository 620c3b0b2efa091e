"""Finance overview: per-department progress, scores and execution rates of one year."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from evaluations import charts, permissions
from evaluations.dashboard import dashboard_overview, overview_xlsx
from evaluations.forms.workflow import DashboardFilterForm
from evaluations.views.exports import XLSX, content_disposition


def _year_form(request: HttpRequest) -> DashboardFilterForm:
    """?year= (blank: the latest year with data), validated."""
    form = DashboardFilterForm(request.GET)
    form.is_valid()
    return form


def _bad_year(request: HttpRequest, form: DashboardFilterForm) -> HttpResponse:
    # Rendered here rather than raised (BadRequest): a typo in a URL is not worth a traceback
    # in the log.
    return render(request, "400.html", {"message": form.errors["year"][0]}, status=400)


@require_GET
def dashboard_index(request: HttpRequest) -> HttpResponse:
    """The overview page with its table and server-rendered charts."""
    permissions.require_or_404(permissions.SEE_DASHBOARD, request.user)
    form = _year_form(request)
    if form.errors:
        return _bad_year(request, form)
    overview = dashboard_overview(request.user, form.cleaned_data["year"])
    context = {
        "overview": overview,
        "all_departments": permissions.allowed(permissions.SEE_ALL_DEPARTMENTS, request.user),
        "histogram_svg": charts.histogram_svg(overview.histogram) if overview.year else "",
        "execution_svg": charts.execution_bars_svg(overview.rows) if overview.rows else "",
        "progress_svg": (
            charts.progress_svg(overview.progress, overview.progress_unit)
            if overview.progress
            else ""
        ),
    }
    return render(request, "dashboard/index.html", context)


@require_GET
def dashboard_export(request: HttpRequest) -> HttpResponse:
    """The department table as an Excel workbook."""
    permissions.require_or_404(permissions.SEE_DASHBOARD, request.user)
    form = _year_form(request)
    if form.errors:
        return _bad_year(request, form)
    overview = dashboard_overview(request.user, form.cleaned_data["year"])
    response = HttpResponse(overview_xlsx(overview), content_type=XLSX)
    year = overview.year or "none"
    response["Content-Disposition"] = content_disposition(
        f"{year}年度自评汇总.xlsx", f"overview-{year}.xlsx"
    )
    response["Cache-Control"] = "private, no-store"
    return response
