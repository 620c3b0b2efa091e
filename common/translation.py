"""Translation for code that may also run without Django set up (the parsers, scripts)."""

from __future__ import annotations

from django.core.exceptions import AppRegistryNotReady, ImproperlyConfigured
from django.utils.translation import gettext


def _(message: str) -> str:
    """Translate a user-facing message (named `_` so makemessages finds the strings)."""
    try:
        return gettext(message)
    except (ImproperlyConfigured, AppRegistryNotReady):
        # The parser is pure and may run from a script without Django set up:
        # the Chinese source text is then the message.
        return message
