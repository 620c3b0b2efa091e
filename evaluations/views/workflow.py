"""Views of the review workflow: submit, review queue, return, approve, reopen, history."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from departments.access import is_admin, membership_of, visible_departments, visible_evaluations
from departments.models import Role
from evaluations.forms.workflow import ReopenForm, ReturnForm, ReviewQueueFilterForm, SubmitForm
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
    keys = [warning_key(w) for w in result.warnings]
    form = SubmitForm(request.POST if request.method == "POST" else None, warning_keys=keys)
    error_message = ""
    if request.method == "POST":
        if form.is_valid():
            try:
                submitted = evaluation_submit(
                    evaluation=evaluation,
                    user=request.user,
                    acknowledgements=form.acknowledgements(),
                )
            except TransitionError as exc:
                error_message = exc.message
            else:
                if submitted:
                    messages.success(request, _("已提交财政局审核。提交后本部门不能再修改此表。"))
                else:
                    messages.info(request, _("此表已经提交过了，未重复提交。"))
                return redirect("evaluations:detail", pk=evaluation.pk)
        else:
            error_message = _("未提交：请按下面的提示修改说明后再提交。")
    warnings = []
    for finding, key in zip(result.warnings, keys, strict=True):
        ack, comment = form[f"ack-{key}"], form[f"comment-{key}"]
        warnings.append(
            {
                "key": key,
                "finding": finding,
                "ack": bool(ack.value()),
                "comment": comment.value() or "",
                "errors": comment.errors,
                "row": finding.indicator + 1 if finding.indicator is not None else None,
            }
        )
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
    filters = ReviewQueueFilterForm(request.GET).filters()
    qs = review_queue(user=request.user, year=filters["year"], department_id=filters["department"])
    page = Paginator(qs, 50).get_page(filters["page"])
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
            "year": filters["year"],
            "department": filters["department"],
            # The filters of the page links, as parsed (never the raw query string).
            "querystring": urlencode(
                {k: v for k, v in filters.items() if k != "page" and v is not None}
            ),
        },
    )


def review_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The review page: the form, its findings, changes since the last return, the decision."""
    _require_finance(request)
    evaluation = _get(request, pk)
    notifications_mark_read(user=request.user, evaluation=evaluation)
    return render(request, "review/detail.html", _review_context(evaluation))


def _review_context(
    evaluation: Evaluation, return_form: ReturnForm | None = None, **extra: Any
) -> dict[str, Any]:
    form = evaluation.as_form_data()
    result = evaluation_score(evaluation=evaluation)
    if return_form is None:
        return_form = ReturnForm(indicator_count=len(form.indicators))
    rows = official_indicator_rows(form, result)

    def comment_field(name: str) -> Any:
        # A return form bound to fewer rows than the form has now cannot comment on the rest.
        return return_form[name] if name in return_form.fields else None

    context = {
        "evaluation": evaluation,
        "form": form,
        "result": result,
        "indicator_rows": [(row, comment_field(f"comment-indicator-{row.number}")) for row in rows],
        "funding_rows": [
            (row, FundingKind(row.kind).label, comment_field(f"comment-funding-{row.kind}"))
            for row in form.funding
        ],
        "return_form": return_form,
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
    form = ReturnForm(request.POST, indicator_count=evaluation.indicators.count())
    if not form.is_valid():
        # Nothing is lost: the page comes back with the reason and every row comment typed.
        context = _review_context(evaluation, form, error_message=form.error_message())
        return render(request, "review/detail.html", context, status=400)
    try:
        returned = evaluation_return(
            evaluation=evaluation,
            user=request.user,
            reason=form.cleaned_data["reason"],
            comments=form.comments(),
        )
    except TransitionError as exc:
        evaluation.refresh_from_db()
        context = _review_context(evaluation, form, error_message=exc.message)
        return render(request, "review/detail.html", context, status=400)
    if returned:
        messages.success(
            request,
            _("已退回“%(name)s”，部门将看到退回原因和意见。") % {"name": evaluation.project_name},
        )
    else:
        messages.info(request, _("此表已经退回过了，未重复退回。"))
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
        messages.info(request, _("此表已经审核通过了，未重复操作。"))
    return redirect("review:queue")


@require_http_methods(["GET", "POST"])
def evaluation_reopen_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Administrators reopen an approved form with a recorded reason."""
    if not is_admin(request.user):
        raise Http404
    evaluation = _get(request, pk)
    form = ReopenForm(request.POST if request.method == "POST" else None)
    error_message = ""
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                reopened = evaluation_reopen(
                    evaluation=evaluation, user=request.user, reason=form.cleaned_data["reason"]
                )
            except TransitionError as exc:
                error_message = exc.message
            else:
                if reopened:
                    messages.success(request, _("已重新开放，部门可以再次修改此表。"))
                else:
                    messages.info(request, _("此表已经重新开放过了（现为草稿），未重复操作。"))
                return redirect("evaluations:detail", pk=evaluation.pk)
        else:
            error_message = " ".join(str(e) for e in form.errors.get("reason", []))
        status = 400
        evaluation.refresh_from_db()
    elif evaluation.status != Status.APPROVED:
        error_message = _("此表当前状态为“%(status)s”，只有已通过的表可以重新开放。") % {
            "status": evaluation.get_status_display()
        }
    return render(
        request,
        "evaluations/reopen.html",
        {
            "evaluation": evaluation,
            "form": form,
            "error_message": error_message,
            "can_reopen": evaluation.status == Status.APPROVED,
        },
        status=status,
    )


def evaluation_history_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Every change and every step of one form, newest first."""
    evaluation = _get(request, pk)
    return render(
        request,
        "evaluations/history.html",
        {"evaluation": evaluation, "events": evaluation_history(evaluation=evaluation)},
    )
