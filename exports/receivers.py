"""What the exports do when the form's workflow announces a step (evaluations/signals.py)."""

from __future__ import annotations

from typing import Any

from evaluations.models import Status
from exports import tasks
from exports.queueing import enqueue


def render_approved(sender: Any, *, evaluation_id: int, to_status: str, **kwargs: Any) -> None:
    """Queue the rendering of an approved form's PDF, so no download waits for it.

    A queue that is down is logged by ``enqueue``, not raised into the approval: the hourly
    ``cleanup_exports`` queues the renders of approved forms whose PDF is missing.
    """
    if to_status == Status.APPROVED:
        # Through the module: tests replace the task to see what was queued.
        enqueue(tasks.render_pdf, evaluation_id)
