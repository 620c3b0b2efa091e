"""Reads of the re-check: its rows, its figures, the threshold they are judged by."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db.models import QuerySet

from evaluations.models import Evaluation
from evaluations.rules import rules_for
from rechecks.models import Recheck, RecheckRow, RecheckRule, RecheckStatus
from rechecks.rule_sets import rule_set_for_year
from rechecks.scoring import RecheckFigures, RuleChoice, recheck_figures


def quality_threshold() -> Decimal:
    """settings.RECHECK_QUALITY_THRESHOLD as points; a bad value fails loudly."""
    try:
        value = Decimal(str(settings.RECHECK_QUALITY_THRESHOLD))
    except InvalidOperation as exc:
        raise ValueError(f"RECHECK_QUALITY_THRESHOLD: not a number: {exc}") from exc
    if value < 0:
        raise ValueError("RECHECK_QUALITY_THRESHOLD must not be negative")
    return value


def choice_of(rule: RecheckRule, percent: int | None = None) -> RuleChoice:
    return RuleChoice(
        rule_id=rule.pk,
        code=rule.code,
        wording=rule.wording,
        effect=rule.effect,
        percent=percent if rule.percent_list else None,
    )


def row_citation(row: RecheckRow) -> RuleChoice | None:
    """The rule a stored row's score was chosen by (None: typed)."""
    return choice_of(row.rule, row.percent) if row.rule_id is not None else None


def rule_choices(recheck: Recheck) -> list[RuleChoice]:
    """The rules a row may be scored by: the year's active rules, and any a row already cites."""
    rule_set = rule_set_for_year(recheck.evaluation.year)
    rules = list(rule_set.rules.filter(active=True)) if rule_set is not None else []
    cited = [r.rule for r in recheck.rows.all() if r.rule_id is not None]
    rules += [r for r in cited if r.pk not in {x.pk for x in rules}]
    choices = []
    for rule in rules:
        percents = rule.percent_list
        if percents:
            choices += [choice_of(rule, p) for p in percents]
        else:
            choices.append(choice_of(rule))
    return choices


def recheck_compute(recheck: Recheck) -> RecheckFigures:
    """The department's figures beside finance's, computed by the scoring engine."""
    rows = {r.key: r for r in recheck.rows.all()}
    return recheck_figures(
        recheck.evaluation.as_form_data(),
        scores={k: r.score for k, r in rows.items()},
        opinions={k: r.opinion for k, r in rows.items()},
        execution_score=recheck.execution_score,
        threshold=quality_threshold(),
        rules=rules_for(recheck.evaluation),
        cited={k: c for k, r in rows.items() if (c := row_citation(r)) is not None},
    )


def rechecks_for_year(year: int) -> QuerySet[Recheck]:
    return (
        Recheck.objects.filter(evaluation__year=year)
        .select_related("evaluation__department", "sample", "picked_by")
        .order_by("evaluation__department__name", "evaluation__project_name", "pk")
    )


def recheck_published(evaluation: Evaluation) -> tuple[Recheck, RecheckFigures] | None:
    """The re-check and its figures once 已复核, for whoever may read the form; else None.

    Before it is done the department sees nothing of it (not even that it was picked).
    """
    recheck = (
        Recheck.objects.filter(evaluation=evaluation, status=RecheckStatus.DONE)
        .prefetch_related("rows__rule")
        .first()
    )
    if recheck is None:
        return None
    return recheck, recheck_compute(recheck)
