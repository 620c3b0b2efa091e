"""Canonical, JSON-ready snapshots of a form, for change detection and version diffs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from evaluations.core.formdata import FormData

MONEY_PLACES = Decimal("0.0001")
POINT_PLACES = Decimal("0.01")


def _dec(value: Decimal | None, places: Decimal) -> str | None:
    """Decimal as the database would store it, as a string without trailing zeros."""
    if value is None:
        return None
    q = value.quantize(places)
    text = format(q.normalize(), "f")
    return "0" if text in ("-0", "") else text


def snapshot(form: FormData) -> dict[str, Any]:
    """Return the form as plain data, rounded as the database stores it."""
    return {
        "year": form.year,
        "project_name": form.project_name,
        "department": form.department,
        "implementing_unit": form.implementing_unit,
        "goal_target": form.goal_target,
        "goal_actual": form.goal_actual,
        "execution_weight": _dec(form.execution_weight, POINT_PLACES),
        "execution_score": _dec(form.execution_score, POINT_PLACES),
        "stated_total": _dec(form.stated_total, POINT_PLACES),
        "funding": [
            {
                "kind": row.kind,
                "initial_budget": _dec(row.initial_budget, MONEY_PLACES),
                "annual_budget": _dec(row.annual_budget, MONEY_PLACES),
                "executed": _dec(row.executed, MONEY_PLACES),
            }
            for row in form.funding
        ],
        "indicators": [
            {
                "level1": ind.level1,
                "level2": ind.level2,
                "name": ind.name,
                "target": ind.target,
                "actual": ind.actual,
                "weight": _dec(ind.weight, POINT_PLACES) or "0",
                "score": _dec(ind.score, POINT_PLACES),
                "deviation": ind.deviation,
            }
            for ind in form.indicators
        ],
    }


HEADER_LABELS = {
    "year": "年度",
    "project_name": "项目名称",
    "department": "主管部门",
    "implementing_unit": "实施单位",
    "goal_target": "年度总体目标：预期目标",
    "goal_actual": "年度总体目标：实际完成情况",
    "execution_weight": "预算执行分值",
    "execution_score": "预算执行得分",
    "stated_total": "总分",
}
FUNDING_LABELS = {
    "total": "年度资金总额",
    "current_year": "当年财政拨款",
    "carryover": "上年结转资金",
    "other": "其他资金",
}
FUNDING_FIELD_LABELS = {
    "initial_budget": "年初预算数",
    "annual_budget": "全年预算数",
    "executed": "全年执行数",
}
INDICATOR_FIELD_LABELS = {
    "level1": "一级指标",
    "level2": "二级指标",
    "name": "三级指标",
    "target": "年度指标值",
    "actual": "实际完成值",
    "weight": "分值",
    "score": "得分",
    "deviation": "偏差原因分析及改进措施",
}


def diff_snapshots(old: dict[str, Any] | None, new: dict[str, Any]) -> list[dict[str, Any]]:
    """Field-by-field differences between two snapshots, indicator and funding rows included.

    Each change is {"field", "label", "old", "new", "row"}; labels are Chinese (they are
    stored in the history and shown as they were when recorded). Indicator rows are
    matched by position; ``row`` is the 1-based indicator position or the funding kind.
    """
    old = old or {}
    changes: list[dict[str, Any]] = []
    for key, label in HEADER_LABELS.items():
        if old.get(key) != new.get(key):
            changes.append(
                {
                    "field": key,
                    "label": label,
                    "old": old.get(key),
                    "new": new.get(key),
                    "row": None,
                }
            )
    old_funding = {row["kind"]: row for row in old.get("funding", [])}
    new_funding = {row["kind"]: row for row in new.get("funding", [])}
    for kind, kind_label in FUNDING_LABELS.items():
        before, after = old_funding.get(kind, {}), new_funding.get(kind, {})
        for key, label in FUNDING_FIELD_LABELS.items():
            if before.get(key) != after.get(key):
                changes.append(
                    {
                        "field": f"funding.{kind}.{key}",
                        "label": f"{kind_label}·{label}",
                        "old": before.get(key),
                        "new": after.get(key),
                        "row": kind,
                    }
                )
    old_rows, new_rows = old.get("indicators", []), new.get("indicators", [])
    for index in range(max(len(old_rows), len(new_rows))):
        before = old_rows[index] if index < len(old_rows) else None
        after = new_rows[index] if index < len(new_rows) else None
        position = index + 1
        if before is None and after is not None:
            changes.append(
                {
                    "field": f"indicators.{position}",
                    "label": f"第{position}行指标（新增）",
                    "old": None,
                    "new": after["name"],
                    "row": position,
                }
            )
            continue
        if after is None and before is not None:
            changes.append(
                {
                    "field": f"indicators.{position}",
                    "label": f"第{position}行指标（删除）",
                    "old": before["name"],
                    "new": None,
                    "row": position,
                }
            )
            continue
        for key, label in INDICATOR_FIELD_LABELS.items():
            if before.get(key) != after.get(key):
                changes.append(
                    {
                        "field": f"indicators.{position}.{key}",
                        "label": f"第{position}行指标·{label}",
                        "old": before.get(key),
                        "new": after.get(key),
                        "row": position,
                    }
                )
    return changes
