"""The campaign pages (/campaigns/): finance manages the year's campaign and its due list.

Every page but the notice file is finance-only and answers 404 to everyone else, the
administrator included, as /review/ does (``evaluations.permissions.MANAGE_CAMPAIGNS``).
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from campaigns import reminders, selectors, services
from campaigns.deadlines import today
from campaigns.due_list import DueListReport, due_list_workbook, import_due_list
from campaigns.forms import (
    CampaignForm,
    DueListUploadForm,
    ExtensionForm,
    ProjectFilterForm,
    RemindForm,
)
from campaigns.models import Campaign
from common.http import XLSX_CONTENT_TYPE, parse_id
from common.imports import IMPORT_ACTION_LABELS
from departments.access import visible_departments
from departments.staffing import understaffed
from evaluations import permissions
from evaluations.importer.uploads import (
    ClaimState,
    PreviewTooLarge,
    upload_claim,
    upload_discard,
    upload_store,
)

PAGE_SIZE = 50
# Stored previews share the form importer's table; their names say which import they are.
UPLOAD_PREFIX = "due-list/"

ACTION_LABELS = {
    **IMPORT_ACTION_LABELS,
    "would-remove": gettext_lazy("将移出清单"),
    "removed": gettext_lazy("已移出清单"),
    "kept": gettext_lazy("保留（已有自评表）"),
    "failed": gettext_lazy("未导入"),
}

logger = logging.getLogger(__name__)


def _campaign(request: HttpRequest, year: int) -> Campaign:
    """The campaign of ``year`` for finance; 404 for everyone else."""
    permissions.require_or_404(permissions.MANAGE_CAMPAIGNS, request.user)
    return get_object_or_404(Campaign, year=year)


@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    permissions.require_or_404(permissions.MANAGE_CAMPAIGNS, request.user)
    campaigns = Campaign.objects.annotate(project_count=Count("projects")).order_by("-year")
    return render(request, "campaigns/list.html", {"campaigns": campaigns})


def _form_context(form: CampaignForm, campaign: Campaign | None) -> dict[str, Any]:
    return {
        "form": form,
        "campaign": campaign,
        "notice_max": settings.CAMPAIGN_NOTICE_MAX_BYTES,
    }


@require_http_methods(["GET", "POST"])
def campaign_new(request: HttpRequest) -> HttpResponse:
    permissions.require_or_404(permissions.MANAGE_CAMPAIGNS, request.user)
    form = CampaignForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        campaign = form.save(commit=False)
        campaign.created_by = request.user
        campaign.save()
        messages.success(request, _("已创建自评任务“%(title)s”。") % {"title": campaign.title})
        return redirect("campaigns:detail", year=campaign.year)
    return render(request, "campaigns/form.html", _form_context(form, None))


@require_http_methods(["GET", "POST"])
def campaign_edit(request: HttpRequest, year: int) -> HttpResponse:
    campaign = _campaign(request, year)
    form = CampaignForm(request.POST or None, request.FILES or None, instance=campaign)
    if request.method == "POST" and form.is_valid():
        campaign = services.campaign_update(form=form)
        messages.success(request, _("已保存自评任务。"))
        return redirect("campaigns:detail", year=campaign.year)
    return render(request, "campaigns/form.html", _form_context(form, campaign))


def _detail_context(request: HttpRequest, campaign: Campaign) -> dict[str, Any]:
    departments = visible_departments(request.user).filter(due_projects__campaign=campaign)
    filters = ProjectFilterForm(request.GET, departments=departments.distinct()).filters()
    projects = selectors.campaign_projects(
        campaign=campaign, department_id=filters["department"], search=filters["q"]
    )
    page = Paginator(projects, PAGE_SIZE).get_page(filters["page"])
    deadlines = selectors.current_deadlines(campaign=campaign)
    for project in page:
        project.deadline = deadlines.get(project.department_id, campaign.deadline)  # type: ignore[attr-defined]
    return {
        "campaign": campaign,
        "page": page,
        "filters": filters,
        "departments": selectors.campaign_departments(campaign=campaign),
        "project_total": campaign.projects.count(),
        "extensions": selectors.campaign_extensions(campaign=campaign),
        "upload_form": DueListUploadForm(),
        "extension_form": ExtensionForm(
            campaign=campaign, departments=visible_departments(request.user)
        ),
        "carry_over_count": services.due_list_previous_year_count(campaign=campaign),
        "overdue": reminders.overdue_departments(campaign, today()),
        # Departments on the list that nobody can fill in (or, with sign-off, sign off).
        "understaffed": understaffed(
            visible_departments(request.user).filter(due_projects__campaign=campaign).distinct(),
            needs_head=campaign.requires_sign_off,
        ),
    }


@require_GET
def campaign_detail(request: HttpRequest, year: int) -> HttpResponse:
    campaign = _campaign(request, year)
    return render(request, "campaigns/detail.html", _detail_context(request, campaign))


class OpenForm(forms.Form):
    is_open = forms.TypedChoiceField(choices=[("1", "1"), ("0", "0")], coerce=lambda v: v == "1")


@require_POST
def campaign_set_open(request: HttpRequest, year: int) -> HttpResponse:
    """Close or reopen the campaign."""
    campaign = _campaign(request, year)
    form = OpenForm(request.POST)
    if not form.is_valid():
        return HttpResponse(_("请求无效。"), status=400)
    is_open = form.cleaned_data["is_open"]
    if services.campaign_set_open(campaign=campaign, is_open=is_open):
        messages.success(request, _("自评任务已重新开启。") if is_open else _("自评任务已关闭。"))
    return redirect("campaigns:detail", year=campaign.year)


@require_GET
def notice_file(request: HttpRequest, year: int) -> FileResponse:
    """The notice PDF, as a download, to anyone with a role (and the administrator)."""
    permissions.require_or_404(permissions.READ_CAMPAIGN_NOTICE, request.user)
    campaign = get_object_or_404(Campaign, year=year)
    if not campaign.notice_file:
        raise Http404
    try:
        handle = campaign.notice_file.open("rb")
    except FileNotFoundError as error:
        logger.error(
            "campaign %s: notice file %s is missing", campaign.year, campaign.notice_file.name
        )
        raise Http404(
            _("%(year)s年自评任务通知的PDF文件在服务器上找不到，请联系管理员从备份恢复。")
            % {"year": campaign.year}
        ) from error
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=_("%(year)s年自评任务通知.pdf") % {"year": campaign.year},
        content_type="application/pdf",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
def due_list_template(request: HttpRequest) -> HttpResponse:
    """The empty due list workbook to fill in."""
    permissions.require_or_404(permissions.MANAGE_CAMPAIGNS, request.user)
    response = HttpResponse(due_list_workbook(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = "attachment; filename*=UTF-8''due_list_template.xlsx"
    return response


def _report_context(report: DueListReport) -> dict[str, Any]:
    for row in report.rows:
        row.action_label = ACTION_LABELS.get(row.action, row.action)  # type: ignore[attr-defined]
    actions = [key.replace("-", "_") for key in ACTION_LABELS]
    counts = dict.fromkeys(actions, 0)
    for row in report.rows:
        counts[row.action.replace("-", "_")] = counts.get(row.action.replace("-", "_"), 0) + 1
    return {"report": report, "counts": counts, "blocking": len(report.blocking)}


@require_http_methods(["GET", "POST"])
def due_list_import(request: HttpRequest, year: int) -> HttpResponse:
    """Upload a due list and preview (dry run) what importing it would do."""
    campaign = _campaign(request, year)
    form = DueListUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        name = Path(upload.name or "").name
        data = upload.read()
        try:
            stored = upload_store(owner=request.user, files=[(UPLOAD_PREFIX + name, data)])
        except PreviewTooLarge:
            form.add_error("file", _("文件太大，无法暂存预览。"))
        else:
            report = import_due_list(campaign=campaign, data=data, name=name, dry_run=True)
            context = _report_context(report)
            context.update({"campaign": campaign, "batch": stored.batch, "dry_run": True})
            return render(request, "campaigns/import_preview.html", context)
    return render(request, "campaigns/import.html", {"campaign": campaign, "form": form})


class ConfirmForm(forms.Form):
    batch = forms.UUIDField()


@require_POST
def due_list_confirm(request: HttpRequest, year: int) -> HttpResponse:
    """Import the previewed file for real, once however often it is confirmed."""
    campaign = _campaign(request, year)
    form = ConfirmForm(request.POST)
    batch: uuid.UUID | None = form.cleaned_data["batch"] if form.is_valid() else None
    claim = upload_claim(owner=request.user, batch=batch) if batch else None
    if claim is not None and claim.state is ClaimState.CONFIRMED:
        messages.info(request, _("此导入已确认过。"))
        return redirect("campaigns:detail", year=campaign.year)
    if (
        claim is None
        or claim.state is not ClaimState.CLAIMED
        or len(claim.files) != 1
        or not claim.files[0][0].startswith(UPLOAD_PREFIX)
    ):
        messages.error(request, _("导入预览已过期或不存在，请重新上传文件。"))
        return redirect("campaigns:detail", year=campaign.year)
    name, data = claim.files[0]
    try:
        report = import_due_list(
            campaign=campaign, data=data, name=name.removeprefix(UPLOAD_PREFIX), user=request.user
        )
    finally:
        assert batch is not None
        upload_discard(owner=request.user, batch=batch)
    if report.failed:
        messages.error(request, _("导入失败，未写入任何数据：请按下列问题修改文件后重新上传。"))
    else:
        messages.success(
            request,
            _("应评项目清单已导入：新建 %(created)s 个，更新 %(updated)s 个，移出 %(removed)s 个。")
            % {
                "created": report.count("created"),
                "updated": report.count("updated"),
                "removed": report.count("removed"),
            },
        )
    context = _report_context(report)
    context.update({"campaign": campaign, "dry_run": False})
    return render(request, "campaigns/import_preview.html", context)


@require_http_methods(["GET", "POST"])
def due_list_carry_over(request: HttpRequest, year: int) -> HttpResponse:
    """沿用上年项目: confirm (GET), then create the due list from last year's approved forms."""
    campaign = _campaign(request, year)
    if request.method == "POST":
        created = services.due_list_from_previous_year(campaign=campaign)
        if created:
            messages.success(
                request, _("已从上年已通过的自评表新建 %(count)s 个应评项目。") % {"count": created}
            )
        else:
            messages.info(request, _("没有可沿用的上年项目：清单中已有全部上年已通过的项目。"))
        return redirect("campaigns:detail", year=campaign.year)
    candidates = services.due_list_previous_year_candidates(campaign=campaign)
    return render(
        request, "campaigns/carry_over.html", {"campaign": campaign, "candidates": candidates}
    )


@require_http_methods(["GET", "POST"])
def deadline_extend(request: HttpRequest, year: int) -> HttpResponse:
    """Extend the deadline of one department (a new row of its history)."""
    campaign = _campaign(request, year)
    departments = visible_departments(request.user)
    form = ExtensionForm(request.POST or None, campaign=campaign, departments=departments)
    if request.method == "POST" and form.is_valid():
        extension = services.deadline_extend(
            campaign=campaign,
            department=form.cleaned_data["department"],
            deadline=form.cleaned_data["deadline"],
            reason=form.cleaned_data["reason"],
            user=request.user,
        )
        messages.success(
            request,
            _("已将“%(department)s”的截止日期延长至 %(deadline)s。")
            % {"department": extension.department.name, "deadline": extension.deadline.isoformat()},
        )
        return redirect("campaigns:detail", year=campaign.year)
    initial = parse_id(request.GET.get("department"))
    if request.method == "GET" and initial is not None:
        form.initial["department"] = initial
    return render(request, "campaigns/extend.html", {"campaign": campaign, "form": form})


@require_POST
def department_remind(request: HttpRequest, year: int) -> HttpResponse:
    """发送催报提醒: remind one overdue department now, at most once a day."""
    campaign = _campaign(request, year)
    form = RemindForm(request.POST, departments=visible_departments(request.user))
    if not form.is_valid():
        messages.error(request, _("请选择要催报的部门。"))
        return redirect("campaigns:detail", year=campaign.year)
    department = form.cleaned_data["department"]
    try:
        report = reminders.department_remind(campaign=campaign, department=department, day=today())
    except reminders.ReminderRefused as refused:
        messages.error(request, str(refused))
        return redirect("campaigns:detail", year=campaign.year)
    messages.success(
        request,
        _("已向“%(name)s”的 %(users)s 个账号发送催报提醒（邮件 %(mails)s 封）。")
        % {
            "name": department.name,
            "users": len(report.sent) + len(report.failed),
            "mails": report.mails,
        },
    )
    return redirect("campaigns:detail", year=campaign.year)
