"""History as data: the changes between two snapshots, and how a stored change is shown.

A change is stored as field keys and values only, never labels, so the history can be
re-worded or translated after it was written:

- header: ``{"section": "header", "field": "stated_total", "old": "100", "new": "99.24"}``
- funding: ``{"section": "funding", "row": "total", "field": "executed", "old": .., "new": ..}``
- indicator value: ``{"section": "indicator", "row": <key>, "position": 3, "field": "weight",
  "old": "5", "new": "10"}`` (``position``: the row's 1-based place after the change)
- indicator row: ``{"section": "indicator", "row": <key>, "change": "added" | "removed" |
  "moved", "from": 2, "to": 1, "name": <三级指标>}`` (``from`` absent for an added row,
  ``to`` for a removed one)

Rows are matched by their key, so moving a row is one change however many rows shift.
Events written before keys existed have another shape (``{"field": "indicators.3.name",
"label": .., "old": .., "new": ..}``); ``describe_change`` reads both and ignores stored
labels. Everything here is pure: no database.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from evaluations.core.fields import (
    FUNDING,
    FUNDING_FIELDS,
    FUNDING_ORDER,
    FUNDING_ROW_LABELS,
    HEADER,
    HEADER_FIELDS,
    INDICATOR,
    INDICATOR_FIELDS,
)

HEADER_SECTION = "header"
FUNDING_SECTION = "funding"
INDICATOR_SECTION = "indicator"
EVIDENCE_SECTION = "evidence"  # evidence files (evidence/services.py)
ADDED, REMOVED, MOVED = "added", "removed", "moved"

Snapshot = dict[str, Any]
Change = dict[str, Any]


# --- diff ---------------------------------------------------------------------------------


def diff_snapshots(old: Snapshot | None, new: Snapshot) -> list[Change]:
    """The changes from ``old`` to ``new`` (snapshots with keys; see the module docstring).

    ``old`` may come from a version stored before rows had keys: its rows are then matched
    to the new rows by their names (一级, 二级, 三级指标), the rest by position.
    """
    old = old or {}
    changes: list[Change] = []
    for f in HEADER_FIELDS:
        if old.get(f.key) != new.get(f.key):
            changes.append(
                {
                    "section": HEADER_SECTION,
                    "field": f.key,
                    "old": old.get(f.key),
                    "new": new.get(f.key),
                }
            )
    old_funding = {row["kind"]: row for row in old.get("funding", [])}
    new_funding = {row["kind"]: row for row in new.get("funding", [])}
    for kind in FUNDING_ORDER:
        before, after = old_funding.get(kind, {}), new_funding.get(kind, {})
        for f in FUNDING_FIELDS:
            if before.get(f.key) != after.get(f.key):
                changes.append(
                    {
                        "section": FUNDING_SECTION,
                        "row": str(kind),
                        "field": f.key,
                        "old": before.get(f.key),
                        "new": after.get(f.key),
                    }
                )
    changes.extend(_diff_indicators(old.get("indicators", []), new.get("indicators", [])))
    return changes


def _identities(old_rows: list[Snapshot], new_rows: list[Snapshot]) -> list[str]:
    """The key each old row goes by: its own, or (old versions) that of the new row it matches."""
    if all(row.get("key") for row in old_rows):
        return [row["key"] for row in old_rows]
    names = lambda row: (row.get("level1"), row.get("level2"), row.get("name"))  # noqa: E731
    taken: set[int] = set()
    matched: list[int | None] = []
    for row in old_rows:
        j = next(
            (j for j, r in enumerate(new_rows) if j not in taken and names(r) == names(row)), None
        )
        if j is not None:
            taken.add(j)
        matched.append(j)
    for i, j in enumerate(matched):
        if j is None and i < len(new_rows) and i not in taken:
            taken.add(i)
            matched[i] = i
    return [
        new_rows[j].get("key") or f"#new{j}" if j is not None else f"#old{i}"
        for i, j in enumerate(matched)
    ]


def _new_identities(new_rows: list[Snapshot]) -> list[str]:
    return [row.get("key") or f"#new{j}" for j, row in enumerate(new_rows)]


def _stable(sequence: list[int]) -> set[int]:
    """The values of a longest increasing subsequence: the rows that did not move."""
    tails: list[int] = []  # index into sequence of the smallest tail of each length
    previous: list[int | None] = [None] * len(sequence)
    for i, value in enumerate(sequence):
        lo, hi = 0, len(tails)
        while lo < hi:
            mid = (lo + hi) // 2
            if sequence[tails[mid]] < value:
                lo = mid + 1
            else:
                hi = mid
        previous[i] = tails[lo - 1] if lo else None
        if lo == len(tails):
            tails.append(i)
        else:
            tails[lo] = i
    kept: set[int] = set()
    k = tails[-1] if tails else None
    while k is not None:
        kept.add(sequence[k])
        k = previous[k]
    return kept


def _row_key(identity: str) -> str:
    return "" if identity.startswith("#") else identity


def _diff_indicators(old_rows: list[Snapshot], new_rows: list[Snapshot]) -> list[Change]:
    old_ids = _identities(old_rows, new_rows)
    new_ids = _new_identities(new_rows)
    old_at = {identity: i for i, identity in enumerate(old_ids)}
    new_set = set(new_ids)
    # Rows present on both sides, in their new order, by old place: those outside the
    # longest run kept in order are the ones that moved.
    stayed = _stable([old_at[identity] for identity in new_ids if identity in old_at])
    changes: list[Change] = []
    for j, identity in enumerate(new_ids):
        after = new_rows[j]
        row = {"section": INDICATOR_SECTION, "row": _row_key(identity)}
        i = old_at.get(identity)
        if i is None:
            changes.append({**row, "change": ADDED, "to": j + 1, "name": after.get("name")})
            continue
        before = old_rows[i]
        if i not in stayed:
            changes.append(
                {**row, "change": MOVED, "from": i + 1, "to": j + 1, "name": after.get("name")}
            )
        for f in INDICATOR_FIELDS:
            if before.get(f.key) != after.get(f.key):
                changes.append(
                    {
                        **row,
                        "position": j + 1,
                        "field": f.key,
                        "old": before.get(f.key),
                        "new": after.get(f.key),
                    }
                )
    for i, identity in enumerate(old_ids):
        if identity not in new_set:
            changes.append(
                {
                    "section": INDICATOR_SECTION,
                    "row": _row_key(identity),
                    "change": REMOVED,
                    "from": i + 1,
                    "name": old_rows[i].get("name"),
                }
            )
    return changes


# --- display ------------------------------------------------------------------------------


def normalise_change(change: Change) -> Change:
    """A stored change in the current shape; events written before keys existed are converted.

    Old events: {"field": "stated_total" | "funding.<kind>.<field>" | "indicators.<n>" |
    "indicators.<n>.<field>", "label", "old", "new", "row"}; their labels are dropped.
    """
    if "section" in change:
        return change
    field = str(change.get("field") or "")
    old, new = change.get("old"), change.get("new")
    parts = field.split(".")
    if parts[0] == "funding" and len(parts) == 3:
        return {
            "section": FUNDING_SECTION,
            "row": parts[1],
            "field": parts[2],
            "old": old,
            "new": new,
        }
    if parts[0] == "indicators" and len(parts) in (2, 3) and parts[1].isdigit():
        position = int(parts[1])
        row = {"section": INDICATOR_SECTION, "row": ""}
        if len(parts) == 3:
            return {**row, "position": position, "field": parts[2], "old": old, "new": new}
        if old is None:
            return {**row, "change": ADDED, "to": position, "name": new}
        return {**row, "change": REMOVED, "from": position, "name": old}
    return {"section": HEADER_SECTION, "field": field, "old": old, "new": new}


def _indicator_label(position: Any, field_label: Any) -> str:
    return _("第%(position)s行指标·%(label)s") % {"position": position, "label": field_label}


def describe_change(change: Change) -> dict[str, Any]:
    """A stored change as shown: {"label", "old", "new"}, the label from the catalogue."""
    c = normalise_change(change)
    section, field = c["section"], c.get("field", "")
    if section == EVIDENCE_SECTION:
        # {"section": "evidence", "change": "added" | "removed", "name", "row"}
        row = c.get("row") or ""
        where = "" if not row else _("（资金情况）") if row == "funding" else _("（指标行）")
        if c.get("change") == REMOVED:
            return {"label": _("佐证材料（删除）") + where, "old": c.get("name"), "new": None}
        return {"label": _("佐证材料（新增）") + where, "old": None, "new": c.get("name")}
    if section == FUNDING_SECTION:
        row = FUNDING_ROW_LABELS.get(c.get("row", ""), c.get("row", ""))
        label = f"{row}·{FUNDING[field].label if field in FUNDING else field}"
        return {"label": label, "old": c.get("old"), "new": c.get("new")}
    if section == INDICATOR_SECTION:
        kind = c.get("change")
        if kind == ADDED:
            label = _("第%(position)s行指标（新增）") % {"position": c.get("to")}
            return {"label": label, "old": None, "new": c.get("name")}
        if kind == REMOVED:
            label = _("第%(position)s行指标（删除）") % {"position": c.get("from")}
            return {"label": label, "old": c.get("name"), "new": None}
        if kind == MOVED:
            label = _("指标“%(name)s”（移动）") % {"name": c.get("name") or ""}
            return {
                "label": label,
                "old": _("第%(position)s行") % {"position": c.get("from")},
                "new": _("第%(position)s行") % {"position": c.get("to")},
            }
        field_label = INDICATOR[field].label if field in INDICATOR else field
        return {
            "label": _indicator_label(c.get("position"), field_label),
            "old": c.get("old"),
            "new": c.get("new"),
        }
    label = HEADER[field].label if field in HEADER else field
    return {"label": str(label), "old": c.get("old"), "new": c.get("new")}
