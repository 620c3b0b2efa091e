"""URL configuration."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, register_converter
from django.views.generic import RedirectView

from config import views
from config.converters import IdConverter, YearConverter
from departments.demo import SignInForm
from departments.password_change import PasswordChangeView

# Registered before the includes below import the apps' URLconfs, which use them.
register_converter(IdConverter, "id")
register_converter(YearConverter, "year")

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="evaluations:list", permanent=False), name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("healthz/worker", views.healthz_worker, name="healthz_worker"),
    # Sign-in and password change only: accounts are managed by administrators, and the
    # bureau's closed networks have no mail for self-service password resets.
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=SignInForm),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password_change/",
        PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("admin/", admin.site.urls),
    path("evaluations/", include("evaluations.urls.evaluations")),
    path("review/", include("evaluations.urls.review")),
    path("dashboard/", include("evaluations.urls.dashboard")),
    path("campaigns/", include("campaigns.urls")),
    path("reminders/", include("campaigns.urls_reminders")),
    path("rechecks/", include("rechecks.urls")),
    path("exports/", include("exports.urls")),
    path("mail/", include("evaluations.urls.mail")),
    # The administrator's accounts workbook (before /people/ itself, which holds the rest).
    path("people/import/", include("departments.urls_accounts")),
    path("people/", include("departments.urls_people")),
]

# Error pages in Chinese and in the site's layout. 500 keeps Django's handler, which renders
# templates/500.html without a request (no context processors, nothing that can fail twice).
handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
