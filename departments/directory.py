"""Sign-in against the bureau's directory (LDAP), when ``DJANGO_LDAP_SERVER_URI`` turns it on.

A directory user signs in with their directory password; django-auth-ldap creates the
account on first sign-in and copies 姓名 and e-mail from the directory at each one.
Department and role stay in the application (``Membership``): a directory user without one
is signed in and sees that no role has been given yet.

A directory account's password lives in the directory, so its first directory sign-in
drops the application password (an initial one from the accounts workbook or the people
page stops working) and clears ``Membership.must_change_password``: nobody is made to choose
an application password they will never use. The people page therefore refuses to reset
the password of a directory account while directory sign-in is on.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django_auth_ldap.backend import LDAPBackend

from departments.models import Membership

BACKEND = "departments.directory.DirectoryBackend"


def directory_enabled() -> bool:
    """Directory sign-in is on (``DJANGO_LDAP_SERVER_URI`` was set)."""
    return BACKEND in settings.AUTHENTICATION_BACKENDS


def is_directory_account(user: Any) -> bool:
    """The account signs in through the directory: it has no application password."""
    return directory_enabled() and not user.has_usable_password()


def directory_signed_in(*, user: Any) -> None:
    """A directory sign-in succeeded: drop the application password and the must-change flag."""
    with transaction.atomic():
        locked = get_user_model().objects.select_for_update().get(pk=user.pk)
        if locked.has_usable_password():
            locked.set_unusable_password()
            locked.save(update_fields=["password"])
            # The caller's object is the one the session is made from: it gets the same hash.
            user.password = locked.password
        Membership.objects.filter(user=locked, must_change_password=True).update(
            must_change_password=False
        )
    # A membership already read for this user object no longer holds.
    if hasattr(user, "_membership_cache"):
        del user._membership_cache


class DirectoryBackend(LDAPBackend):
    """django-auth-ldap's backend, refusing accounts the application deactivated."""

    def authenticate_ldap_user(self, ldap_user: Any, password: str) -> Any:
        user = super().authenticate_ldap_user(ldap_user, password)
        # Deactivated on the people page: the directory password does not let it back in.
        if user is None or not user.is_active:
            return None
        directory_signed_in(user=user)
        return user
