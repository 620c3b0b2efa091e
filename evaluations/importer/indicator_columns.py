"""Indicator tables of other templates: a split target, weights in the label, hint rows.

Counties print the same indicator table in other shapes. What this module reads:

- 年度指标值 split under a two-row header into 指标性质 (≥ ＞ = ═ ≤ ＜ 定性) / 指标值 /
  度量单位: the three cells are combined into one target text ("≥95%"), so scoring
  reads comparator, number and unit as it does for a one-column target.
- Column names with a letter mark (年初目标值(A), 实际完成值(B)) are read without it.
- A first level with its weight in the label ("产出指标(70分)") is read as 产出指标; the
  stated weight is checked against the sum of its rows' weights.
- "指标1：" before an indicator's name is kept as written (the sample forms store it so);
  a "……" row is skipped; the hint rows an unfilled template carries ("（填写说明…）", "例：…") are reported and not read.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from common.translation import _
from evaluations.core.evaluation_data import IndicatorData
from evaluations.core.values import COMPARATORS, parse_value
from evaluations.importer.cells import Row, clean_cell, row_snippet
from evaluations.importer.results import Problem

# Header cells of a split target, and the field each names.
SPLIT_TARGET_COLUMNS = {
    "指标性质": "comparator",
    "度量单位": "unit",
    "计量单位": "unit",
}
# A letter that marks a column for a formula: 年初目标值(A), 实际完成值(B), 执行率(B/A).
_COLUMN_MARK = re.compile(r"\([A-Za-z][A-Za-z/+\-*×]*\)$")
# 指标性质 as written (after NFKC) -> the comparator written into the target; 定性: none.
_NATURES = {
    ">=": "≥",
    "≥": "≥",
    "≧": "≥",
    "⩾": "≥",
    ">": ">",
    "=": "=",
    "═": "=",
    "==": "=",
    "<=": "≤",
    "≤": "≤",
    "≦": "≤",
    "⩽": "≤",
    "<": "<",
    "定性": "",
    "定量": "",
}
_LEVEL1_WEIGHT = re.compile(r"^(?P<label>.+?指标)\(?(?P<weight>\d+(?:\.\d+)?)分?\)?$")
_ELLIPSIS = re.compile(r"^[.…。·]+$")
_HINT = re.compile(r"^(?:例|例如|示例|举例)\d*[:：]|填写说明|填报说明|^\(.{0,30}(?:填写|填报)")


def column_name(norm: str) -> str:
    """Return a header cell's name without its formula mark (年初目标值(A) → 年初目标值)."""
    return _COLUMN_MARK.sub("", norm)


def split_target_header(
    columns: dict[str, int] | None, header_norms: list[str], norms: list[str], width: int
) -> tuple[dict[str, int], int] | None:
    """The columns and width once a second header row splits 年度指标值 into its parts.

    ``header_norms`` is the first header row, where 年度指标值 spans the parts. Merged cells
    may have disappeared from either row, so the parts are placed from 年度指标值 on, and the
    columns after it move right by as many cells as the first row lacks.
    """
    if columns is None or "target" not in columns:
        return None
    if "comparator" in columns or "unit" in columns:
        return None  # split already: a repeated second row changes nothing
    parts = [n for n in norms if n]
    if not is_split_header_row(norms):
        return None
    fields = []
    for norm in parts:
        field = SPLIT_TARGET_COLUMNS.get(norm) or ("target" if norm == "指标值" else None)
        if field is None or field in fields:
            return None
        fields.append(field)
    if "target" not in fields:
        return None
    parent = columns["target"]
    blanks = 0
    for norm in header_norms[parent + 1 : parent + len(fields)]:
        if norm:
            break
        blanks += 1
    shift = len(fields) - 1 - blanks
    moved = {field: (at + shift if at > parent else at) for field, at in columns.items()}
    for offset, field in enumerate(fields):
        moved[field] = parent + offset
    return moved, max(width + shift, max(moved.values()) + 1)


def is_split_header_row(norms: list[str]) -> bool:
    """Whether the row is the second header row of a split target (指标性质 / 指标值 / 度量单位)."""
    parts = [n for n in norms if n]
    return any(n in SPLIT_TARGET_COLUMNS for n in parts) and all(
        n in SPLIT_TARGET_COLUMNS or n == "指标值" for n in parts
    )


def combined_target(nature: str, value: str, unit: str) -> tuple[str, str | None]:
    """The target text of a split target, and the 指标性质 not understood (None if it was)."""
    nature, value, unit = clean_cell(nature), clean_cell(value), clean_cell(unit)
    key = "".join(unicodedata.normalize("NFKC", nature).split())
    comparator = _NATURES.get(key)
    unknown = None
    if comparator is None:
        # Kept as written in front of the value: nothing the department wrote is dropped.
        comparator, unknown = nature, nature
    if not value:
        # An unknown 指标性质 with no value may be the target itself, written one cell left.
        return (f"{nature}{unit}", unknown) if unknown else ("", None)
    if parse_value(value).comparator or value.startswith(COMPARATORS):
        comparator = ""  # the value carries its own comparator
    if unit and value.endswith(unit):
        unit = ""
    return f"{comparator}{value}{unit}", unknown


def split_level1_weight(label: str) -> tuple[str, Decimal | None]:
    """A first-level label without the weight written into it: 产出指标(70分) → 产出指标, 70."""
    key = "".join(unicodedata.normalize("NFKC", label).split())
    match = _LEVEL1_WEIGHT.match(key)
    if match is None or match.group("label") == key:
        return label, None
    try:
        return match.group("label"), Decimal(match.group("weight"))
    except InvalidOperation:  # pragma: no cover - the pattern admits digits only
        return label, None


def level1_weight_problems(
    stated: dict[str, tuple[Decimal, int | None]], indicators: list[IndicatorData]
) -> list[Problem]:
    """A problem for each first level whose stated weight is not the sum of its rows'."""
    problems = []
    for label, (weight, line) in stated.items():
        total = sum((i.weight or Decimal(0) for i in indicators if i.level1 == label), Decimal(0))
        if total != weight:
            problems.append(
                Problem(
                    line,
                    _(
                        "一级指标“%(label)s”标明%(stated)s分，其下各指标分值之和为%(sum)s分，"
                        "两者不一致：请核对分值。"
                    )
                    % {"label": label, "stated": _plain(weight), "sum": _plain(total)},
                )
            )
    return problems


def _plain(value: Decimal) -> str:
    """A weight as a person writes it: 70, 12.5."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def is_ellipsis_row(norms: list[str]) -> bool:
    """Whether the row only says that more rows could follow ("……")."""
    filled = [n for n in norms if n]
    return bool(filled) and all(_ELLIPSIS.match(n) for n in filled)


def hint_problem(row: Row, norms: list[str]) -> Problem | None:
    """The problem of a template's hint row ("（填写说明…）", "例：…"), if the row is one."""
    if not any(_HINT.search(n) for n in norms if n):
        return None
    return Problem(
        row.line,
        _("本行是表样的填写说明或示例，未作为指标读取：%(text)s")
        % {"text": row_snippet(row.cells)},
    )
