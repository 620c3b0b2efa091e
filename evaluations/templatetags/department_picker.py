"""{% department_options %}: the <option>s of the department picker, built in Python.

With 200 departments a template loop comparing every value costs more than the rest of
the page; this tag writes the same markup in one pass (templates/includes/department_picker.html).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def department_options(
    choices: Iterable[tuple[Any, str]] | None = None,
    departments: Iterable[Any] | None = None,
    selected: Any = None,
) -> SafeString:
    """``<option>`` per department, ``selected`` (an id, as text or number) marked."""
    # A department's code (部门编码) goes in front of its name, so typing either finds it.
    pairs = list(choices) if choices else [(d.pk, d.label) for d in departments or ()]
    chosen = "" if selected is None else str(selected)
    return format_html_join(
        "",
        "{}",
        (
            (
                format_html(
                    '<option value="{}"{}>{}</option>',
                    value,
                    " selected" if str(value) == chosen else "",
                    name,
                ),
            )
            for value, name in pairs
        ),
    )
