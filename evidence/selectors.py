"""Reads: a form's evidence files, always through the form the user may see."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from evaluations import permissions, selectors
from evidence.models import FUNDING_ROW, EvidenceFile

if TYPE_CHECKING:
    from evaluations.models import Evaluation


def row_choices(evaluation: Evaluation) -> list[tuple[str, str]]:
    """Where a file may belong: the whole form, the funding block, or one indicator row."""
    choices = [("", str(_("整张表"))), (FUNDING_ROW, str(_("资金情况")))]
    for position, indicator in enumerate(evaluation.indicators.order_by("position"), start=1):
        choices.append(
            (
                indicator.key,
                str(_("第%(position)s行指标：%(name)s"))
                % {"position": position, "name": indicator.name},
            )
        )
    return choices


def row_labels(evaluation: Evaluation) -> dict[str, str]:
    return dict(row_choices(evaluation))


def evidence_get(*, user, pk: int, file_pk: int) -> EvidenceFile:  # noqa: ANN001
    """One file of a form the user may see (``evaluations.view``), or 404."""
    evaluation = selectors.evaluation_get(user=user, pk=pk)
    permissions.require_or_404(permissions.VIEW, user, evaluation)
    evidence = get_object_or_404(EvidenceFile, evaluation=evaluation, pk=file_pk)
    evidence.evaluation = evaluation
    return evidence


def evidence_list(*, evaluation: Evaluation) -> list[EvidenceFile]:
    """The form's files, each with ``row_label`` set, in the order of the form's rows."""
    labels = row_labels(evaluation)
    order = {key: i for i, key in enumerate(labels)}
    files = list(EvidenceFile.objects.filter(evaluation=evaluation))
    for f in files:
        f.row_label = labels.get(f.row, "")  # type: ignore[attr-defined]
    files.sort(key=lambda f: (order.get(f.row, len(order)), f.uploaded_at, f.pk))
    return files


def evidence_groups(*, evaluation: Evaluation) -> list[tuple[str, list[EvidenceFile]]]:
    """The files grouped by row, rows in the form's order: (row label, files)."""
    groups: dict[str, list[EvidenceFile]] = {}
    for f in evidence_list(evaluation=evaluation):
        groups.setdefault(f.row_label, []).append(f)  # type: ignore[attr-defined]
    return list(groups.items())
