from __future__ import annotations

from django.urls import path

from evaluations.views import dashboard as views_dashboard

app_name = "dashboard"

urlpatterns = [
    path("", views_dashboard.dashboard_index, name="index"),
    path("export.xlsx", views_dashboard.dashboard_export, name="export"),
    path("results.xlsx", views_dashboard.dashboard_results, name="results"),
]
