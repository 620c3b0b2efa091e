"""Finance overview: per-department progress, scores and execution rates of one year."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from common.http import XLSX_CONTENT_TYPE, content_disposition
from evaluations import charts, permissions
from evaluations.dashboard import (
    FILTER_CHOICES,
    SORT_KEYS,
    DepartmentRow,
    Overview,
    dashboard_overview,
    dashboard_overview_year,
    filter_rows,
    lowest_execution,
    overview_xlsx,
    totals_row,
)
from evaluations.forms.workflow import DashboardFilterForm
from exports import results
from exports.forms import ExportForm

PAGE_SIZE = 50
# The execution-rate chart shows this many departments, the lowest rates first.
CHART_DEPARTMENTS = 10


class DashboardTableForm(forms.Form):
    """The table's ?show=, ?q=, ?sort=, ?dir=: a bad value falls back to the default."""

    show = forms.ChoiceField(required=False, choices=FILTER_CHOICES)
    q = forms.CharField(required=False, max_length=100, strip=True)
    sort = forms.ChoiceField(required=False, choices=[(key, key) for key in SORT_KEYS])
    dir = forms.ChoiceField(required=False, choices=[("asc", "asc"), ("desc", "desc")])

    def values(self) -> dict[str, str]:
        self.is_valid()
        return {
            name: "" if name in self.errors else (self.cleaned_data.get(name) or "")
            for name in self.fields
        }


def _year_form(request: HttpRequest) -> DashboardFilterForm:
    """?year= (blank: the latest year with data), validated."""
    form = DashboardFilterForm(request.GET)
    form.is_valid()
    return form


def _bad_year(request: HttpRequest, form: DashboardFilterForm) -> HttpResponse:
    # Rendered here rather than raised (BadRequest): a typo in a URL is not worth a traceback
    # in the log.
    return render(request, "400.html", {"message": form.errors["year"][0]}, status=400)


def _table(overview: Overview, table: dict[str, str]) -> list[DepartmentRow]:
    return filter_rows(
        overview.rows,
        show=table["show"],
        query=table["q"],
        sort=table["sort"] or "name",
        descending=table["dir"] == "desc",
    )


# (sort key, label, css class of the cells) of the table's columns, in order.
CAMPAIGN_COLUMNS = [
    ("name", _("主管部门"), ""),
    ("deadline", _("截止日期"), ""),
    ("due", _("应评"), "text-end"),
    ("not_started", _("未开始"), "text-end"),
    ("draft", _("草稿"), "text-end"),
    ("department_review", _("部门审核"), "text-end"),
    ("submitted", _("已提交"), "text-end"),
    ("returned", _("已退回"), "text-end"),
    ("approved", _("已通过"), "text-end"),
    ("overdue", _("逾期"), "text-end"),
]
PLAIN_COLUMNS = [
    ("name", _("主管部门"), ""),
    ("draft", _("草稿"), "text-end"),
    ("submitted", _("已提交"), "text-end"),
    ("returned", _("已退回"), "text-end"),
    ("approved", _("已通过"), "text-end"),
    ("forms", _("合计"), "text-end"),
]
FIGURE_COLUMNS = [
    ("average", _("平均总分（计算）"), "text-end"),
    ("rate", _("执行率"), "text-end"),
    ("errors", _("有错误的表"), "text-end"),
]


def _headers(overview: Overview, table: dict[str, str]) -> list[dict[str, Any]]:
    """Column headers with their sort links (a second click reverses the order)."""
    columns = (CAMPAIGN_COLUMNS if overview.campaign else PLAIN_COLUMNS) + FIGURE_COLUMNS
    current = table["sort"] or "name"
    headers = []
    for key, label, css in columns:
        active = key == current
        direction = "desc" if active and table["dir"] != "desc" else "asc"
        query = {"year": overview.year, "show": table["show"], "q": table["q"]}
        query |= {"sort": key, "dir": direction}
        headers.append(
            {
                "key": key,
                "label": label,
                "css": css,
                "active": active,
                "descending": active and table["dir"] == "desc",
                "href": "?" + urlencode({k: v for k, v in query.items() if v}),
            }
        )
    return headers


@require_GET
def dashboard_index(request: HttpRequest) -> HttpResponse:
    """The overview page with its table and server-rendered charts."""
    permissions.require_or_404(permissions.SEE_DASHBOARD, request.user)
    form = _year_form(request)
    if form.errors:
        return _bad_year(request, form)
    overview = dashboard_overview(request.user, form.cleaned_data["year"])
    table = DashboardTableForm(request.GET).values()
    rows = _table(overview, table)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    keep = {"year": overview.year, **table}
    # The chart names a few departments only: the table above lists them all, sortable.
    execution_rows = lowest_execution(rows, CHART_DEPARTMENTS)
    context = {
        "overview": overview,
        "table": table,
        "page": page,
        "headers": _headers(overview, table),
        "filtered_totals": totals_row(rows),
        "filtered": bool(table["show"] or table["q"]),
        "filter_choices": FILTER_CHOICES,
        "querystring": urlencode({k: v for k, v in keep.items() if v}),
        "all_departments": permissions.allowed(permissions.SEE_ALL_DEPARTMENTS, request.user),
        "may_publish": permissions.allowed(permissions.PUBLISH_RESULTS, request.user),
        "histogram_svg": charts.histogram_svg(overview.histogram) if overview.year else "",
        "execution_rows": execution_rows,
        "execution_svg": charts.execution_bars_svg(execution_rows) if execution_rows else "",
        # The year's forms export offers the export form's states, with its default.
        "export_states": ExportForm.base_fields["status"].choices,
        "export_default_state": ExportForm.base_fields["status"].initial,
        "progress_svg": (
            charts.progress_svg(overview.progress, overview.progress_unit)
            if overview.progress
            else ""
        ),
    }
    return render(request, "dashboard/index.html", context)


@require_GET
def dashboard_export(request: HttpRequest) -> HttpResponse:
    """The department table as an Excel workbook, filtered and sorted as on the page."""
    permissions.require_or_404(permissions.SEE_DASHBOARD, request.user)
    form = _year_form(request)
    if form.errors:
        return _bad_year(request, form)
    overview = dashboard_overview(request.user, form.cleaned_data["year"])
    rows = _table(overview, DashboardTableForm(request.GET).values())
    response = HttpResponse(overview_xlsx(overview, rows), content_type=XLSX_CONTENT_TYPE)
    year = overview.year or "none"
    response["Content-Disposition"] = content_disposition(
        f"{year}年度自评汇总.xlsx", f"overview-{year}.xlsx"
    )
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def dashboard_results(request: HttpRequest) -> HttpResponse:
    """The year's results for publication (决算公开) as an Excel workbook: finance only."""
    permissions.require_or_404(permissions.PUBLISH_RESULTS, request.user)
    form = _year_form(request)
    if form.errors:
        return _bad_year(request, form)
    year = form.cleaned_data["year"] or dashboard_overview_year(request.user)
    if year is None:
        raise Http404
    data = results.results_xlsx(results.result_rows(request.user, year), year)
    response = HttpResponse(data, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition(
        f"{year}年度绩效自评结果.xlsx", f"results-{year}.xlsx"
    )
    response["Cache-Control"] = "private, no-store"
    return response
