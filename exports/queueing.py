"""Putting a task in the queue after commit: a queue that is down is logged, never raised.

Every enqueue of the project goes through ``enqueue``. The work was committed before it is
queued (an approval, an export's rows), so a queue that cannot be reached (Redis down under
RQ, the database under the database backend) must not turn a committed request into a 500:
the caller learns that nothing was queued and leaves a mark that the recovery reads (an
export part with no task id, exports/jobs.py; an approved form with no cached PDF).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# What the backends raise when their queue cannot be reached: Redis under RQ, the
# database under the database backend.
QUEUE_ERRORS = (RedisError, DatabaseError)


def enqueue(task: Any, *args: Any) -> str | None:
    """Queue ``task(*args)``; return its task id, or None when the queue could not take it."""
    try:
        if settings.TASKS_BACKEND == "db":
            # A savepoint: a failing insert must not break a transaction the caller is in.
            with transaction.atomic():
                result = task.enqueue(*args)
        else:
            result = task.enqueue(*args)
    except QUEUE_ERRORS:
        logger.exception("could not queue %s%r: the task queue is unavailable", task.name, args)
        return None
    return str(result.id)
