"""The user's exports (/exports/): list and start, progress, cancel, retry, download."""

from __future__ import annotations

from django.urls import path

from exports import views

app_name = "exports"

urlpatterns = [
    path("", views.export_list, name="list"),
    path("<id:pk>/", views.export_detail, name="detail"),
    path("<id:pk>/status.json", views.export_status, name="status"),
    path("<id:pk>/cancel/", views.export_cancel, name="cancel"),
    path("<id:pk>/retry/", views.export_retry, name="retry"),
    path("<id:pk>/download/", views.export_download, name="download"),
]
