"""Reads of the re-check."""

from __future__ import annotations

from django.db.models import QuerySet

from rechecks.models import Recheck, RecheckStatus
from rechecks.scoring import RecheckFigures


def rechecks_for_year(year: int) -> QuerySet[Recheck]:
    return (
        Recheck.objects.filter(evaluation__year=year)
        .select_related("evaluation__department", "sample", "picked_by")
        .order_by("evaluation__department__name", "evaluation__project_name", "pk")
    )


def recheck_published(evaluation) -> tuple[Recheck, RecheckFigures] | None:
    """The re-check and its figures once 已复核, for whoever may read the form; else None.

    Before it is done the department sees nothing of it (not even that it was picked).
    """
    from rechecks.services import recheck_compute

    recheck = (
        Recheck.objects.filter(evaluation=evaluation, status=RecheckStatus.DONE)
        .prefetch_related("rows")
        .first()
    )
    if recheck is None:
        return None
    return recheck, recheck_compute(recheck)
