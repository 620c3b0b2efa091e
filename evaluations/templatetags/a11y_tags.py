"""Accessibility helpers for hand-written fields: labels, errors and hints tied to each input."""

from __future__ import annotations

from typing import Any

from django import template
from django.forms import BoundField
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def field_aria(field: BoundField, prefix: str = "") -> SafeString:
    """The id of a hand-written box, and with errors aria-invalid and aria-describedby.

    aria-describedby names the message's id ("<id>_error"), as Django does for the fields it
    renders; includes/field_errors.html writes the message with that id.
    """
    box = f"{prefix}{field.auto_id}"
    attrs = [("id", box)]
    if field.errors:
        attrs += [("aria-invalid", "true"), ("aria-describedby", f"{box}_error")]
    return format_html_join("", ' {}="{}"', attrs)


@register.simple_tag
def error_items(form: Any, crispy: bool = False) -> list[dict[str, str]]:
    """A bound form's errors for its summary: {"href", "label", "text"}, field by field.

    Errors of visible fields link to their box ("#<id>"); non-field errors (left out when
    crispy-forms draws the form: it shows them itself) and hidden fields' errors do not.
    """
    if form is None or not getattr(form, "is_bound", False):
        return []
    items = []
    if not crispy:
        items += [{"href": "", "label": "", "text": str(e)} for e in form.non_field_errors()]
    for field in form.hidden_fields():
        items += [{"href": "", "label": "", "text": str(e)} for e in field.errors]
    for field in form.visible_fields():
        items += [
            {"href": f"#{field.auto_id}", "label": str(field.label or ""), "text": str(e)}
            for e in field.errors
        ]
    return items
