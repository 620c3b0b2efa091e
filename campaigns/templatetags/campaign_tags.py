"""Template helpers of the campaign include (``{% load campaign_tags %}``)."""

from __future__ import annotations

import datetime
from typing import Any

from django import template

from campaigns.models import Campaign

register = template.Library()


@register.filter
def deadline_for(campaign: Campaign | None, department: Any) -> datetime.date | None:
    """The department's own deadline (its latest extension), else the campaign's."""
    if campaign is None:
        return None
    return campaign.deadline_for(department or None)
