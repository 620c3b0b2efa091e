"""邮件发送: the mail that has not gone out, and sending one again."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from evaluations import mail, permissions
from evaluations.models import OutgoingMail

# A queued mail younger than this is on its way (the worker sends it within seconds).
QUEUED_GRACE = datetime.timedelta(minutes=5)


@require_GET
def mail_list(request: HttpRequest) -> HttpResponse:
    """Failed mail, and queued mail older than a few minutes, newest first."""
    permissions.require_or_404(permissions.SEE_MAIL, request.user)
    return render(
        request,
        "mail/list.html",
        {
            "mails": mail.undelivered_mail(older_than=QUEUED_GRACE),
            "grace_minutes": int(QUEUED_GRACE.total_seconds() // 60),
        },
    )


@require_POST
def mail_resend(request: HttpRequest, pk: int) -> HttpResponse:
    """重新发送: queue an undelivered mail again now."""
    permissions.require_or_404(permissions.SEE_MAIL, request.user)
    outgoing = get_object_or_404(OutgoingMail, pk=pk)
    if mail.mail_resend(outgoing):
        messages.success(
            request, _("邮件“%(subject)s”已重新排队发送。") % {"subject": outgoing.subject}
        )
    else:
        messages.info(
            request, _("邮件“%(subject)s”已发送，无需重发。") % {"subject": outgoing.subject}
        )
    return redirect("mail:list")
