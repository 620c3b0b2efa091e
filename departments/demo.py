"""The demo accounts of ``manage.py load_demo``, and their refusal outside debug mode.

The demo accounts share a password printed in the README, so with ``DEBUG`` off they must
not sign in, even when they were created while it was on. A demo account is recognised by
what makes it dangerous: one of the demo usernames signing in with the demo password. The
password is compared as typed (no extra hash per sign-in); a demo account whose password an
administrator changed is an ordinary account.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

DEMO_PASSWORD = "demo12345"
DEMO_FINANCE = "finance"
DEMO_ADMIN = "admin"
# Each demo staff account belongs to the department of one sample file.
DEMO_STAFF = [("staff1", "000"), ("staff2", "001"), ("staff3", "003")]
# The department head (部门审核人) of each of those departments, for the sign-off step.
DEMO_HEADS = {"staff1": "head1", "staff2": "head2", "staff3": "head3"}
# Each demo account's 姓名 (User.first_name): printed forms name people, never logins.
DEMO_NAMES = {
    "finance": "李明华",
    "admin": "周强",
    "staff1": "张伟",
    "staff2": "王芳",
    "staff3": "刘洋",
    "head1": "陈静",
    "head2": "杨磊",
    "head3": "赵丽",
}
DEMO_USERNAMES = frozenset(
    {DEMO_FINANCE, DEMO_ADMIN, *(name for name, _prefix in DEMO_STAFF), *DEMO_HEADS.values()}
)

DEMO_REFUSED = _("演示账号只能在调试模式（DJANGO_DEBUG=1）下登录；正式环境请使用管理员分配的账号。")


def is_refused_demo_login(username: Any, password: Any) -> bool:
    """True when ``username``/``password`` is a demo account's and debug mode is off."""
    return not settings.DEBUG and password == DEMO_PASSWORD and username in DEMO_USERNAMES


class RefuseDemoAccountsBackend:
    """Stops every sign-in (login page, admin, ``authenticate()``) of a demo account.

    Only ``authenticate``: without ``get_user`` it never becomes a session's backend
    (``force_login`` and the session keep using ModelBackend).
    """

    def authenticate(
        self, request: Any, username: Any = None, password: Any = None, **kwargs: Any
    ) -> None:
        if is_refused_demo_login(username, password):
            # PermissionDenied ends authenticate(): no later backend may let it in.
            raise PermissionDenied(str(DEMO_REFUSED))
        return None


class SignInForm(AuthenticationForm):
    """The sign-in page's form: says why a demo account is refused (the backend only says no)."""

    def clean(self) -> dict[str, Any]:
        if is_refused_demo_login(
            self.cleaned_data.get("username"), self.cleaned_data.get("password")
        ):
            raise forms.ValidationError(DEMO_REFUSED, code="demo_account")
        return super().clean()
