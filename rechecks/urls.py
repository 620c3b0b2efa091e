from __future__ import annotations

from django.urls import path

from rechecks import views

app_name = "rechecks"

urlpatterns = [
    path("", views.recheck_list, name="list"),
    path("draw/", views.recheck_draw, name="draw"),
    path("report/", views.recheck_report, name="report"),
    path("report.xlsx", views.recheck_report_xlsx, name="report_xlsx"),
    path("rules/", views.rule_set_list, name="rule_sets"),
    path("rules/<id:rule_set_pk>/", views.rule_set_detail, name="rule_set"),
    path("rules/<id:rule_set_pk>/new/", views.rule_edit, name="rule_new"),
    path("rules/<id:rule_set_pk>/<id:rule_pk>/", views.rule_edit, name="rule_edit"),
    path("pick/<id:pk>/", views.recheck_pick, name="pick"),
    path("<id:pk>/", views.recheck_detail, name="detail"),
    path("<id:pk>/start/", views.recheck_start, name="start"),
    path("<id:pk>/complete/", views.recheck_complete, name="complete"),
    path("<id:pk>/preview/", views.recheck_preview, name="preview"),
]
