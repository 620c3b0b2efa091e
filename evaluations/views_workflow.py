"""Views of the review workflow: submit, review queue, return, approve, reopen, history."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from departments.access import is_admin, membership_of, visible_departments, visible_evaluations
from departments.models import Role
from evaluations.models import Evaluation, FundingKind, Status
from evaluations.presentation import official_indicator_rows
from evaluations.review_selectors import (
    evaluation_changes_since_return,
    evaluation_history,
    review_queue,
)
from evaluations.services import (
    TransitionError,
    evaluation_approve,
    evaluation_reopen,
    evaluation_return,
    evaluation_score,
    evaluation_submit,
    notifications_mark_read,
    warning_key,
)


def _get(request: HttpRequest, pk: int) -> Evaluation:
    return get_object_or_404(visible_evaluations(request.user).select_related("department"), pk=pk)


def _require_finance(request: HttpRequest) -> None:
    # Finance-only pages are invisible to others: 404, as for another department's form.
    m = membership_of(request.user)
    if m is None or m.role != Role.FINANCE:
        raise Http404


@require_http_methods(["GET", "POST"])
def evaluation_submit_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm and submit a form: errors block, each warning is acknowledged or explained."""
    evaluation = _get(request, pk)
    m = membership_of(request.user)
    if m is None or m.role != Role.STAFF:
        raise Http404
    result = evaluation_score(evaluation=evaluation)
    warnings = [{"key": warning_key(w), "finding": w} for w in result.warnings]
    error_message = ""
    if request.method == "POST":
        acknowledgements = {}
        for item in warnings:
            comment = request.POST.get(f"comment-{item['key']}", "").strip()
            if request.POST.get(f"ack-{item['key']}") or comment:
                acknowledgements[item["key"]] = comment
        try:
            submitted = evaluation_submit(
                evaluation=evaluation, user=request.user, acknowledgements=acknowledgements
            )
        except TransitionError as exc:
            error_message = exc.message
        else:
            if submitted:
                messages.success(request, _("已提交财政局审核。提交后本部门不能再修改此表。"))
            else:
                messages.info(request, _("此表已经提交过了。"))
            return redirect("evaluations:detail", pk=evaluation.pk)
    for item in warnings:
        item["ack"] = bool(request.POST.get(f"ack-{item['key']}"))
        item["comment"] = request.POST.get(f"comment-{item['key']}", "")
        ind = item["finding"].indicator
        item["row"] = ind + 1 if ind is not None else None
    return render(
        request,
        "evaluations/submit.html",
        {
            "evaluation": evaluation,
            "result": result,
            "warnings": warnings,
            "error_message": error_message,
        },
    )


def review_queue_view(request: HttpRequest) -> HttpResponse:
    """Submitted forms of every department, oldest first, for the finance bureau."""
    _require_finance(request)
    year = request.GET.get("year", "")
    department = request.GET.get("department", "")
    qs = review_queue(
        user=request.user,
        year=int(year) if year.isdigit() else None,
        department_id=int(department) if department.isdigit() else None,
    )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    years = (
        visible_evaluations(request.user)
        .values_list("year", flat=True)
        .distinct()
        .order_by("-year")
    )
    return render(
        request,
        "review/queue.html",
        {
            "page": page,
            "years": list(years),
            "departments": visible_departments(request.user),
            "year": year,
            "department": department,
        },
    )


def review_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The review page: the form, its findings, changes since the last return, the decision."""
    _require_finance(request)
    evaluation = _get(request, pk)
    notifications_mark_read(user=request.user, evaluation=evaluation)
    return render(request, "review/detail.html", _review_context(evaluation))


def _review_context(evaluation: Evaluation, **extra: Any) -> dict[str, Any]:
    form = evaluation.as_form_data()
    result = evaluation_score(evaluation=evaluation)
    context = {
        "evaluation": evaluation,
        "form": form,
        "result": result,
        "rows": official_indicator_rows(form, result),
        "funding_kinds": FundingKind.choices,
        "changes": evaluation_changes_since_return(evaluation=evaluation),
        "can_decide": evaluation.status == Status.SUBMITTED,
    }
    context.update(extra)
    return context


@require_POST
def review_return_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Return a submitted form with a reason and optional comments on rows."""
    _require_finance(request)
    evaluation = _get(request, pk)
    comments = []
    for key, text in request.POST.items():
        if not text.strip():
            continue
        if key.startswith("comment-indicator-"):
            position = key.removeprefix("comment-indicator-")
            comments.append(
                {
                    "target": "indicator",
                    "position": int(position) if position.isdigit() else 0,
                    "text": text,
                }
            )
        elif key.startswith("comment-funding-"):
            comments.append(
                {
                    "target": "funding",
                    "funding_kind": key.removeprefix("comment-funding-"),
                    "text": text,
                }
            )
    try:
        returned = evaluation_return(
            evaluation=evaluation,
            user=request.user,
            reason=request.POST.get("reason", ""),
            comments=comments,
        )
    except TransitionError as exc:
        evaluation.refresh_from_db()
        context = _review_context(evaluation, error_message=exc.message, posted=request.POST)
        return render(request, "review/detail.html", context, status=400)
    if returned:
        messages.success(
            request,
            _("已退回“%(name)s”，部门将看到退回原因和意见。") % {"name": evaluation.project_name},
        )
    else:
        messages.info(request, _("此表已经退回过了。"))
    return redirect("review:queue")


@require_POST
def review_approve_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve a submitted form."""
    _require_finance(request)
    evaluation = _get(request, pk)
    try:
        approved = evaluation_approve(evaluation=evaluation, user=request.user)
    except TransitionError as exc:
        messages.error(request, exc.message)
        return redirect("review:detail", pk=evaluation.pk)
    if approved:
        messages.success(request, _("已审核通过“%(name)s”。") % {"name": evaluation.project_name})
    else:
        messages.info(request, _("此表已经审核通过了。"))
    return redirect("review:queue")


@require_http_methods(["GET", "POST"])
def evaluation_reopen_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Administrators reopen an approved form with a recorded reason."""
    if not is_admin(request.user):
        raise Http404
    evaluation = _get(request, pk)
    error_message = ""
    if request.method == "POST":
        try:
            evaluation_reopen(
                evaluation=evaluation, user=request.user, reason=request.POST.get("reason", "")
            )
        except TransitionError as exc:
            error_message = exc.message
        else:
            messages.success(request, _("已重新开放，部门可以再次修改此表。"))
            return redirect("evaluations:detail", pk=evaluation.pk)
    return render(
        request,
        "evaluations/reopen.html",
        {
            "evaluation": evaluation,
            "error_message": error_message,
            "reason": request.POST.get("reason", ""),
        },
    )


def evaluation_history_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Every change and every step of one form, newest first."""
    evaluation = _get(request, pk)
    return render(
        request,
        "evaluations/history.html",
        {"evaluation": evaluation, "events": evaluation_history(evaluation=evaluation)},
    )
