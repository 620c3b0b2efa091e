"""How the application names a person: their 姓名, stored whole in ``User.first_name``.

Pages show the name; an account without one shows its username marked 未填写姓名, so it
is found and named. A printed form never shows a login: there the name is left blank.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


def person_name(user: AbstractBaseUser | AnonymousUser | None) -> str:
    """The user's 姓名, "" when there is none (or no user)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    return " ".join((getattr(user, "first_name", "") or "").split())


def display_name(user: AbstractBaseUser | AnonymousUser | None) -> str:
    """A person as pages show them: the name, else "username（未填写姓名）"; "" for nobody."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    return person_name(user) or _("%(username)s（未填写姓名）") % {"username": user.get_username()}


def printed_name(user: AbstractBaseUser | AnonymousUser | None) -> str:
    """A person as a printed form names them: the 姓名, or blank (never the username)."""
    return person_name(user)


def accounts_without_name() -> QuerySet[Any]:
    """Active accounts that have no 姓名 yet (they keep working; someone must name them)."""
    return (
        get_user_model()
        .objects.filter(is_active=True, first_name__regex=r"^\s*$")
        .select_related("membership__department")
        .order_by("username")
    )
