"""Marking an in-app reminder read (the rest of a reminder is sent by ``send_reminders``)."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from campaigns.models import Reminder


class ReminderReadForm(forms.Form):
    """Where to go back to after marking read (only a path of this site)."""

    next = forms.CharField(required=False, max_length=2000)


@login_required
@require_POST
def reminder_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one of the user's own reminders read; another user's reminder is a 404."""
    reminder = get_object_or_404(Reminder.objects.filter(user=request.user), pk=pk)
    if reminder.read_at is None:
        reminder.read_at = timezone.now()
        reminder.save(update_fields=["read_at"])
    form = ReminderReadForm(request.POST)
    target = form.cleaned_data["next"] if form.is_valid() else ""
    if not target or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "home"
    return redirect(target)
