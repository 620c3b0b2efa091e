"""The accounts import (/people/import/): upload, preview, confirm, the passwords' one download."""

from __future__ import annotations

from django.urls import path

from departments import accounts_views as views

app_name = "accounts_import"

urlpatterns = [
    path("", views.accounts_import, name="upload"),
    path("template.xlsx", views.accounts_template, name="template"),
    path("confirm/", views.accounts_import_confirm, name="confirm"),
    path("passwords.xlsx", views.accounts_passwords, name="passwords"),
]
