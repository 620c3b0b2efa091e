"""``{{ total|grade }}``: the grade (优/良/中/差) of a computed total, for lists and queues."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template

from evaluations.core.grades import grade as grade_of

register = template.Library()


@register.filter
def grade(value: Any) -> str:
    """The grade of a total ("" without one or for a value that is not a number)."""
    if value is None or value == "":
        return ""
    try:
        total = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return ""
    return grade_of(total) or ""
