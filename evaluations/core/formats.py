"""The number formats of the printed form, one definition for every rendering.

万元 with at least two and at most four decimals, points without trailing zeros and
percentages with two decimals. The web pages, the PDF, the Excel export, the live
scoring JSON and the findings' messages all print numbers through these functions.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import Any

_TWO_PLACES = Decimal("0.01")
_FOUR_PLACES = Decimal("0.0001")
_HUNDRED = Decimal(100)
# Wide enough that quantizing an absurd imported figure cannot raise InvalidOperation.
_WIDE = Context(prec=100)
BLANK_PERCENT = "—"


def to_decimal(value: Any) -> Decimal | None:
    """A Decimal from a Decimal, number or numeric text; None for blank or non-numbers."""
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        number = value
    else:
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            return None
    return number if number.is_finite() else None


def _round(value: Decimal, places: Decimal) -> Decimal:
    return value.quantize(places, rounding=ROUND_HALF_UP, context=_WIDE)


def _plain(value: Decimal) -> str:
    text = f"{value:f}"
    return "0" if text.lstrip("-").strip("0.") == "" else text


def format_money(value: Any) -> str:
    """万元 as printed: 70 -> "70.00", 57.5500 -> "57.55", 1.23456 -> "1.2346"; blank -> ""."""
    number = to_decimal(value)
    if number is None:
        return ""
    rounded = _round(number, _FOUR_PLACES).normalize(context=_WIDE)
    exponent = rounded.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        rounded = _round(rounded, _TWO_PLACES)
    text = f"{rounded:f}"
    return "0.00" if text.lstrip("-") in ("0.00", "0") else text


def format_points(value: Any) -> str:
    """Weights and scores without trailing zeros: 10.00 -> "10", 8.20 -> "8.2"; -0 -> "0"."""
    number = to_decimal(value)
    if number is None:
        return ""
    return _plain(_round(number, _TWO_PLACES).normalize(context=_WIDE))


def format_percent(rate: Any, blank: str = BLANK_PERCENT) -> str:
    """A fraction as a percentage with two decimals: 0.822142 -> "82.21%"; None -> "—"."""
    number = to_decimal(rate)
    if number is None:
        return blank
    return f"{_round(number * _HUNDRED, _TWO_PLACES):f}%"
