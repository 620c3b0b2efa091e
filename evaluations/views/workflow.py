"""Views of the review workflow: submit, review queue, return, approve, sign-off, reopen, history."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from evaluations import permissions, selectors
from evaluations.core.layout import form_layout
from evaluations.core.scoring import EXPLANATION_REQUIRED, WARNING
from evaluations.filters import ReviewQueueFilter, queue_queryset, with_badges
from evaluations.forms.workflow import (
    ApproveForm,
    ReopenForm,
    ReturnForm,
    SubmitForm,
)
from evaluations.models import Evaluation, Status
from evaluations.review_selectors import (
    BUREAU_RETURNS,
    RETURN_ACTIONS,
    evaluation_changes_since_return,
    evaluation_explanations,
    evaluation_history,
    sign_off_queue,
)
from evaluations.services import evaluation_score, notifications_mark_read
from evaluations.signature import signature_of
from evaluations.workflow import (
    SEND_FOR_SIGN_OFF,
    TransitionError,
    evaluation_approve,
    evaluation_department_return,
    evaluation_reopen,
    evaluation_return,
    evaluation_sign_off,
    evaluation_submit,
    submit_transition,
    warning_key,
)

if TYPE_CHECKING:
    from django.utils.functional import Promise


@require_http_methods(["GET", "POST"])
def evaluation_submit_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm and submit a form: errors block, each warning is acknowledged or explained."""
    evaluation = selectors.evaluation_get(user=request.user, pk=pk)
    # Only the department's staff submit; to anyone else the page does not exist.
    permissions.require_or_404(permissions.SUBMIT, request.user, evaluation)
    result = evaluation_score(evaluation=evaluation)
    keys = [warning_key(w) for w in result.warnings]
    carried = _carried_explanations(evaluation, result.warnings)
    form = SubmitForm(
        request.POST if request.method == "POST" else None, warning_keys=keys, carried=carried
    )
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
                if submitted and evaluation.status == Status.DEPARTMENT_REVIEW:
                    messages.success(request, _("已提交本部门审核人审核。审核期间不能修改此表。"))
                elif submitted:
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
                "field": comment,
                "row": finding.indicator + 1 if finding.indicator is not None else None,
                "carried": key in carried,
                "reason_required": finding.code in EXPLANATION_REQUIRED,
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
            "form": form,
            # With the campaign's sign-off the form goes to the department's head first.
            "to_head": submit_transition(evaluation) is SEND_FOR_SIGN_OFF,
        },
    )


def _carried_explanations(evaluation: Evaluation, warnings: list[Any]) -> dict[str, str]:
    """Acknowledgements of the previous submission that still fit: warning_key → explanation.

    A warning is carried over while it is unchanged: the same key (code and row) and the
    same message (a changed value changes the message, and then asks again).
    """
    previous = evaluation_explanations(evaluation=evaluation)
    carried = {}
    for finding in warnings:
        key = warning_key(finding)
        ack = previous.get(key)
        if ack is not None and ack.get("message") == str(finding.message):
            carried[key] = str(ack.get("comment") or "")
    return carried


def review_queue_view(request: HttpRequest) -> HttpResponse:
    """Submitted forms of every department, oldest first, for the finance bureau."""
    # Finance-only pages are invisible to others: 404, as for another department's form.
    permissions.require_or_404(permissions.REVIEW, request.user)
    # The picker shows and matches each department's code (部门编码) beside its name.
    departments = [(d.pk, d.label) for d in selectors.departments_for(user=request.user)]
    filterset = ReviewQueueFilter(
        request.GET or None,
        queryset=queue_queryset(request.user),
        years=selectors.evaluation_years(user=request.user),
        departments=departments,
    )
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    page.object_list = with_badges(page.object_list)
    return render(
        request,
        "review/queue.html",
        {
            "page": page,
            "filterset": filterset,
            "departments": departments,
            "headers": filterset.headers(),
            # The filters of the page links, as validated (never the raw query string).
            "querystring": filterset.query(),
        },
    )


@dataclass(frozen=True)
class Decision:
    """One review page, two deciders: the bureau's review and the department head's sign-off.

    Both show the same page (templates/review/detail.html): the official table with a
    comment field per row, the return form and the pass button; only the state in which
    they decide, the rule, the services, the routes and the labels differ.
    """

    rule: str
    # The state in which the form waits for this decision.
    state: Status
    # The returns after which the form comes back to this decider: the page shows what
    # changed since the last of them (the bureau: its own; the head: the head's or the
    # bureau's, both of which come back through the head).
    returns: tuple[str, ...]
    # True: the pass button leads to a confirmation page (GET approve_route) whose form
    # posts the confirmation and an optional comment; False: the button posts at once.
    confirms: bool
    approve: Callable[..., bool]
    send_back: Callable[..., bool]
    # URL names: the page itself, its return POST, its pass (a POST, or the confirmation
    # page and its POST: ``confirms``), the list it belongs to.
    page_route: str
    return_route: str
    approve_route: str
    list_route: str
    title: Promise
    list_label: Promise
    return_label: Promise
    approve_label: Promise
    returned: Promise
    returned_before: Promise
    approved: Promise
    approved_before: Promise


BUREAU = Decision(
    rule=permissions.REVIEW,
    state=Status.SUBMITTED,
    returns=BUREAU_RETURNS,
    confirms=True,
    approve=evaluation_approve,
    send_back=evaluation_return,
    page_route="review:detail",
    return_route="review:return",
    approve_route="review:approve",
    list_route="review:queue",
    title=gettext_lazy("审核"),
    list_label=gettext_lazy("返回审核队列"),
    return_label=gettext_lazy("退回修改"),
    approve_label=gettext_lazy("审核通过"),
    returned=gettext_lazy("已退回“%(name)s”，部门将看到退回原因和意见。"),
    returned_before=gettext_lazy("此表已经退回过了，未重复退回。"),
    approved=gettext_lazy("已审核通过“%(name)s”。"),
    approved_before=gettext_lazy("此表已经审核通过了，未重复操作。"),
)
DEPARTMENT = Decision(
    rule=permissions.SIGN_OFF,
    state=Status.DEPARTMENT_REVIEW,
    returns=RETURN_ACTIONS,
    confirms=False,
    approve=evaluation_sign_off,
    send_back=evaluation_department_return,
    page_route="evaluations:sign_off",
    return_route="evaluations:sign_off_return",
    approve_route="evaluations:sign_off_pass",
    list_route="evaluations:sign_off_queue",
    title=gettext_lazy("部门审核"),
    list_label=gettext_lazy("返回部门审核列表"),
    return_label=gettext_lazy("退回填报人修改"),
    approve_label=gettext_lazy("审核通过，报送财政局"),
    returned=gettext_lazy("已退回“%(name)s”，填报人将看到退回原因和意见。"),
    returned_before=gettext_lazy("此表已经退回过了，未重复退回。"),
    approved=gettext_lazy("“%(name)s”已审核通过并报送财政局。"),
    approved_before=gettext_lazy("此表已经报送财政局了，未重复操作。"),
)


def _decision_page(request: HttpRequest, pk: int, decision: Decision) -> HttpResponse:
    """The review page: the form, its findings, changes since the last return, the decision."""
    # Pages of a role are invisible to the others: 404, as for another department's form.
    permissions.require_or_404(decision.rule, request.user)
    evaluation = selectors.evaluation_get(user=request.user, pk=pk)
    permissions.require_or_404(decision.rule, request.user, evaluation)
    notifications_mark_read(user=request.user, evaluation=evaluation)
    return render(request, "review/detail.html", _review_context(evaluation, decision))


def _evidence_ids(evaluation: Evaluation) -> list[int]:
    """The form's evidence files, each of which a return may comment on."""
    return list(evaluation.evidence.order_by("pk").values_list("pk", flat=True))


def _review_context(
    evaluation: Evaluation,
    decision: Decision,
    return_form: ReturnForm | None = None,
    **extra: Any,
) -> dict[str, Any]:
    form = evaluation.as_form_data()
    result = evaluation_score(evaluation=evaluation)
    if return_form is None:
        return_form = ReturnForm(
            indicator_count=len(form.indicators), evidence_ids=_evidence_ids(evaluation)
        )
    # A return form bound to fewer rows than the form has now cannot comment on the rest.
    fields = return_form.fields
    layout = form_layout(
        form,
        result,
        indicator_comments={
            n: return_form[f"comment-indicator-{n}"]
            for n in range(1, len(form.indicators) + 1)
            if f"comment-indicator-{n}" in fields
        },
        funding_comments={
            row.kind: return_form[f"comment-funding-{row.kind}"]
            for row in form.funding
            if f"comment-funding-{row.kind}" in fields
        },
        status=evaluation.status,
        signature=signature_of(evaluation),
        with_grade=evaluation.is_handed_in,
    )
    # The department's explanations of the warnings, from its latest submission.
    explanations = evaluation_explanations(evaluation=evaluation)
    notes = [
        {
            "finding": f,
            "explanation": explanations.get(warning_key(f)) if f.severity == WARNING else None,
        }
        for f in result.findings
    ]
    context = {
        "evaluation": evaluation,
        "form": form,
        "result": result,
        "layout": layout,
        "notes": notes,
        "explained": [n for n in notes if n["explanation"] is not None],
        "return_form": return_form,
        "changes": evaluation_changes_since_return(evaluation=evaluation, actions=decision.returns),
        "decision": decision,
        "can_decide": evaluation.status == decision.state,
    }
    context.update(extra)
    return context


def _decision_return(request: HttpRequest, pk: int, decision: Decision) -> HttpResponse:
    """Return a form with a reason and optional comments on rows."""
    permissions.require_or_404(decision.rule, request.user)
    evaluation = selectors.evaluation_get(user=request.user, pk=pk)
    permissions.require_or_404(decision.rule, request.user, evaluation)
    form = ReturnForm(
        request.POST,
        indicator_count=evaluation.indicators.count(),
        evidence_ids=_evidence_ids(evaluation),
    )
    if not form.is_valid():
        # Nothing is lost: the page comes back with the reason and every row comment typed;
        # the summary at the top lists each problem with a link to its field.
        context = _review_context(
            evaluation, decision, form, error_message=_("未退回：请修改下列标出的内容。")
        )
        return render(request, "review/detail.html", context, status=400)
    try:
        returned = decision.send_back(
            evaluation=evaluation,
            user=request.user,
            reason=form.cleaned_data["reason"],
            comments=form.comments(),
        )
    except TransitionError as exc:
        evaluation.refresh_from_db()
        context = _review_context(evaluation, decision, form, error_message=exc.message)
        return render(request, "review/detail.html", context, status=400)
    if returned:
        messages.success(request, decision.returned % {"name": evaluation.project_name})
    else:
        messages.info(request, str(decision.returned_before))
    return redirect(decision.list_route)


def _pass_on(
    request: HttpRequest, evaluation: Evaluation, decision: Decision, **given: Any
) -> HttpResponse:
    """Run the decision's pass; refused: back to its page with the reason as a message."""
    try:
        approved = decision.approve(evaluation=evaluation, user=request.user, **given)
    except TransitionError as exc:
        messages.error(request, exc.message)
        return redirect(decision.page_route, pk=evaluation.pk)
    if approved:
        messages.success(request, decision.approved % {"name": evaluation.project_name})
    else:
        messages.info(request, str(decision.approved_before))
    return redirect(decision.list_route)


def _decision_approve(request: HttpRequest, pk: int, decision: Decision) -> HttpResponse:
    """Pass a form on at once: the department head sends it to the bureau."""
    permissions.require_or_404(decision.rule, request.user)
    evaluation = selectors.evaluation_get(user=request.user, pk=pk)
    permissions.require_or_404(decision.rule, request.user, evaluation)
    return _pass_on(request, evaluation, decision)


def _decision_confirm(request: HttpRequest, pk: int, decision: Decision) -> HttpResponse:
    """Confirm a pass (GET: the page; POST: the decision) with an optional comment.

    A POST without the page's confirmation passes nothing: the page comes back (400) with
    whatever comment was typed.
    """
    permissions.require_or_404(decision.rule, request.user)
    evaluation = selectors.evaluation_get(user=request.user, pk=pk)
    permissions.require_or_404(decision.rule, request.user, evaluation)
    form = ApproveForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        return _pass_on(request, evaluation, decision, reason=form.cleaned_data["reason"])
    return render(
        request,
        "review/approve.html",
        {
            "evaluation": evaluation,
            "result": evaluation_score(evaluation=evaluation),
            "decision": decision,
            "form": form,
            "error_message": _("未审核通过：请修改下列标出的内容。") if form.is_bound else "",
            "can_decide": evaluation.status == decision.state,
        },
        status=400 if form.is_bound else 200,
    )


def review_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The bureau's review page of a submitted form."""
    return _decision_page(request, pk, BUREAU)


@require_POST
def review_return_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The bureau returns a submitted form to its department."""
    return _decision_return(request, pk, BUREAU)


@require_http_methods(["GET", "POST"])
def review_approve_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The bureau approves a submitted form, once confirmed, with an optional comment."""
    return _decision_confirm(request, pk, BUREAU)


@require_GET
def sign_off_queue_view(request: HttpRequest) -> HttpResponse:
    """The head's list: their department's forms waiting in 部门审核, longest waiting first."""
    permissions.require_or_404(permissions.SIGN_OFF, request.user)
    page = Paginator(sign_off_queue(user=request.user), 50).get_page(request.GET.get("page"))
    return render(request, "review/sign_off_queue.html", {"page": page})


@require_GET
def sign_off_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The head's review page of a form in 部门审核: the bureau's page, the head's buttons."""
    return _decision_page(request, pk, DEPARTMENT)


@require_POST
def sign_off_return_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The head returns a form in 部门审核 to its filler."""
    return _decision_return(request, pk, DEPARTMENT)


@require_POST
def sign_off_pass_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The head passes a form in 部门审核 on to the bureau."""
    return _decision_approve(request, pk, DEPARTMENT)


@require_http_methods(["GET", "POST"])
def evaluation_reopen_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Administrators reopen an approved form with a recorded reason."""
    permissions.require_or_404(permissions.REOPEN, request.user)
    evaluation = selectors.evaluation_get(user=request.user, pk=pk)
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
            error_message = _("未重新开放：请修改下列标出的内容。")
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
    evaluation = selectors.evaluation_get(user=request.user, pk=pk)
    return render(
        request,
        "evaluations/history.html",
        {"evaluation": evaluation, "events": evaluation_history(evaluation=evaluation)},
    )
