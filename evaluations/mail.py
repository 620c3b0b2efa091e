"""Mail to users: the one place a subject is made fit for a header and a send is tried.

Django refuses a line break in a subject (``BadHeaderError``) and an SMTP server may refuse
or be away; neither may break the step that asked for the mail. ``mail_send`` logs the
failure and says whether the mail went out, so a caller that keeps a record (reminders)
records only what was sent.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.core.mail import send_mail

from evaluations.core.safetext import one_line_subject

logger = logging.getLogger(__name__)


def mail_send(*, subject: str, body: str, recipients: Sequence[str]) -> bool:
    """Send one mail; False (and logged) when it could not be sent."""
    if not recipients:
        return False
    try:
        sent = send_mail(one_line_subject(subject), body, None, list(recipients))
    except Exception:  # noqa: BLE001 - any backend or server failure: logged, reported as False
        logger.exception(
            "mail %r to %d recipient(s) failed", one_line_subject(subject), len(recipients)
        )
        return False
    return sent > 0
