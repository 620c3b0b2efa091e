from __future__ import annotations

from django.urls import path

from campaigns import views

app_name = "campaigns"

urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("new/", views.campaign_new, name="new"),
    path("template.xlsx", views.due_list_template, name="template"),
    path("<year:year>/", views.campaign_detail, name="detail"),
    path("<year:year>/edit/", views.campaign_edit, name="edit"),
    path("<year:year>/open/", views.campaign_set_open, name="set_open"),
    path("<year:year>/notice/", views.notice_file, name="notice"),
    path("<year:year>/import/", views.due_list_import, name="import"),
    path("<year:year>/import/confirm/", views.due_list_confirm, name="import_confirm"),
    path("<year:year>/carry-over/", views.due_list_carry_over, name="carry_over"),
    path("<year:year>/extend/", views.deadline_extend, name="extend"),
    path("<year:year>/remind/", views.department_remind, name="remind"),
]
