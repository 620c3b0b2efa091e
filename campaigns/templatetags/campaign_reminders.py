"""``{% unread_reminders as reminders %}``: the signed-in user's unread reminders."""

from __future__ import annotations

from typing import Any

from django import template

from campaigns.reminders import reminder_text
from campaigns.reminders import unread_reminders as _unread

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_reminders(context: dict[str, Any]) -> list[dict[str, Any]]:
    """The reminders of ``request.user`` not yet read, each with its text."""
    request = context.get("request")
    if request is None:
        return []
    return [{"reminder": r, "text": reminder_text(r)} for r in _unread(request.user)]
