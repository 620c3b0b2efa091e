"""Undelivered mail (finance and the administrator)."""

from __future__ import annotations

from django.urls import path

from evaluations.views import mail as views_mail

app_name = "mail"

urlpatterns = [
    path("", views_mail.mail_list, name="list"),
    path("<id:pk>/resend/", views_mail.mail_resend, name="resend"),
]
