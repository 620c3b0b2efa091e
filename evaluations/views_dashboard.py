"""Finance overview: per-department progress, scores and execution rates of one year."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from departments.access import is_finance
from evaluations import charts
from evaluations.dashboard import Overview, dashboard_overview, overview_xlsx
from evaluations.views_export import XLSX, content_disposition


def _overview(request: HttpRequest) -> Overview:
    """The overview for ?year= (default: the latest year with data); 404 on a malformed year."""
    raw = request.GET.get("year", "").strip()
    year: int | None = None
    if raw:
        try:
            year = int(raw)
        except ValueError as exc:
            raise Http404 from exc
    return dashboard_overview(request.user, year)


@require_GET
def dashboard_index(request: HttpRequest) -> HttpResponse:
    """The overview page with its table and server-rendered charts."""
    overview = _overview(request)
    context = {
        "overview": overview,
        "is_finance": is_finance(request.user),
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
    overview = _overview(request)
    response = HttpResponse(overview_xlsx(overview), content_type=XLSX)
    year = overview.year or "none"
    response["Content-Disposition"] = content_disposition(
        f"{year}年度自评汇总.xlsx", f"overview-{year}.xlsx"
    )
    response["Cache-Control"] = "private, no-store"
    return response
