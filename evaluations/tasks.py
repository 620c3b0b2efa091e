"""Background tasks of the forms' workflow, under the import paths queued tasks were given.

Each task is defined beside its work (``evaluations.mail.deliver_mail``), so that the work
imports no module of tasks and the tasks module imports the work, never the other way.
A task queued under the old path (``evaluations.tasks.deliver_mail``) still runs.
"""

from __future__ import annotations

from evaluations.mail import deliver_mail

__all__ = ["deliver_mail"]
