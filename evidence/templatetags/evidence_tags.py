"""``{% evidence_section evaluation back="detail" %}``: the 佐证材料 section of a page."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from evaluations import permissions
from evidence.forms import upload_formset
from evidence.selectors import evidence_groups

register = template.Library()


@register.inclusion_tag("evidence/_section.html", takes_context=True)
def evidence_section(context: dict[str, Any], evaluation: Any, back: str = "detail") -> dict:
    """The form's files grouped by row; the upload form for those who may still change them."""
    user = context["request"].user
    can_change = evaluation.is_editable and permissions.allowed(permissions.EDIT, user, evaluation)
    return {
        "evaluation": evaluation,
        "groups": evidence_groups(evaluation=evaluation),
        "can_change": can_change,
        "formset": upload_formset(evaluation) if can_change else None,
        "back": back,
        "max_file": settings.EVIDENCE_MAX_FILE_BYTES,
        "max_form": settings.EVIDENCE_MAX_FORM_BYTES,
        "csrf_token": context.get("csrf_token"),
    }
