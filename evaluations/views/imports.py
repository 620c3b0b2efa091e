"""Views of the browser import: upload, preview (dry run) and confirmation."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from common.imports import IMPORT_ACTION_LABELS
from departments.models import Department
from evaluations import permissions
from evaluations.forms.entry import (
    ImportUploadForm,
)
from evaluations.importer.service import FileReport, import_file, over_request_limit
from evaluations.importer.uploads import ClaimState, upload_claim, upload_discard, upload_store
from evaluations.views.evaluations import own_department

# --- import -------------------------------------------------------------------------------

ACTION_LABELS = {
    **IMPORT_ACTION_LABELS,
    "skipped": gettext_lazy("跳过"),
    "failed": gettext_lazy("失败"),
}


def _report_context(reports: list[FileReport]) -> dict[str, Any]:
    counts = {key.replace("-", "_"): 0 for key in ACTION_LABELS}
    for report in reports:
        for form in report.forms:
            key = form.action.replace("-", "_")
            counts[key] = counts.get(key, 0) + 1
            form.action_label = ACTION_LABELS.get(form.action, form.action)  # type: ignore[attr-defined]
    return {
        "reports": reports,
        "counts": counts,
        "problem_count": sum(len(r.problems) for r in reports),
        "failed_files": sum(1 for r in reports if r.failed),
    }


def _import_files(
    files: list[tuple[str, bytes]],
    *,
    dry_run: bool,
    user: Any,
    department: Department | None,
) -> list[FileReport]:
    """Import (or preview) the files of one request: IMPORT_MAX_FORMS_PER_REQUEST in all.

    Files are taken in order; one whose forms would go over the limit is not imported,
    and once the limit is reached the rest are not even read. Preview and confirmation
    run the same files in the same order, so they agree.
    """
    reports = []
    left = settings.IMPORT_MAX_FORMS_PER_REQUEST
    for name, data in files:
        if left <= 0:
            reports.append(FileReport(path=name, failed=True, problems=[over_request_limit()]))
            continue
        report = import_file(
            data=data,
            name=name,
            dry_run=dry_run,
            user=user,
            department=department,
            forms_left=left,
        )
        left -= len(report.forms)
        reports.append(report)
    return reports


@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    """Upload files and preview what importing them would do (nothing is written yet)."""
    department = own_department(request, permissions.IMPORT)
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES)
    else:
        form = ImportUploadForm()
    if form.is_bound and form.is_valid():
        files = [(Path(f.name or "").name, f.read()) for f in form.cleaned_data["files"]]
        # The form refused files larger than the quota; older previews make room.
        stored = upload_store(owner=request.user, files=files)
        reports = _import_files(files, dry_run=True, user=request.user, department=department)
        context = _report_context(reports)
        context.update({"batch": stored.batch, "dropped": stored.dropped, "department": department})
        context["importable"] = (
            context["counts"]["would_create"] + context["counts"]["would_update"]
        )
        return render(request, "evaluations/import_preview.html", context)
    return render(
        request,
        "evaluations/import.html",
        {
            "form": form,
            "department": department,
            "max_size": settings.IMPORT_MAX_FILE_SIZE,
            "max_files": settings.IMPORT_MAX_FILES,
            "max_forms_per_file": settings.IMPORT_MAX_FORMS_PER_FILE,
            "max_forms": settings.IMPORT_MAX_FORMS_PER_REQUEST,
            "lifetime_hours": settings.IMPORT_PREVIEW_LIFETIME / 3600,
            "quota": settings.IMPORT_PREVIEW_QUOTA,
        },
    )


@require_POST
def import_confirm(request: HttpRequest) -> HttpResponse:
    """Import the files of a preview for real, once however often it is confirmed."""
    department = own_department(request, permissions.IMPORT)
    try:
        batch = uuid.UUID(request.POST.get("batch", ""))
    except ValueError:
        batch = None
    claim = upload_claim(owner=request.user, batch=batch) if batch else None
    if claim is not None and claim.state is ClaimState.CONFIRMED:
        # A second click, or another tab: the first confirmation imports the files.
        messages.info(request, _("此导入已确认过，导入的自评表见下表。"))
        return redirect("evaluations:list")
    if claim is None or claim.state is not ClaimState.CLAIMED:
        messages.error(request, _("导入预览已过期或不存在，请重新上传文件。"))
        return redirect("evaluations:import")
    try:
        reports = _import_files(
            claim.files, dry_run=False, user=request.user, department=department
        )
    finally:
        upload_discard(owner=request.user, batch=batch)
    context = _report_context(reports)
    context["department"] = department
    created, updated = context["counts"]["created"], context["counts"]["updated"]
    if created or updated:
        messages.success(
            request,
            _("导入完成：新建 %(created)s 张，更新 %(updated)s 张。")
            % {"created": created, "updated": updated},
        )
    else:
        messages.warning(request, _("没有导入或更新任何自评表。"))
    return render(request, "evaluations/import_done.html", context)
