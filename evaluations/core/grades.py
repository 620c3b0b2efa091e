"""The grade of a total score (等级), per the national rules for performance evaluation.

90 (inclusive) to 100 优, 80 to 90 良, 60 to 80 中, below 60 差: each lower bound belongs to
the better grade. The graded figure is the *computed* total (what the scoring rules give,
``ScoreResult.computed_total`` / ``Evaluation.computed_total``), not the total the department
stated: a stated total that differs is a finding of its own, and grading it would let a
wrong sum buy a better grade. A re-check total is graded the same way. Pure: no database.
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal

from django.utils.translation import gettext_lazy

EXCELLENT = "excellent"
GOOD = "good"
FAIR = "fair"
POOR = "poor"

# (key, lower bound inclusive, label), best first.
GRADES: tuple[tuple[str, Decimal, object], ...] = (
    (EXCELLENT, Decimal("90"), gettext_lazy("优")),
    (GOOD, Decimal("80"), gettext_lazy("良")),
    (FAIR, Decimal("60"), gettext_lazy("中")),
    (POOR, Decimal("-Infinity"), gettext_lazy("差")),
)
GRADE_KEYS = tuple(key for key, _low, _label in GRADES)
# The lower bounds of 优, 良, 中 (queries count with them: see ``grade_conditions``).
BOUNDS: dict[str, Decimal] = {key: low for key, low, _label in GRADES if low.is_finite()}


def grade_key(total: Decimal | None) -> str | None:
    """The grade's key (excellent, good, fair, poor) of a total; None without a total."""
    if total is None:
        return None
    for key, low, _label in GRADES:
        if total >= low:
            return key
    return POOR  # pragma: no cover - -Infinity is below every Decimal total


def grade_label(key: str | None) -> str | None:
    """The printed label (优, 良, 中, 差) of a grade key; None for none."""
    for name, _low, label in GRADES:
        if name == key:
            return str(label)
    return None


def grade(total: Decimal | None) -> str | None:
    """The grade of a computed total: 优, 良, 中 or 差 (None without a total)."""
    return grade_label(grade_key(total))


def grade_ranges() -> list[tuple[str, Decimal | None, Decimal | None]]:
    """Each grade with its bounds (lower inclusive, upper exclusive; None = open), best first."""
    ranges: list[tuple[str, Decimal | None, Decimal | None]] = []
    upper: Decimal | None = None
    for key, low, _label in GRADES:
        ranges.append((key, low if low.is_finite() else None, upper))
        upper = low
    return ranges


def is_grade_text(text: str) -> bool:
    """True for a grade as the total row prints it (等级：良, 等级:良, or 良 alone)."""
    norm = "".join(unicodedata.normalize("NFKC", text or "").split())
    labels = {str(label) for _key, _low, label in GRADES}
    for prefix in GRADE_PREFIXES:
        norm = norm.removeprefix(prefix).lstrip(":")
    return norm in labels


# What may precede the label in a grade cell (the total row's 等级：, as printed).
GRADE_PREFIXES = ("等级",)
