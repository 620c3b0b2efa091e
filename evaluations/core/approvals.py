"""Which indicator row reports against which approved target (批复绩效目标) of the due list.

A row is the approved target with the same 一级, 二级 and 三级指标 (width and spaces aside;
a blank label continues the row above, as merged cells do in files). Each target is
matched by one row at most, in order, so a repeated name pairs up in turn. The match is
made from the texts only, never from a row key the browser sends back: a row deleted and
typed again is still the approved row, and an approved row whose names are gone is missing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import replace

from evaluations.core.evaluation_data import ApprovedTarget, FormData, IndicatorData

RowId = tuple[str, str, str]


def _norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text or "").split())


def row_ids(rows: Sequence[IndicatorData | ApprovedTarget]) -> list[RowId]:
    """(一级, 二级, 三级) of each row, normalised, with blank labels continuing the row above."""
    ids = []
    level1 = level2 = ""
    for row in rows:
        own1, own2 = _norm(row.level1), _norm(row.level2)
        if own1 and own1 != level1:
            level2 = ""  # a new first level does not inherit the old second level
        level1 = own1 or level1
        level2 = own2 or level2
        ids.append((level1, level2, _norm(row.name)))
    return ids


def match_targets(
    rows: Sequence[IndicatorData], targets: Sequence[ApprovedTarget]
) -> list[int | None]:
    """For each row, the index of the approved target it reports against (None: an added row)."""
    available: dict[RowId, list[int]] = {}
    for index, target_id in enumerate(row_ids(targets)):
        available.setdefault(target_id, []).append(index)
    return [
        (found.pop(0) if (found := available.get(row_id)) else None) for row_id in row_ids(rows)
    ]


def with_approved_targets(data: FormData, targets: Sequence[ApprovedTarget]) -> FormData:
    """A copy of ``data`` that reports against ``targets``: each row carries its target's values."""
    matches = match_targets(data.indicators, targets)
    rows = [
        replace(
            ind,
            approved_target=targets[at].target if at is not None else "",
            approved_weight=targets[at].weight if at is not None else None,
        )
        for ind, at in zip(data.indicators, matches, strict=True)
    ]
    return replace(data, indicators=rows, approved_targets=list(targets))


def missing_targets(data: FormData) -> list[ApprovedTarget]:
    """The approved targets no row of ``data`` reports against (deleted or renamed rows)."""
    targets = data.approved_targets or []
    matched = set(match_targets(data.indicators, targets))
    return [t for index, t in enumerate(targets) if index not in matched]
