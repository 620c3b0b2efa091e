"""Template context: the user's finished exports not yet seen (the menu's badge)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max
from django.http import HttpRequest

from exports.models import ExportJob, State


def export_news(request: HttpRequest) -> dict[str, Any]:
    """``export_news``: how many of the user's jobs finished unseen, and the newest one's id.

    One aggregate query per page for a signed-in user, none for anyone else.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"export_news": None}
    news = ExportJob.objects.filter(
        user=user, state__in=(State.DONE, State.FAILED), seen_at__isnull=True
    ).aggregate(count=Count("pk"), newest=Max("pk"))
    return {"export_news": news if news["count"] else None}
