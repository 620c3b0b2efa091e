"""``{{ user|person }}``: a person as pages name them (``departments.names.display_name``)."""

from __future__ import annotations

from typing import Any

from django import template

from departments.names import display_name

register = template.Library()


@register.filter
def person(user: Any) -> str:
    """The user's 姓名, else their username marked 未填写姓名; "" for nobody."""
    return display_name(user)
