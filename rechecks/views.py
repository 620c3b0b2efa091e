"""The re-check pages (/rechecks/): finance only; 404 to everyone else, the admin included."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.http import (
    PDF_CONTENT_TYPE,
    XLSX_CONTENT_TYPE,
    content_disposition,
    parse_id,
    parse_year,
)
from common.pdf import render_html_pdf
from departments.models import Department
from evaluations import permissions
from evaluations.core.grades import grade as grade_of
from evaluations.models import Evaluation
from rechecks import report, rule_sets, selectors, services
from rechecks.forms import (
    DrawForm,
    RecheckForm,
    RuleForm,
    RuleSetCopyForm,
    RuleSetForm,
    initial_for,
    new_seed,
)
from rechecks.models import Recheck, RecheckRule, RecheckRuleSet, RecheckStatus, Sample


def _finance(request: HttpRequest) -> None:
    permissions.require_or_404(permissions.RECHECK, request.user)


def _year(request: HttpRequest) -> int:
    year = parse_year(request.GET.get("year"))
    if year is not None:
        return year
    latest = Evaluation.objects.order_by("-year").values_list("year", flat=True).first()
    return latest or datetime.date.today().year - 1


@login_required
@require_GET
def recheck_list(request: HttpRequest) -> HttpResponse:
    """The year's re-checks with their state, the forms that may be picked, and the draw."""
    _finance(request)
    year = _year(request)
    rechecks = selectors.rechecks_for_year(year)
    pickable = (
        services.approved_forms(year)
        .filter(recheck__isnull=True)
        .select_related("department")
        .order_by("department__name", "project_name", "pk")
    )
    return render(
        request,
        "rechecks/list.html",
        {
            "year": year,
            "rechecks": rechecks,
            "pickable": pickable,
            "samples": Sample.objects.filter(year=year).select_related("drawn_by"),
            "draw_form": DrawForm(initial={"year": year, "seed": new_seed()}),
            "departments": Department.objects.filter(
                evaluations__recheck__isnull=False, evaluations__year=year
            )
            .distinct()
            .order_by("name"),
        },
    )


@login_required
@require_POST
def recheck_draw(request: HttpRequest) -> HttpResponse:
    _finance(request)
    form = DrawForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("抽取参数有误：%(e)s") % {"e": form.errors.as_text()})
        return redirect("rechecks:list")
    d = form.cleaned_data
    try:
        sample = services.sample_draw(
            year=d["year"],
            share=d["share"],
            seed=d["seed"],
            weighted=d["weighted"],
            user=request.user,
        )
    except services.TransitionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("已从 %(pop)d 张已通过的表中抽取 %(n)d 张（随机种子 %(seed)d）。")
            % {"pop": sample.population, "n": sample.evaluations.count(), "seed": sample.seed},
        )
    return redirect(f"{reverse('rechecks:list')}?year={d['year']}")


@login_required
@require_POST
def recheck_pick(request: HttpRequest, pk: int) -> HttpResponse:
    _finance(request)
    evaluation = get_object_or_404(Evaluation, pk=pk)
    try:
        services.recheck_pick(evaluation=evaluation, user=request.user)
    except services.TransitionError as exc:
        messages.error(request, exc.message)
        return redirect(f"{reverse('rechecks:list')}?year={evaluation.year}")
    return redirect("rechecks:detail", pk=evaluation.pk)


def _recheck(pk: int) -> Recheck:
    return get_object_or_404(
        Recheck.objects.select_related("evaluation__department", "sample").prefetch_related(
            "rows__rule", "events__actor"
        ),
        evaluation_id=pk,
    )


def _form(request: HttpRequest, recheck: Recheck, figures) -> RecheckForm:
    """The page's form: bound to a POST, else showing what is stored."""
    return RecheckForm(
        request.POST if request.method == "POST" else None,
        figures=figures,
        choices=selectors.rule_choices(recheck),
        initial=initial_for(figures, recheck.opinion),
    )


def _typed(recheck: Recheck, form: RecheckForm):
    """The figures of what the page holds (after is_valid()), reasons included."""
    scores, execution_score = form.typed_scores()
    return services.recheck_preview(
        recheck,
        scores=scores,
        execution_score=execution_score,
        opinions=form.typed_opinions(),
    )


def _page(request: HttpRequest, recheck: Recheck, figures, form: RecheckForm, status: int = 200):
    return render(
        request,
        "rechecks/detail.html",
        {
            "recheck": recheck,
            "evaluation": recheck.evaluation,
            "figures": figures,
            "form": form,
            "editable": recheck.status == RecheckStatus.IN_PROGRESS,
            # Before 开始复核 finance has scored nothing: the page shows "—", not figures.
            "started": recheck.status != RecheckStatus.PENDING,
        },
        status=status,
    )


def _values(form: RecheckForm) -> dict:
    return {
        "rows": form.rows(),
        "execution_score": form.cleaned_data["execution_score"],
        "opinion": form.cleaned_data["opinion"],
    }


@login_required
@require_http_methods(["GET", "POST"])
def recheck_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The re-check page: the department's figures beside finance's; POST saves (复核中)."""
    _finance(request)
    recheck = _recheck(pk)
    figures = selectors.recheck_compute(recheck)
    form = _form(request, recheck, figures)
    if request.method == "GET":
        return _page(request, recheck, figures, form)
    if recheck.status != RecheckStatus.IN_PROGRESS:
        messages.error(request, _("只有“复核中”的复核可以修改。"))
        return redirect("rechecks:detail", pk=pk)
    if form.is_valid():
        try:
            services.recheck_save(recheck=recheck, user=request.user, **_values(form))
        except services.TransitionError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("复核已保存。"))
            return redirect("rechecks:detail", pk=pk)
    return _page(request, recheck, figures, form, status=400)


@login_required
@require_POST
def recheck_complete(request: HttpRequest, pk: int) -> HttpResponse:
    """完成复核: the page's form, stored and completed at once; refused, it keeps what was typed."""
    _finance(request)
    recheck = _recheck(pk)
    if recheck.status == RecheckStatus.DONE:
        return redirect("rechecks:detail", pk=pk)  # a repeat (double click): done already
    if recheck.status != RecheckStatus.IN_PROGRESS:
        messages.error(request, _("请先开始复核。"))
        return redirect("rechecks:detail", pk=pk)
    figures = selectors.recheck_compute(recheck)
    form = _form(request, recheck, figures)
    if form.is_valid():
        try:
            services.recheck_complete(recheck=recheck, user=request.user, **_values(form))
        except services.TransitionError as exc:
            messages.error(request, exc.message)
            form.mark_missing_reasons([r.key for r in _typed(recheck, form).reasons_missing])
        else:
            messages.success(request, _("复核已完成，部门现在可以看到复核结果和意见。"))
            return redirect("rechecks:detail", pk=pk)
    else:
        messages.error(request, _("复核未完成：请改正标出的内容。"))
    return _page(request, recheck, figures, form, status=400)


@login_required
@require_POST
def recheck_preview(request: HttpRequest, pk: int) -> JsonResponse:
    """The re-check total and differences of the scores as typed, by the engine (JSON)."""
    _finance(request)
    recheck = _recheck(pk)
    form = RecheckForm(
        request.POST,
        figures=selectors.recheck_compute(recheck),
        choices=selectors.rule_choices(recheck),
    )
    form.is_valid()  # a wrong box counts as blank here; the page marks it
    figures = _typed(recheck, form)
    return JsonResponse(
        {
            "total": str(figures.total),
            "grade": str(grade_of(figures.total) or ""),
            "difference": str(figures.difference),
            "quality_poor": figures.quality_poor,
            "execution": str(figures.recheck_execution or ""),
            "execution_difference": str(figures.execution_difference),
            "rows": {r.key: str(r.difference) for r in figures.rows},
            "percents": {r.key: str(r.deduction_percent) for r in figures.rows if r.deducted},
            "scores": {r.key: str(r.recheck) for r in figures.rows if r.recheck is not None},
            "reasons_missing": [r.key for r in figures.reasons_missing],
            "invalid": sorted(form.errors),
        }
    )


def _transition(request: HttpRequest, pk: int, transition) -> HttpResponse:
    _finance(request)
    recheck = _recheck(pk)
    try:
        services.recheck_transition_run(transition, recheck=recheck, user=request.user)
    except services.TransitionError as exc:
        messages.error(request, exc.message)
    return redirect("rechecks:detail", pk=pk)


@login_required
@require_POST
def recheck_start(request: HttpRequest, pk: int) -> HttpResponse:
    return _transition(request, pk, services.START)


@login_required
@require_GET
def recheck_report(request: HttpRequest) -> HttpResponse:
    """One department's re-checks of a year, as a PDF (/rechecks/report/?year=&department=)."""
    _finance(request)
    year = _year(request)
    department = get_object_or_404(Department, pk=parse_id(request.GET.get("department")) or 0)
    rechecks = selectors.rechecks_for_year(year).filter(evaluation__department=department)
    entries = [
        (rc, selectors.recheck_compute(rc)) for rc in rechecks.prefetch_related("rows__rule")
    ]
    year_deductions = report.year_deductions(year)
    html = render_to_string(
        "rechecks/report_pdf.html",
        {
            "year": year,
            "department": department,
            "entries": entries,
            "deductions": [d for d in year_deductions if d.department == department.name],
            "rule_counts": report.counts_by_rule(year_deductions, department.name),
        },
    )
    response = HttpResponse(render_html_pdf(html), content_type=PDF_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition(
        _("%(year)s年复核报告-%(department)s.pdf") % {"year": year, "department": department.name},
        f"recheck-{year}-{department.pk}.pdf",
    )
    return response


@login_required
@require_GET
def recheck_report_xlsx(request: HttpRequest) -> HttpResponse:
    """The year's deductions with their rules, and their counts by rule per department (.xlsx)."""
    _finance(request)
    year = _year(request)
    response = HttpResponse(report.report_xlsx(year), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition(
        _("%(year)s年复核扣分统计.xlsx") % {"year": year}, f"recheck-{year}.xlsx"
    )
    return response


# --- the rule sets (复核口径) ------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def rule_set_list(request: HttpRequest) -> HttpResponse:
    """The rule sets, which campaigns use them; POST copies one into a new set."""
    _finance(request)
    copy_form = RuleSetCopyForm(request.POST or None)
    if request.method == "POST" and copy_form.is_valid():
        source = get_object_or_404(RecheckRuleSet, pk=parse_id(request.POST.get("source")) or 0)
        copy = rule_sets.rule_set_copy(
            rule_set=source, name=copy_form.cleaned_data["name"], user=request.user
        )
        messages.success(request, _("已复制为新的复核口径。"))
        return redirect("rechecks:rule_set", rule_set_pk=copy.pk)
    sets = RecheckRuleSet.objects.prefetch_related("campaigns").order_by("pk")
    return render(
        request,
        "rechecks/rule_sets.html",
        {"rule_sets": sets, "copy_form": copy_form},
        status=400 if copy_form.is_bound and not copy_form.is_valid() else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def rule_set_detail(request: HttpRequest, rule_set_pk: int) -> HttpResponse:
    """One set: its settings (POST saves them), its rules, its history."""
    _finance(request)
    rule_set = get_object_or_404(RecheckRuleSet, pk=rule_set_pk)
    form = RuleSetForm(request.POST or None, instance=RecheckRuleSet.objects.get(pk=rule_set_pk))
    if request.method == "POST" and form.is_valid():
        if rule_sets.rule_set_update(rule_set=rule_set, user=request.user, data=form.cleaned_data):
            messages.success(request, _("复核口径已保存。"))
        return redirect("rechecks:rule_set", rule_set_pk=rule_set_pk)
    return render(
        request,
        "rechecks/rule_set.html",
        {
            "rule_set": rule_set,
            "form": form,
            "rules": rule_set.rules.all(),
            "changes": rule_set.changes.select_related("actor"),
        },
        status=400 if form.is_bound else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, rule_set_pk: int, rule_pk: int | None = None) -> HttpResponse:
    """Add a rule to a set, or change one; a failed form keeps what was typed."""
    _finance(request)
    rule_set = get_object_or_404(RecheckRuleSet, pk=rule_set_pk)
    rule = get_object_or_404(RecheckRule, pk=rule_pk, rule_set=rule_set) if rule_pk else None
    form = RuleForm(request.POST or None, instance=rule, rule_set=rule_set)
    if request.method == "POST" and form.is_valid():
        rule_sets.rule_save(rule_set=rule_set, user=request.user, rule=form.instance)
        messages.success(request, _("复核口径条目已保存。"))
        return redirect("rechecks:rule_set", rule_set_pk=rule_set_pk)
    return render(
        request,
        "rechecks/rule_edit.html",
        {"rule_set": rule_set, "rule": rule, "form": form},
        status=400 if form.is_bound else 200,
    )
