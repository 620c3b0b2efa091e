"""The user's exports (/exports/): list and start, progress, cancel, retry, download."""

from __future__ import annotations

from django.urls import path

from exports import views

app_name = "exports"

urlpatterns = [
    path("", views.export_list, name="list"),
    path("<int:pk>/", views.export_detail, name="detail"),
    path("<int:pk>/status.json", views.export_status, name="status"),
    path("<int:pk>/cancel/", views.export_cancel, name="cancel"),
    path("<int:pk>/retry/", views.export_retry, name="retry"),
    path("<int:pk>/download/", views.export_download, name="download"),
]
