from __future__ import annotations

from django.urls import path

from rechecks import views

app_name = "rechecks"

urlpatterns = [
    path("", views.recheck_list, name="list"),
    path("draw/", views.recheck_draw, name="draw"),
    path("report/", views.recheck_report, name="report"),
    path("pick/<id:pk>/", views.recheck_pick, name="pick"),
    path("<id:pk>/", views.recheck_detail, name="detail"),
    path("<id:pk>/start/", views.recheck_start, name="start"),
    path("<id:pk>/complete/", views.recheck_complete, name="complete"),
    path("<id:pk>/preview/", views.recheck_preview, name="preview"),
]
