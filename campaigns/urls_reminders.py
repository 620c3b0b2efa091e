"""In-app reminders: marking one read."""

from __future__ import annotations

from django.urls import path

from campaigns import reminder_views

app_name = "reminders"

urlpatterns = [
    path("<id:pk>/read/", reminder_views.reminder_read, name="read"),
]
