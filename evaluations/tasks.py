"""Background tasks of the forms' workflow (django-tasks; see exports/tasks.py)."""

from __future__ import annotations

from django_tasks import task

from evaluations import mail


@task()
def deliver_mail(mail_id: int) -> None:
    """Send one queued mail and record the outcome (evaluations/mail.py)."""
    mail.mail_deliver(mail_id)
