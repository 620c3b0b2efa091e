from __future__ import annotations

from django.urls import path

from campaigns import views

app_name = "campaigns"

urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("new/", views.campaign_new, name="new"),
    path("template.xlsx", views.due_list_template, name="template"),
    path("<int:year>/", views.campaign_detail, name="detail"),
    path("<int:year>/edit/", views.campaign_edit, name="edit"),
    path("<int:year>/open/", views.campaign_set_open, name="set_open"),
    path("<int:year>/notice/", views.notice_file, name="notice"),
    path("<int:year>/import/", views.due_list_import, name="import"),
    path("<int:year>/import/confirm/", views.due_list_confirm, name="import_confirm"),
    path("<int:year>/carry-over/", views.due_list_carry_over, name="carry_over"),
    path("<int:year>/extend/", views.deadline_extend, name="extend"),
    path("<int:year>/remind/", views.department_remind, name="remind"),
]
