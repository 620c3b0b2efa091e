"""The form renderer: Django's, with its plain input, text area and select written in Python.

A form page renders every input through a template of its own (the entry page: 170 widgets,
each an ``include`` of ``input.html`` and ``attrs.html``, about half a millisecond apiece).
These functions write the same HTML as Django's built-in widget templates
(``django/forms/templates/django/forms/widgets/``), character for character, escaping
as the template engine does; any other template goes to Django's renderer unchanged.
``tests/common/test_form_renderer.py`` compares the two on every kind of value.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, SafeString, mark_safe
from django.utils.timezone import template_localtime

WIDGETS = "django/forms/widgets/"
OPTION_TEMPLATE = WIDGETS + "select_option.html"


def _text(value: Any) -> str:
    """``{{ value }}``: what the template engine prints for a value (localised, escaped)."""
    if type(value) is str:
        # Most values: nothing to localise, and Django's escape() is html.escape() behind
        # a check for lazy strings.
        return html.escape(value)
    value = localize(template_localtime(value))
    if not issubclass(type(value), str):
        value = str(value)
    return conditional_escape(value)


def _formatted(value: Any) -> str:
    """``{{ value|stringformat:'s' }}``: the value as ``%s``, escaped unless it was safe."""
    try:
        text = "%s" % (str(value) if isinstance(value, tuple) else value)
    except (ValueError, TypeError):
        text = ""
    return _text(mark_safe(text) if isinstance(value, SafeData) else text)


def _attrs(attrs: Mapping[str, Any]) -> str:
    """``attrs.html``: `` name="value"`` for each attribute, `` name`` for True, none for False."""
    return "".join(
        f" {_text(name)}" if value is True else f' {_text(name)}="{_formatted(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _input(widget: Mapping[str, Any]) -> str:
    """``input.html`` (and the text, hidden, number… templates that only include it)."""
    value = "" if widget["value"] is None else f' value="{_formatted(widget["value"])}"'
    return (
        f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"'
        f"{value}{_attrs(widget['attrs'])}>"
    )


def _textarea(widget: Mapping[str, Any]) -> str:
    """``textarea.html``: the value after a line break, as browsers drop the first one."""
    value = _text(widget["value"]) if widget["value"] else ""
    return f'<textarea name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>\n{value}</textarea>'


def _option(option: Mapping[str, Any]) -> str:
    """``select_option.html``, with the line break that ends the template file."""
    return (
        f'<option value="{_formatted(option["value"])}"{_attrs(option["attrs"])}>'
        f"{_text(option['label'])}</option>\n"
    )


def _select(widget: Mapping[str, Any]) -> str | None:
    """``select.html``; None when an option has a template of its own."""
    parts = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in group_choices:
            if option["template_name"] != OPTION_TEMPLATE:
                return None
            parts.append(f"\n  {_option(option)}")
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


# Django's templates that are ``{% include "django/forms/widgets/input.html" %}`` and nothing else.
_INPUTS = ["input", "text", "number", "email", "url", "color", "search", "tel", "password"]
_INPUTS += ["hidden", "date", "datetime", "time"]
WRITERS: dict[str, Callable[[Mapping[str, Any]], str | None]] = {
    **{f"{WIDGETS}{name}.html": _input for name in _INPUTS},
    WIDGETS + "textarea.html": _textarea,
    WIDGETS + "select.html": _select,
}


class WidgetRenderer(DjangoTemplates):
    """Django's form renderer; the common widgets are written without a template."""

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        """The widget's HTML, as Django's template for it would give (stripped, as it is)."""
        write = WRITERS.get(template_name)
        html = write(context["widget"]) if write is not None else None
        if html is None:
            return super().render(template_name, context, request=request)
        return SafeString(html.strip())
