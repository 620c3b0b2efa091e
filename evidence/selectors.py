"""Reads: a form's evidence files, always through the form the user may see."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.shortcuts import get_object_or_404

from evaluations import permissions, selectors
from evidence.forms import row_labels
from evidence.models import EvidenceFile

if TYPE_CHECKING:
    from evaluations.models import Evaluation


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
