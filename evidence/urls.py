"""Evidence routes, mounted under /evaluations/<pk>/evidence/ (evaluations/urls/evaluations.py)."""

from __future__ import annotations

from django.urls import path

from evidence import views

urlpatterns = [
    path("upload/", views.evidence_upload_view, name="evidence_upload"),
    path("<id:file_pk>/", views.evidence_download_view, name="evidence_download"),
    path("<id:file_pk>/delete/", views.evidence_delete_view, name="evidence_delete"),
]
