"""Views of the self-evaluations: list, entry form, detail, live scoring and browser import."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import DatabaseError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from campaigns.models import DueProject
from campaigns.selectors import open_campaign
from common.http import parse_id
from departments.models import Department
from departments.roles import membership_of
from evaluations import due_evaluations, permissions, rules, selectors, services
from evaluations.core.categories import level2_choices
from evaluations.core.evaluation_data import FormData, FundingData
from evaluations.core.formats import format_points
from evaluations.core.layout import Signature, finding_json, form_layout
from evaluations.core.scoring import ScoreResult, evaluate, format_percent
from evaluations.filters import EvaluationListFilter, list_queryset, with_badges
from evaluations.forms import workflow as forms_workflow
from evaluations.forms.entry import (
    EvaluationForms,
    blank_initial,
    evaluation_forms,
    initial_from,
    understood_note,
)
from evaluations.mapping import with_stored_approvals, with_trusted_keys
from evaluations.models import Evaluation
from evaluations.recheck_context import with_recheck_context
from evaluations.review_selectors import (
    evaluation_open_comments,
    unread_evaluation_ids,
    unread_notifications,
)
from evaluations.services import notifications_mark_read
from evaluations.signature import signature_of
from exports.kinds import KINDS
from rechecks.report import rules_broken_most
from rechecks.selectors import recheck_published

PAGE_SIZE = 50


# What the administrator reads on a page that writes forms: they read and reopen only.
ADMIN_READ_ONLY = gettext_lazy(
    "系统管理员只能查看自评表和重新开放已通过的表，不能新建、修改或导入。"
)
# What a department head reads there: they check and sign off, the filler writes.
HEAD_READ_ONLY = gettext_lazy(
    "部门审核人只能查看和审核本部门的自评表，不能新建、修改或导入；需要修改时请退回填报人。"
)


def read_only_message(user: Any) -> str:
    """Why a user who reads forms may not write them (the administrator, a department head)."""
    return str(HEAD_READ_ONLY if permissions.is_head(user) else ADMIN_READ_ONLY)


def own_department(request: HttpRequest, rule: str = permissions.CREATE) -> Department | None:
    """The department staff write for; None for finance (who choose). 403 unless ``rule`` holds."""
    user = request.user
    if not permissions.allowed(rule, user):
        if permissions.is_admin(user) or permissions.is_head(user):
            raise PermissionDenied(read_only_message(user))
        raise PermissionDenied(_("您的账号未分配部门，请联系管理员。"))
    if permissions.is_finance(user):
        return None
    membership = membership_of(user)
    if membership is None or membership.department is None:  # not reached while the rule holds
        raise PermissionDenied(_("您的账号未分配部门，请联系管理员。"))
    return membership.department


# --- list ---------------------------------------------------------------------------------


@require_GET
def evaluation_list(request: HttpRequest) -> HttpResponse:
    """The evaluations the user may see, filtered, sorted and paginated (evaluations/filters.py)."""
    all_departments = permissions.allowed(permissions.SEE_ALL_DEPARTMENTS, request.user)
    departments = (
        [(d.pk, d.label) for d in selectors.departments_for(user=request.user)]
        if all_departments
        else None
    )
    filterset = EvaluationListFilter(
        request.GET or None,
        queryset=list_queryset(request.user),
        years=selectors.evaluation_years(user=request.user),
        departments=departments,
    )
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = with_badges(page.object_list)
    statuses = filterset.statuses
    return render(
        request,
        "evaluations/list.html",
        {
            "filterset": filterset,
            "departments": departments,
            "page": page,
            "evaluations": page.object_list,
            "all_departments": all_departments,
            "headers": filterset.headers(),
            "querystring": filterset.query(),
            "filtered": filterset.filtered,
            # The bulk export takes one state at most (exports/forms.py).
            "export_year": filterset.value("year"),
            "export_department": filterset.value("department") if all_departments else "",
            "export_status": statuses[0] if len(statuses) == 1 else "",
            "several_states": len(statuses) > 1,
            "export_kinds": KINDS.values(),
            "unread": unread_evaluation_ids(user=request.user),
            "notifications": unread_notifications(user=request.user)[:10],
            # Signed in, but no department or role given yet (a new directory account).
            "without_role": membership_of(request.user) is None
            and not permissions.is_admin(request.user),
            **_due_context(request),
        },
    )


def _due_context(request: HttpRequest) -> dict[str, Any]:
    """The open campaign's notice and the department's 待填报 list (department members)."""
    if not permissions.in_a_department(request.user):
        return {}
    membership = membership_of(request.user)
    due_list = due_evaluations.due_list_for(user=request.user, campaign=open_campaign())
    return {
        "due_list": due_list,
        "own_department": membership.department if membership is not None else None,
        "may_start_due": permissions.is_department_staff(request.user),
    }


@require_POST
def evaluation_due_start(request: HttpRequest, pk: int) -> HttpResponse:
    """开始填报: open the due project's form, creating it pre-filled on the first click."""
    membership = membership_of(request.user)
    department_id = membership.department_id if membership is not None else None
    # Only the user's own department's projects exist for them (404 for the rest).
    project = (
        DueProject.objects.select_related("campaign", "department")
        .filter(pk=pk, department_id=department_id)
        .first()
    )
    if project is None or department_id is None:
        raise Http404
    evaluation, created = due_evaluations.evaluation_start_from_due(
        project=project, user=request.user
    )
    if created:
        messages.success(
            request,
            _("已按应评项目清单新建自评表：项目信息、预算数和批复绩效目标已填入，请补充完成情况。"),
        )
    if evaluation.is_editable:
        return redirect("evaluations:edit", pk=evaluation.pk)
    return redirect("evaluations:detail", pk=evaluation.pk)


# --- entry form ---------------------------------------------------------------------------


def _attach_findings(forms: EvaluationForms, result: ScoreResult | None) -> None:
    """Hang each indicator row's findings on its form, for the template."""
    for form in forms.indicators.forms:
        form.findings = []  # type: ignore[attr-defined]
    if result is None:
        return
    for index, number in enumerate(forms.row_numbers):
        forms.indicators.forms[number].findings = result.findings_for_indicator(index)  # type: ignore[attr-defined]


def _score(
    forms: EvaluationForms, department_name: str = "", evaluation: Evaluation | None = None
) -> ScoreResult:
    """Score whatever the page currently holds (invalid values count as blank).

    For a stored form its rows keep their approved targets and the form its place on the
    due list, as saving would (TARGET_CHANGED, NOT_IN_DUE_LIST while typing).
    """
    data = forms.form_data(department_name=department_name)
    if evaluation is not None:
        stored = evaluation.as_form_data()
        data = with_trusted_keys(data, [row.key for row in stored.indicators])
        data = with_stored_approvals(data, stored)
        data.due = stored.due
        data = with_recheck_context(evaluation, data)
    # What was typed but refused is unknown to the rules, not blank: no findings from it.
    # The rules of the year's campaign: what saving the page would score it with.
    return evaluate(data, rules.rules_for_year(data.year), unreadable=forms.unreadable)


def _attach_approvals(forms: EvaluationForms, evaluation: Evaluation | None) -> None:
    """Hang each stored row's approved target and weight on its form (shown under its inputs)."""
    approved = {}
    if evaluation is not None:
        approved = {
            i.key: i
            for i in evaluation.indicators.all()
            if i.approved_target or i.approved_weight is not None
        }
    for form in forms.indicators.forms:
        key = form["key"].value() or ""
        form.approved = approved.get(key)  # type: ignore[attr-defined]


def _add_service_errors(forms: EvaluationForms, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            for error in errors:
                label = field if field != "__all__" else ""
                if field in forms.header.fields:
                    forms.header.add_error(field, error)
                else:
                    forms.header.add_error(None, f"{label}：{error}" if label else error)
    else:
        for error in exc.messages:
            forms.header.add_error(None, error)


def _visible_duplicate(
    user: Any, *, department_id: int | None, data: FormData, exclude_pk: int | None = None
) -> Evaluation | None:
    """The form whose project name and year ``data`` repeats, if the user may open it."""
    if department_id is None or data.year is None:
        return None
    existing = (
        Evaluation.objects.filter(
            department_id=department_id, year=data.year, project_name=data.project_name
        )
        .exclude(pk=exclude_pk)
        .first()
    )
    if existing is None or not permissions.allowed(permissions.VIEW, user, existing):
        return None
    return existing


def _is_duplicate_error(exc: ValidationError) -> bool:
    return hasattr(exc, "error_dict") and "project_name" in exc.error_dict


def _total_to_adopt(evaluation: Evaluation | None) -> dict[str, Any] | None:
    """The stored form's own total when it is not the computed one (imported forms)."""
    if evaluation is None or evaluation.computed_total is None:
        return None
    stated = evaluation.stated_total
    if stated is not None and abs(stated - evaluation.computed_total) <= Decimal("0.01"):
        return None
    return {"stated": stated, "computed": evaluation.computed_total}


def _render_form(
    request: HttpRequest,
    forms: EvaluationForms,
    *,
    evaluation: Evaluation | None,
    department: Department | None,
    result: ScoreResult | None,
    copied_from: Evaluation | None = None,
    duplicate: Evaluation | None = None,
    status: int = 200,
) -> HttpResponse:
    _attach_findings(forms, result)
    _attach_approvals(forms, evaluation)
    review = (
        evaluation_open_comments(evaluation=evaluation)
        if evaluation is not None
        else {"event": None, "indicator": {}, "funding": {}}
    )
    for index, form in enumerate(forms.indicators.forms):
        form.review_comment = review["indicator"].get(index + 1)
    template = evaluation.template if evaluation is not None else None
    funding_findings = result.findings_for_funding() if result is not None else []
    # Labels, rows and their order come from the official layout; the inputs fill its cells.
    header_inputs = ("project_name", "department", "implementing_unit", "goal_target")
    header_inputs += ("goal_actual", "execution_weight", "unit_head", "filler_name")
    header_inputs += ("filler_phone",)
    inputs: dict[str, Any] = {
        name: forms.header[name] for name in header_inputs if name in forms.header.fields
    }
    for funding_form in forms.funding:
        for name in ("initial_budget", "annual_budget", "executed"):
            inputs[f"funding.{funding_form.kind}.{name}"] = funding_form[name]
    context: dict[str, Any] = {
        "layout": form_layout(
            # The rows of the form's own funding kinds as well as the standard four.
            FormData(funding=[FundingData(kind=f.kind) for f in forms.funding]),
            result,
            every_funding_kind=True,
            signature=signature_of(evaluation) if evaluation is not None else Signature(),
            with_grade=False,  # the entry form scores while typing: no stale grade
        ),
        "inputs": inputs,
        "forms": forms,
        "header": forms.header,
        "funding_forms": forms.funding,
        "formset": forms.indicators,
        "evaluation": evaluation,
        "department": department,
        "result": result,
        "form_findings": result.form_findings() if result is not None else [],
        "funding_findings": funding_findings,
        "copied_from": copied_from,
        "level2_json": json.dumps(
            level2_choices(template) if template else level2_choices(), ensure_ascii=False
        ),
        "input_error_count": forms.error_count() if forms.header.is_bound else 0,
        # Each error with a link to its box (the summary at the top of the page).
        "error_links": forms.error_links() if forms.header.is_bound else [],
        "review": review,
        # The existing form a duplicate project name points at (only if the user may see it).
        "duplicate": duplicate,
        "duplicate_editable": duplicate is not None
        and duplicate.is_editable
        and permissions.allowed(permissions.EDIT, request.user, duplicate),
        # An imported form whose total is missing or differs: offer the computed one.
        "total_to_adopt": _total_to_adopt(evaluation),
    }
    return render(request, "evaluations/form.html", context, status=status)


logger = logging.getLogger(__name__)

# What a database says when a write could not get its lock in time: SQLite after the busy
# timeout, PostgreSQL on a deadlock or a lock timeout.
_BUSY_ERRORS = (
    "database is locked",
    "database table is locked",
    "deadlock detected",
    "lock timeout",
)
BUSY_MESSAGE = gettext_lazy(
    "保存失败：此表正在被其他人保存，暂时无法写入。您填写的内容仍保留在页面上，请稍后再点“保存”。"
)


def _is_busy(exc: OperationalError) -> bool:
    """True when the database refused a write only because another one held the lock."""
    return any(text in str(exc).lower() for text in _BUSY_ERRORS)


def _busy_message(evaluation: Evaluation | None, revision: int | None) -> str:
    """The stale-copy message if someone saved meanwhile, else: try again in a moment."""
    if evaluation is not None:
        try:
            current = Evaluation.objects.select_related("updated_by").get(pk=evaluation.pk)
        except DatabaseError:
            current = None
        if current is not None and current.revision != revision:
            return str(services.StaleEvaluationError(current))
    return str(BUSY_MESSAGE)


def _after_save(
    request: HttpRequest, evaluation: Evaluation, result: ScoreResult, forms: EvaluationForms
) -> HttpResponse:
    if note := forms.cleaning_note():
        # Invisible control characters were removed from what was typed: say so.
        messages.warning(request, note)
    if understood := forms.understood():
        # Numbers typed with their unit or separators ("10分", "1,000"): say how they were read.
        messages.info(request, _("已按数字保存：") + "；".join(understood) + "。")
    if result.findings:
        messages.success(
            request,
            _("已保存。自动校验发现 %(errors)s 个错误、%(warnings)s 个提示，请在提交前处理。")
            % {"errors": len(result.errors), "warnings": len(result.warnings)},
        )
    else:
        messages.success(request, _("已保存，自动校验未发现问题。"))
    if request.POST.get("adopt_total"):
        # "采用系统计算的总分": the save states the computed total, recorded in the history.
        messages.info(
            request,
            _("已采用系统计算的总分 %(total)s，并记入修改记录。")
            % {"total": result.computed_total},
        )
    if request.POST.get("next") == "detail":
        return redirect("evaluations:detail", pk=evaluation.pk)
    return redirect("evaluations:edit", pk=evaluation.pk)


def _unlisted_message(campaign: Any) -> str:
    return _(
        "%(title)s只允许为应评项目清单中的项目填报。请在“待填报”列表中点击相应项目的“开始填报”；"
        "如项目不在清单中，请联系财政局。"
    ) % {"title": campaign.title}


@require_http_methods(["GET", "POST"])
def evaluation_new(request: HttpRequest) -> HttpResponse:
    """Create an evaluation, blank or as next year's copy of an earlier one (?copy_from=)."""
    own = own_department(request)
    departments = selectors.departments_for(user=request.user) if own is None else None
    if own is not None and request.method == "GET":
        refusing = due_evaluations.open_campaign_refusing_unlisted()
        if refusing is not None:
            messages.error(request, _unlisted_message(refusing))
            return redirect("evaluations:list")
    if request.method == "POST":
        forms = evaluation_forms(request.POST, departments=departments)
        duplicate = None
        if forms.is_valid():
            department = own or forms.header.cleaned_data["department"]
            data = forms.form_data(department_name=department.name)
            # A project of the due list is linked to its due project (and its approvals).
            due_project = due_evaluations.match_due_project(
                department=department, year=data.year, project_name=data.project_name
            )
            if due_project is not None:
                data = due_evaluations.with_due_approvals(data, due_project)
            refusing = (
                due_evaluations.unlisted_refused(year=data.year)
                if own is not None and due_project is None
                else None
            )
            try:
                if refusing is not None:
                    raise ValidationError(_unlisted_message(refusing))
                evaluation, result = services.evaluation_create(
                    department=department, data=data, user=request.user, due_project=due_project
                )
            except ValidationError as exc:
                _add_service_errors(forms, exc)
                if _is_duplicate_error(exc):
                    duplicate = _visible_duplicate(
                        request.user, department_id=department.pk, data=data
                    )
            except OperationalError as exc:
                if not _is_busy(exc):
                    raise
                logger.warning("New evaluation not saved, database busy: %s", exc)
                forms.header.add_error(None, str(BUSY_MESSAGE))
            else:
                return _after_save(request, evaluation, result, forms)
        return _render_form(
            request,
            forms,
            evaluation=None,
            department=own,
            result=_score(forms, own.name if own else ""),
            duplicate=duplicate,
        )

    copied_from = None
    if "copy_from" in request.GET:
        source_pk = parse_id(request.GET["copy_from"])
        if source_pk is None:
            raise Http404
        copied_from = selectors.evaluation_get(user=request.user, pk=source_pk, with_rows=True)
        initial = initial_from(copied_from, next_year=True)
    else:
        # A blank form: the open campaign's year and the standard rows of the template.
        campaign = open_campaign()
        year = campaign.year if campaign is not None else None
        # The weight of budget execution the year's rule set gives (10 or 20).
        weight = rules.rules_for_year(year).execution_weight
        initial = blank_initial(year=year, execution_weight=weight)
    if own is not None:
        # The filler signs the form: their name and phone from their profile.
        initial["header"].update(due_evaluations.profile_signature(request.user))
        # A filler limited to one 实施单位 writes only that unit's forms: it is filled in.
        membership = membership_of(request.user)
        unit = " ".join(membership.implementing_unit.split()) if membership is not None else ""
        if unit and not initial["header"].get("implementing_unit"):
            initial["header"]["implementing_unit"] = unit
    forms = evaluation_forms(departments=departments, initial=initial)
    return _render_form(
        request, forms, evaluation=None, department=own, result=None, copied_from=copied_from
    )


@require_http_methods(["GET", "POST"])
def evaluation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a draft or returned evaluation; saving always works unless an input is malformed."""
    evaluation = selectors.evaluation_get(user=request.user, pk=pk, with_rows=True)
    # The administrator sees every form but changes none.
    permissions.require_or_403(
        permissions.EDIT, request.user, evaluation, message=read_only_message(request.user)
    )
    if not evaluation.is_editable:
        messages.info(
            request,
            _("此表状态为“%(status)s”，不能修改。") % {"status": evaluation.get_status_display()},
        )
        return redirect("evaluations:detail", pk=evaluation.pk)
    department = evaluation.department
    if request.method == "POST":
        # The revision the page was loaded from; missing or malformed counts as stale (the
        # service refuses None), and the page keeps carrying what it was given.
        revision = forms_workflow.parse_revision(request.POST.get("revision"))
        posted = request.POST.copy()
        posted["revision"] = "" if revision is None else str(revision)
        forms = evaluation_forms(posted, template=evaluation.template)
        duplicate = None
        if forms.is_valid():
            data = forms.form_data(department_name=department.name)
            try:
                result = services.evaluation_write(
                    evaluation=evaluation,
                    data=data,
                    user=request.user,
                    expected_revision=revision,
                )
            except services.StaleEvaluationError as exc:
                forms.header.add_error(None, str(exc))
            except ValidationError as exc:
                _add_service_errors(forms, exc)
                if _is_duplicate_error(exc):
                    duplicate = _visible_duplicate(
                        request.user,
                        department_id=department.pk,
                        data=data,
                        exclude_pk=evaluation.pk,
                    )
            except OperationalError as exc:
                if not _is_busy(exc):
                    raise
                logger.warning("Evaluation %s not saved, database busy: %s", evaluation.pk, exc)
                forms.header.add_error(None, _busy_message(evaluation, revision))
            else:
                return _after_save(request, evaluation, result, forms)
            # The failed save may have touched the instance; show the stored state's header.
            try:
                evaluation.refresh_from_db()
            except DatabaseError:
                pass  # still locked: the page shows the header as loaded
        return _render_form(
            request,
            forms,
            evaluation=evaluation,
            department=department,
            result=_score(forms, department.name, evaluation),
            duplicate=duplicate,
        )
    forms = evaluation_forms(initial=initial_from(evaluation), template=evaluation.template)
    result = services.evaluation_score(evaluation=evaluation)
    # Stored indicators always have a name, so rows and indicators correspond one to one.
    forms.row_numbers = list(range(len(forms.indicators.forms)))
    return _render_form(request, forms, evaluation=evaluation, department=department, result=result)


@require_POST
def score_preview(request: HttpRequest) -> JsonResponse:
    """Score the posted entry form as it stands and answer with figures and findings (JSON)."""
    permissions.require_or_403(permissions.SCORE_PREVIEW, request.user)
    forms = evaluation_forms(request.POST)
    forms.is_valid()
    # The edit page of a stored form says which (the user's own forms only).
    pk = parse_id(request.POST.get("evaluation_id") or "")
    stored = selectors.evaluation_get(user=request.user, pk=pk, with_rows=True) if pk else None
    result = _score(forms, evaluation=stored)
    field_errors: dict[str, list[str]] = {}
    field_notes: dict[str, str] = {}
    for form in [forms.header, *forms.funding, *forms.indicators.forms]:
        for name, errors in form.errors.as_data().items():
            # Fields not filled in yet are not worth a red mark while typing; saving says so.
            messages_ = [m for e in errors if e.code != "required" for m in e.messages]
            if name in form.fields and messages_:
                field_errors[form.add_prefix(name)] = messages_
        for name in form.fields:
            # Numbers read leniently ("10分"): the page says how ("已按 10 填写").
            bound = form[name]
            if getattr(bound, "understood", ""):
                field_notes[form.add_prefix(name)] = understood_note(bound.understood)
    return JsonResponse(
        {
            "execution_rate": format_percent(result.execution_rate),
            # Scores with two decimals, as on the printed form.
            "execution_score": str(result.execution_score)
            if result.execution_score is not None
            else "—",
            "computed_total": str(result.computed_total),
            "weight_sum": format_points(result.weight_sum) or "—",
            "indicator_weight_sum": format_points(result.indicator_weight_sum) or "—",
            "indicator_score_sum": format_points(result.indicator_score_sum) or "—",
            "error_count": len(result.errors),
            "warning_count": len(result.warnings),
            "findings": [finding_json(f, forms.row_numbers) for f in result.findings],
            "field_errors": field_errors,
            "field_notes": field_notes,
        }
    )


# --- detail -------------------------------------------------------------------------------


@require_GET
def evaluation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The form read-only, in the official layout, with its findings."""
    evaluation = selectors.evaluation_get(user=request.user, pk=pk, with_rows=True)
    form_data = with_recheck_context(evaluation, evaluation.as_form_data())
    result = evaluate(form_data, rules.rules_for(evaluation))
    published = recheck_published(evaluation)
    notifications_mark_read(user=request.user, evaluation=evaluation)
    return render(
        request,
        "evaluations/detail.html",
        {
            "evaluation": evaluation,
            "result": result,
            "layout": form_layout(
                form_data,
                result,
                status=evaluation.status,
                signature=signature_of(evaluation),
                with_grade=evaluation.is_handed_in,
            ),
            "review": evaluation_open_comments(evaluation=evaluation),
            # The bureau's re-check, once 已复核 (before that the department sees nothing),
            # and the rules the department's re-checked forms were deducted by most.
            "recheck_published": published,
            "rules_broken": (
                rules_broken_most(evaluation.department_id) if published is not None else []
            ),
        },
    )
