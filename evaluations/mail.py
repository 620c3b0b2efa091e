"""Mail to users: stored in the step that asks for it, sent by the task worker.

An SMTP server may refuse, be away or accept a connection and never answer; none of that
may hold a request. ``mail_queue`` stores an ``OutgoingMail`` row in the caller's
transaction and enqueues its delivery after commit; ``mail_deliver`` (the task, and
``manage.py send_queued_mail`` for what is due) sends it and records the outcome. A failed
mail is tried again after ``BACKOFF`` (1, 5, 30 minutes, 2 hours) and then given up
(status failed, no next attempt); finance sees every undelivered mail on /mail/ and may
queue it again. ``mail_sent`` is sent for each mail that went out (a reminder records it).
"""

from __future__ import annotations

import datetime
import logging
import smtplib
from collections.abc import Sequence

from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from common.safetext import one_line_subject
from evaluations.models import MailStatus, OutgoingMail

logger = logging.getLogger(__name__)

# Waits after the 1st, 2nd, ... failed attempt; after the last one the mail is given up.
BACKOFF = (
    datetime.timedelta(minutes=1),
    datetime.timedelta(minutes=5),
    datetime.timedelta(minutes=30),
    datetime.timedelta(hours=2),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
# How long one sender holds a mail while trying it: far above EMAIL_TIMEOUT; a sender killed
# mid-send lets the mail go to the next one after this.
LEASE = datetime.timedelta(minutes=5)

# Sent with ``mail`` (an OutgoingMail) once it went out.
mail_sent = Signal()


def mail_queue(
    *, subject: str, body: str, recipients: Sequence[str], enqueue: bool = True
) -> OutgoingMail | None:
    """Store one mail to send (None without recipients); the worker sends it after commit.

    ``enqueue=False``: the caller delivers it itself (``send_reminders``, a cron job).
    """
    recipients = [r for r in recipients if r]
    if not recipients:
        return None
    mail = OutgoingMail.objects.create(
        recipients=recipients,
        subject=one_line_subject(subject),
        body=body,
        next_attempt_at=timezone.now(),
    )
    if enqueue:
        transaction.on_commit(lambda: _enqueue(mail.pk), robust=True)
    return mail


def _enqueue(mail_id: int, run_after: datetime.datetime | None = None) -> None:
    """Hand a mail to the task queue; a queue that is down only delays it (the sweep of
    ``send_queued_mail`` sends what is due), it never fails the step that asked."""
    try:
        queued = deliver_mail
        if run_after is not None:
            if not queued.get_backend().supports_defer:
                return  # the sweep tries it when it is due
            queued = queued.using(run_after=run_after)
        queued.enqueue(mail_id)
    except Exception:  # noqa: BLE001 - any queue failure: logged, the sweep sends it
        logger.exception("mail %s could not be queued; send_queued_mail will send it", mail_id)


def mail_deliver(mail_id: int, *, force: bool = False) -> str | None:
    """Try to send one mail now: its status afterwards, or None when it was not this
    caller's to send (sent already, not due yet unless ``force``, or another sender has it).
    """
    now = timezone.now()
    claim = (
        OutgoingMail.objects.filter(pk=mail_id)
        .exclude(status=MailStatus.SENT)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
    )
    if not force:
        claim = claim.filter(next_attempt_at__lte=now)
    # One conditional UPDATE: of two senders racing, only one gets the row.
    if not claim.update(locked_until=now + LEASE):
        return None
    mail = OutgoingMail.objects.get(pk=mail_id)
    try:
        send_mail(mail.subject, mail.body, None, list(mail.recipients), fail_silently=False)
    except Exception as exc:  # noqa: BLE001 - any backend or server failure is recorded
        logger.warning("mail %s %r failed: %s", mail.pk, mail.subject, exc)
        return _record_failure(mail, _reason(exc))
    mail.status = MailStatus.SENT
    mail.attempts += 1
    mail.sent_at = timezone.now()
    mail.next_attempt_at = None
    mail.locked_until = None
    mail.save(update_fields=["status", "attempts", "sent_at", "next_attempt_at", "locked_until"])
    mail_sent.send(sender=OutgoingMail, mail=mail)
    return mail.status


def _record_failure(mail: OutgoingMail, reason: str) -> str:
    mail.attempts += 1
    mail.status = MailStatus.FAILED
    mail.last_error = reason
    mail.locked_until = None
    mail.next_attempt_at = (
        timezone.now() + BACKOFF[mail.attempts - 1] if mail.attempts < MAX_ATTEMPTS else None
    )
    mail.save(update_fields=["status", "attempts", "last_error", "next_attempt_at", "locked_until"])
    if mail.next_attempt_at is not None:
        _enqueue(mail.pk, run_after=mail.next_attempt_at)
    return mail.status


def _reason(exc: Exception) -> str:
    """Why a send failed, for finance (Chinese) with the server's own words."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        detail = "; ".join(
            f"{address}: {code} {_text(message)}"
            for address, (code, message) in exc.recipients.items()
        )
        return _("邮件服务器拒收：%(detail)s") % {"detail": detail}
    if isinstance(exc, smtplib.SMTPResponseException):
        detail = f"{exc.smtp_code} {_text(exc.smtp_error)}"
        return _("邮件服务器拒收：%(detail)s") % {"detail": detail}
    # smtplib turns a read that timed out into SMTPServerDisconnected; the timeout is its context.
    if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
        return _("邮件服务器无响应（超时）")
    if isinstance(exc, (OSError, smtplib.SMTPException)):
        return _("无法连接邮件服务器：%(detail)s") % {"detail": exc}
    return _("发送失败：%(detail)s") % {"detail": f"{type(exc).__name__}: {exc}"}


def _text(message: bytes | str) -> str:
    return message.decode(errors="replace") if isinstance(message, bytes) else str(message)


def mail_resend(mail: OutgoingMail) -> bool:
    """Queue an undelivered mail again now, with a fresh round of attempts (finance's
    重新发送); False when it was sent meanwhile."""
    with transaction.atomic():
        updated = (
            OutgoingMail.objects.filter(pk=mail.pk)
            .exclude(status=MailStatus.SENT)
            .update(status=MailStatus.QUEUED, attempts=0, next_attempt_at=timezone.now())
        )
        if updated:
            transaction.on_commit(lambda: _enqueue(mail.pk), robust=True)
    return bool(updated)


def send_queued_mail() -> dict[str, int]:
    """Send every mail that is due (queued, or failed with its next attempt passed): the
    sweep behind the worker for mails whose task was lost or whose retry the queue cannot
    defer. Counts per outcome."""
    counts = {MailStatus.SENT: 0, MailStatus.FAILED: 0}
    due = OutgoingMail.objects.filter(
        status__in=[MailStatus.QUEUED, MailStatus.FAILED], next_attempt_at__lte=timezone.now()
    ).order_by("next_attempt_at", "pk")
    for pk in due.values_list("pk", flat=True):
        outcome = mail_deliver(pk)
        if outcome is not None:
            counts[outcome] += 1
    return {"sent": counts[MailStatus.SENT], "failed": counts[MailStatus.FAILED]}


def undelivered_mail(*, older_than: datetime.timedelta) -> list[OutgoingMail]:
    """Mail not sent: every failed one, and queued ones waiting longer than ``older_than``."""
    cutoff = timezone.now() - older_than
    return list(
        OutgoingMail.objects.filter(
            Q(status=MailStatus.FAILED) | Q(status=MailStatus.QUEUED, created_at__lt=cutoff)
        ).order_by("-created_at", "-pk")[:500]
    )


@task()
def deliver_mail(mail_id: int) -> None:
    """The task that sends one queued mail and records the outcome."""
    mail_deliver(mail_id)
