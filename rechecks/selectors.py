"""Reads of the re-check: its rows, its figures, the threshold they are judged by."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db.models import QuerySet

from evaluations.models import Evaluation
from evaluations.rules import rules_for
from rechecks.models import Recheck, RecheckStatus
from rechecks.scoring import RecheckFigures, recheck_figures


def quality_threshold() -> Decimal:
    """settings.RECHECK_QUALITY_THRESHOLD as points; a bad value fails loudly."""
    try:
        value = Decimal(str(settings.RECHECK_QUALITY_THRESHOLD))
    except InvalidOperation as exc:
        raise ValueError(f"RECHECK_QUALITY_THRESHOLD: not a number: {exc}") from exc
    if value < 0:
        raise ValueError("RECHECK_QUALITY_THRESHOLD must not be negative")
    return value


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
        .prefetch_related("rows")
        .first()
    )
    if recheck is None:
        return None
    return recheck, recheck_compute(recheck)
