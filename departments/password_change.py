"""An account given its password by someone else must choose its own before anything else.

``Membership.must_change_password`` is set on an imported account (and on a reset one); the
middleware sends such an account to 修改密码 (Django's ``PasswordChangeForm`` with the
password validators) from every page but that one, signing out and static files. Choosing
a password clears the flag.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from departments.directory import is_directory_account
from departments.models import Membership
from departments.roles import membership_of

# The pages such an account may still open (besides static files).
ALLOWED_URL_NAMES = ("password_change", "password_change_done", "logout")


def must_change_password(user: Any) -> bool:
    """The signed-in user must choose their own password before doing anything else."""
    membership = membership_of(user)
    return membership is not None and membership.must_change_password


def password_chosen(*, user: Any) -> None:
    """The user chose their own password: the flag is cleared."""
    with transaction.atomic():
        Membership.objects.filter(user=user, must_change_password=True).update(
            must_change_password=False
        )
    membership = membership_of(user)
    if membership is not None:
        membership.must_change_password = False


class PasswordChangeRequiredMiddleware:
    """Redirect an account that must change its password to 修改密码, from every other page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and must_change_password(user)
            and not self._allowed(request.path)
        ):
            return redirect("password_change")
        return self.get_response(request)

    @staticmethod
    def _allowed(path: str) -> bool:
        if settings.STATIC_URL and path.startswith(str(settings.STATIC_URL)):
            return True
        return any(path == reverse(name) for name in ALLOWED_URL_NAMES)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's 修改密码, which also clears the must-change flag once the password is chosen."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["password_change_required"] = must_change_password(self.request.user)
        # Its password lives in the directory: there is none here to change.
        context["directory_account"] = is_directory_account(self.request.user)
        return context

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        password_chosen(user=form.user)
        return response
