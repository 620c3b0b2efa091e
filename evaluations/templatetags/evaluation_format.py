"""Number formats of the printed form: 万元 with two decimals, points, percentages."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template

from evaluations.core.scoring import format_percent

register = template.Library()

_CENTS = Decimal("0.01")


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


@register.filter
def money(value: Any) -> str:
    """万元 as printed: 70 -> "70.00", 57.5500 -> "57.55", 1.2345 -> "1.2345"; blank stays blank."""
    number = _decimal(value)
    if number is None:
        return ""
    if number == number.quantize(_CENTS):
        return f"{number.quantize(_CENTS):f}"
    return f"{number.normalize():f}"


@register.filter
def points(value: Any) -> str:
    """Weights and scores without trailing zeros: 10.00 -> "10", 8.20 -> "8.2"."""
    number = _decimal(value)
    if number is None:
        return ""
    text = f"{number.normalize():f}"
    return "0" if text == "-0" else text


@register.filter
def percent(value: Any) -> str:
    """A fraction as a percentage with two decimals: 0.822142 -> "82.21%"."""
    return format_percent(_decimal(value))
