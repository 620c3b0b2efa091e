"""Template context: the signed-in user's membership (shown in the navigation bar).

Templates do not decide rights from it: they ask the rules of ``evaluations.permissions``
with ``{% load rules %}{% test_rule "evaluations.review" user as can_review %}``.
Importing that module here registers the rules before any template asks them.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

import evaluations.permissions  # noqa: F401  (registers the rules {% test_rule %} asks)
from departments.roles import membership_of


def membership(request: HttpRequest) -> dict[str, Any]:
    """Expose the current user's membership as ``membership`` (for display only)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"membership": None}
    return {"membership": membership_of(user)}
