"""Shaping a form for display in the official layout (merged category cells, findings per row)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from evaluations.core.formdata import FormData, IndicatorData
from evaluations.core.scoring import Finding, ScoreResult


@dataclass
class OfficialRow:
    """One indicator row of the printed table; a span of 0 means "merged into the row above"."""

    number: int  # 1-based
    indicator: IndicatorData
    level1: str
    level1_span: int
    level2: str
    level2_span: int
    findings: list[Finding] = field(default_factory=list)


def official_indicator_rows(form: FormData, result: ScoreResult | None = None) -> list[OfficialRow]:
    """Indicator rows with 一级/二级指标 merged by rowspan, as on the printed form.

    A blank 一级 or 二级 label continues the group above it (the seed files omit repeated
    labels), so it is merged rather than shown as an empty cell.
    """
    rows: list[OfficialRow] = []
    level1 = level2 = ""
    head1: OfficialRow | None = None
    head2: OfficialRow | None = None
    for index, ind in enumerate(form.indicators):
        label1 = ind.level1.strip() or level1
        label2 = ind.level2.strip() or (level2 if label1 == level1 else "")
        row = OfficialRow(
            number=index + 1,
            indicator=ind,
            level1=label1,
            level1_span=1,
            level2=label2,
            level2_span=1,
            findings=result.findings_for_indicator(index) if result is not None else [],
        )
        if head1 is not None and label1 == level1:
            head1.level1_span += 1
            row.level1_span = 0
            if head2 is not None and label2 == level2:
                head2.level2_span += 1
                row.level2_span = 0
            else:
                head2 = row
        else:
            head1 = head2 = row
        level1, level2 = label1, label2
        rows.append(row)
    return rows


def finding_json(finding: Finding, row_numbers: list[int] | None = None) -> dict[str, Any]:
    """A finding for the page's script; ``row`` is the formset row it concerns."""
    data = finding.as_dict()
    row = None
    if finding.indicator is not None and row_numbers is not None:
        if 0 <= finding.indicator < len(row_numbers):
            row = row_numbers[finding.indicator]
    data["row"] = row
    return data
