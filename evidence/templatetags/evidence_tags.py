"""``{% evidence_section evaluation back="detail" %}``: the 佐证材料 section of a page."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from evaluations import permissions
from evaluations.review_selectors import evaluation_open_comments
from evidence.forms import upload_formset
from evidence.selectors import evidence_groups

register = template.Library()


@register.inclusion_tag("evidence/_section.html", takes_context=True)
def evidence_section(context: dict[str, Any], evaluation: Any, back: str = "detail") -> dict:
    """The form's files grouped by row; the upload form for those who may still change them."""
    user = context["request"].user
    can_change = evaluation.is_editable and permissions.allowed(permissions.EDIT, user, evaluation)
    groups = evidence_groups(evaluation=evaluation)
    # On the review page each file gets a comment box of the return form (``form=`` ties
    # it to that form although the section stands outside it); on the department's pages
    # the last return's comment on each file is shown beside it.
    return_form = context.get("return_form")
    returned = evaluation_open_comments(evaluation=evaluation)["evidence"] if groups else {}
    for _label, files in groups:
        for file in files:
            name = f"comment-evidence-{file.pk}"
            file.comment_field = None
            if return_form is not None and name in return_form.fields:
                return_form.fields[name].widget.attrs["form"] = "review-form"
                file.comment_field = return_form[name]
            file.review_comment = returned.get(file.pk)
    return {
        "evaluation": evaluation,
        "groups": groups,
        "can_change": can_change,
        "formset": upload_formset(evaluation) if can_change else None,
        "back": back,
        "max_file": settings.EVIDENCE_MAX_FILE_BYTES,
        "max_form": settings.EVIDENCE_MAX_FORM_BYTES,
        "csrf_token": context.get("csrf_token"),
    }
