"""URLs of the people page (/people/): accounts and departments."""

from __future__ import annotations

from django.urls import path

from departments import people_views as views

app_name = "people"

urlpatterns = [
    path("", views.person_list, name="list"),
    path("new/", views.person_new, name="new"),
    path("<id:person_pk>/", views.person_detail, name="detail"),
    path("<id:person_pk>/active/", views.person_set_active, name="set_active"),
    path("<id:person_pk>/password/", views.person_password_reset, name="password_reset"),
    path("departments/", views.department_list, name="departments"),
    path("departments/<id:department_pk>/", views.department_detail, name="department"),
]
