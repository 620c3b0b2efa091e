"""The user's exports: start one, watch its progress, cancel, retry, download.

A job is visible to the user who started it only: every lookup goes through ``_own_job``,
so another user (of another department, finance, the administrator) gets 404 as for a job
that does not exist. Rendering happens in the background (exports/jobs.py, exports/tasks.py);
these views only record the request and read the job's rows.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.http import content_disposition, parse_id, parse_year
from evaluations import permissions, selectors
from exports import jobs, workers
from exports.forms import ExportForm
from exports.kinds import kind_of
from exports.models import ExportJob, State, filter_label

logger = logging.getLogger(__name__)

PAGE_SIZE = 20


def _own_job(request: HttpRequest, pk: int) -> ExportJob:
    """The user's own job, or 404 (whoever else asks, whatever their role)."""
    permissions.require_or_404(permissions.EXPORT, request.user)
    return get_object_or_404(
        ExportJob.objects.select_related("department"), pk=pk, user=request.user
    )


def _downloadable(job: ExportJob) -> bool:
    return (
        job.state == State.DONE
        and bool(job.file)
        and (job.expires_at is None or job.expires_at > timezone.now())
    )


def _mark_seen(job: ExportJob) -> None:
    """The user has seen the finished job: the menu stops announcing it."""
    if job.seen_at is None and not job.active:
        job.seen_at = timezone.now()
        ExportJob.objects.filter(pk=job.pk, seen_at__isnull=True).update(seen_at=job.seen_at)


def progress_text(job: ExportJob) -> str:
    """The count the page shows: forms rendered of the total, then forms put in the file.

    An Excel job renders nothing beforehand: its count is the forms written to the workbook.
    """
    text = _("已生成 %(done)s / 共 %(total)s 张") % {"done": job.done, "total": job.total}
    assembled = kind_of(job.format).assembled
    if assembled is not None and (job.assembling or job.assembled):
        text += str(assembled) % {"count": job.assembled}
    return text


def _status_label(job: ExportJob) -> str:
    """The state filter of the job, as the user chose it ("" for every state)."""
    return filter_label(job.status_filter)


def _scope_label(job: ExportJob, all_departments: bool) -> str:
    """The department the job covers: its name, or every department the user sees."""
    if job.department_name:
        return job.department_name
    return _("全部部门") if all_departments else _("本部门")


def _expires_text(job: ExportJob) -> str:
    if not job.expires_at:
        return ""
    return timezone.localtime(job.expires_at).strftime("%Y-%m-%d %H:%M")


def _initial(request: HttpRequest) -> dict[str, Any]:
    """The form's values from the query string (links point at the pre-filled form)."""
    if not any(name in request.GET for name in ("year", "department", "status", "format")):
        return {}
    query = ExportForm(request.GET, user=request.user)
    query.is_valid()
    initial: dict[str, Any] = {}
    for name in ("year", "department", "status", "format"):
        if name not in query.errors and query.cleaned_data.get(name) not in (None, ""):
            value = query.cleaned_data[name]
            initial[name] = value.pk if name == "department" else value
    return initial


def _list_page(request: HttpRequest, form: ExportForm, *, error: str = "") -> HttpResponse:
    all_departments = permissions.allowed(permissions.SEE_ALL_DEPARTMENTS, request.user)
    years = selectors.evaluation_years(user=request.user)
    chosen = form["year"].value()
    # A year with nothing to export stays chosen after the refusal (the message names it).
    chosen_year = parse_year(chosen)
    if chosen_year is not None and chosen_year not in years:
        years = sorted([*years, chosen_year], reverse=True)
    if chosen_year is None and not form.is_bound and years:
        chosen_year = years[0]  # the latest year with forms
    page = Paginator(ExportJob.objects.filter(user=request.user), PAGE_SIZE).get_page(
        parse_id(request.GET.get("page")) or 1
    )
    return render(
        request,
        "exports/list.html",
        {
            "form": form,
            "error": error,
            "years": years,
            "chosen_year": str(chosen_year) if chosen_year is not None else "",
            "chosen_department": str(form["department"].value() or ""),
            "departments": form.departments,
            "all_departments": all_departments,
            "keep_days": settings.EXPORT_KEEP_DAYS,
            "max_active": settings.EXPORT_MAX_ACTIVE_PER_USER,
            "max_bytes": filesizeformat(settings.EXPORT_MAX_BYTES_PER_USER),
            "worker_warning": workers.worker_warning(),
            "page": page,
            "rows": [
                {
                    "job": job,
                    "progress": progress_text(job),
                    "downloadable": _downloadable(job),
                    "status_label": _status_label(job),
                    "scope": _scope_label(job, all_departments),
                }
                for job in page.object_list
            ],
        },
    )


@require_http_methods(["GET", "POST"])
def export_list(request: HttpRequest) -> HttpResponse:
    """GET: the user's recent exports and the form; POST: start an export (PRG)."""
    permissions.require_or_404(permissions.EXPORT, request.user)
    if request.method == "GET":
        return _list_page(request, ExportForm(initial=_initial(request), user=request.user))
    form = ExportForm(request.POST, user=request.user)
    if not form.is_valid():
        return _list_page(request, form, error=form.first_error())
    data = form.cleaned_data
    department = data["department"]
    if department is None and not permissions.allowed(
        permissions.SEE_ALL_DEPARTMENTS, request.user
    ):
        # Staff and heads export their own department: the file is named after it.
        own = list(form.departments[:2])
        department = own[0] if len(own) == 1 else None
    try:
        job = jobs.export_create(
            user=request.user,
            year=data["year"],
            format=data["format"],
            department=department,
            status=data["status"] or "",
        )
    except jobs.ExportError as error:
        return _list_page(request, form, error=str(error))
    if not job.reused:
        messages.success(
            request,
            _("已开始导出（共 %(total)s 张自评表），完成后可在此下载。") % {"total": job.total},
        )
    elif job.active:
        messages.info(request, _("相同的导出正在进行，未重复开始；完成后可在此下载。"))
    else:
        messages.info(request, _("相同的导出刚刚完成，所选自评表此后没有变化，可直接下载。"))
    return redirect("exports:detail", pk=job.pk)


@require_GET
def export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The job's state and progress (updated in place by static/js/exports.js)."""
    job = _own_job(request, pk)
    _mark_seen(job)
    missing = jobs.file_missing(job)
    return render(
        request,
        "exports/detail.html",
        {
            "job": job,
            "message": jobs.file_missing_message(job) if missing else job.message,
            "file_missing": missing,
            "status_label": _status_label(job),
            "scope": _scope_label(
                job, permissions.allowed(permissions.SEE_ALL_DEPARTMENTS, request.user)
            ),
            "expires": _expires_text(job),
            "progress": progress_text(job),
            "downloadable": _downloadable(job) and not missing,
            "stalled": jobs.queued_too_long(job) and not jobs.waiting_for_queue(job),
            "waiting_for_queue": jobs.waiting_for_queue(job),
            "worker_warning": workers.worker_warning() if job.active else "",
            "retryable": job.state in (State.FAILED, State.CANCELLED) or missing,
        },
    )


def status_data(job: ExportJob) -> dict[str, Any]:
    """What the progress poll reads (also the detail page's starting point)."""
    missing = jobs.file_missing(job)
    downloadable = _downloadable(job) and not missing
    return {
        "state": job.state,
        "state_label": job.get_state_display(),
        "done": job.done,
        "total": job.total,
        "assembled": job.assembled,
        "percent": job.percent,
        "progress_text": progress_text(job),
        "message": jobs.file_missing_message(job) if missing else job.message,
        "download_url": reverse("exports:download", args=[job.pk]) if downloadable else "",
        "finished": not job.active,
        "expires_at": _expires_text(job) if downloadable else "",
        "finished_at": (
            timezone.localtime(job.finished_at).strftime("%Y-%m-%d %H:%M:%S")
            if job.finished_at
            else ""
        ),
        "retryable": job.state in (State.FAILED, State.CANCELLED) or missing,
        "stalled": jobs.queued_too_long(job) and not jobs.waiting_for_queue(job),
        "waiting_for_queue": jobs.waiting_for_queue(job),
        "worker_warning": workers.worker_warning() if job.active else "",
    }


@require_GET
def export_status(request: HttpRequest, pk: int) -> JsonResponse:
    """The job's progress as JSON, polled by the detail page about once a second."""
    job = _own_job(request, pk)
    # A poll is also the moment to restart what a killed worker left behind.
    jobs.recover_stale(job=job)
    job.refresh_from_db()
    # The user watched it finish: the menu need not announce it.
    _mark_seen(job)
    return JsonResponse(status_data(job))


@require_POST
def export_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = _own_job(request, pk)
    if jobs.export_cancel(job=job):
        messages.success(request, _("导出已取消。"))
    else:
        messages.info(request, _("导出已经结束，无需取消。"))
    return redirect("exports:detail", pk=job.pk)


@require_POST
def export_retry(request: HttpRequest, pk: int) -> HttpResponse:
    job = _own_job(request, pk)
    try:
        jobs.export_retry(job=job)
    except jobs.ExportError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("已重新开始导出。"))
    return redirect("exports:detail", pk=job.pk)


@require_GET
def export_download(request: HttpRequest, pk: int) -> FileResponse:
    """The finished file from storage, to its owner only, until it expires."""
    job = _own_job(request, pk)
    if jobs.file_missing(job):
        logger.error("export %s: stored file %s is missing", job.pk, job.file)
        raise Http404(jobs.file_missing_message(job))
    if not _downloadable(job):
        raise Http404(_("文件不存在或已过期。"))
    _mark_seen(job)
    kind = kind_of(job.format)
    extension = kind.extension
    response = FileResponse(jobs.export_file_open(job), content_type=kind.content_type)
    response["Content-Disposition"] = content_disposition(
        job.filename or f"evaluations-{job.year}.{extension}",
        f"evaluations-{job.year}.{extension}",
    )
    response["Cache-Control"] = "private, no-store"
    return response
