"""Template filters of the printed form's number formats (``core.formats``)."""

from __future__ import annotations

from typing import Any

from django import template

from evaluations.core import formats
from evaluations.core.layout import FUNDING_COLUMNS, funding_headings, heading_text, level_cells

register = template.Library()


@register.filter
def money(value: Any) -> str:
    """万元 as printed: 70 -> "70.00", 57.5500 -> "57.55", 1.2345 -> "1.2345"; blank stays blank."""
    return formats.format_money(value)


@register.filter
def points(value: Any) -> str:
    """Weights and scores without trailing zeros: 10.00 -> "10", 8.20 -> "8.2"."""
    return formats.format_points(value)


@register.filter
def percent(value: Any) -> str:
    """A fraction as a percentage with two decimals: 0.822142 -> "82.21%"."""
    return formats.format_percent(value)


@register.filter
def item(mapping: Any, key: Any) -> Any:
    """``mapping[key]``, or None: a value looked up by a key the template holds."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def funding_heading(col: int) -> str:
    """The heading of a funding column (年初预算数 … 得分) by its grid column; "" elsewhere.

    The edit page labels its funding cells with it on a phone, where the heading row is
    not above them.
    """
    headings = funding_headings()
    index = int(col) - min(FUNDING_COLUMNS.values())
    return headings[index] if 0 <= index < len(headings) else ""


@register.filter
def heading_of(cell: Any, heading: Any) -> str:
    """``{{ cell|heading_of:heading }}``: the heading row's text above the cell's column."""
    return heading_text(heading, cell)


@register.filter
def levels_of(row: Any, section: Any) -> list:
    """``{% for cell in row|levels_of:section %}``: the 一级/二级指标 cells covering the row."""
    return level_cells(section, row)
