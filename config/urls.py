"""URL configuration."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from config import views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="evaluations:list", permanent=False), name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("evaluations/", include("evaluations.urls")),
    path("review/", include("evaluations.urls_review")),
    path("dashboard/", include("evaluations.urls_dashboard")),
]
