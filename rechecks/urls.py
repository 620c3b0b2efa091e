from __future__ import annotations

from django.urls import path

from rechecks import views

app_name = "rechecks"

urlpatterns = [
    path("", views.recheck_list, name="list"),
    path("draw/", views.recheck_draw, name="draw"),
    path("report/", views.recheck_report, name="report"),
    path("pick/<int:pk>/", views.recheck_pick, name="pick"),
    path("<int:pk>/", views.recheck_detail, name="detail"),
    path("<int:pk>/start/", views.recheck_start, name="start"),
    path("<int:pk>/complete/", views.recheck_complete, name="complete"),
]
