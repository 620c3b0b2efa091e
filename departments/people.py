"""Writes of the register of people (accounts and roles) and departments, each recorded.

Every service runs in a transaction on the locked row and writes one ``RegisterChange``
that says who changed what; a service that changes nothing records nothing. A password
given by the administrator is returned once to be shown, never stored in clear, and the
account must choose its own at next sign-in (``Membership.must_change_password``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from axes.utils import reset as axes_reset
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from departments.directory import is_directory_account
from departments.models import Department, Membership, RegisterChange, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AbstractUser

# Letters and digits that cannot be mistaken for one another when read off a screen or paper.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789"
PASSWORD_LENGTH = 14


def one_time_password() -> str:
    """A strong random password (``secrets``) with letters and digits, easy to copy by hand."""
    while True:
        password = "".join(secrets.choice(_ALPHABET) for _ in range(PASSWORD_LENGTH))
        # Django's validators refuse an all-digit password; require both kinds anyway.
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password


# Why a directory account's password is not reset here (the people page says it too).
DIRECTORY_PASSWORD = gettext_lazy(
    "该账号通过单位目录（LDAP）登录，密码由目录管理，在本系统重置没有意义；"
    "忘记密码请在目录中重置。姓名和电子邮箱在每次登录时从目录更新。"
)


@dataclass(frozen=True)
class PersonData:
    """What the people page sets on an account (姓名 is ``User.first_name``)."""

    name: str
    email: str
    role: str  # a Role, or "" for an administrator without a role
    department: Department | None
    implementing_unit: str
    phone: str

    @classmethod
    def of(cls, cleaned: dict[str, Any]) -> PersonData:
        """From a valid form's ``cleaned_data``; finance belongs to no department or unit."""
        finance = cleaned["role"] == Role.FINANCE
        return cls(
            name=cleaned["name"],
            email=cleaned["email"],
            role=cleaned["role"] or "",
            department=None if finance or not cleaned["role"] else cleaned["department"],
            implementing_unit="" if finance else cleaned["implementing_unit"],
            phone=cleaned["phone"],
        )


def _snapshot(user: AbstractUser, membership: Membership | None) -> dict[str, str]:
    """The account's recorded fields as the pages show them."""
    return {
        _("姓名"): user.first_name,
        _("电子邮箱"): user.email,
        _("角色"): membership.get_role_display() if membership else "",
        _("所属部门"): membership.department.name if membership and membership.department else "",
        _("限填实施单位"): membership.implementing_unit if membership else "",
        _("联系电话"): membership.phone if membership else "",
    }


def _difference(before: dict[str, str], after: dict[str, str]) -> str:
    """ "label：old → new" for each field that changed, joined by "；"."""
    return "；".join(
        f"{label}：{before[label] or '—'} → {after[label] or '—'}"
        for label in after
        if before[label] != after[label]
    )


def _record(
    *,
    actor: AbstractBaseUser,
    kind: str,
    person: Any = None,
    department: Department | None = None,
    detail: str = "",
) -> RegisterChange:
    return RegisterChange.objects.create(
        actor=actor, kind=kind, person=person, department=department, detail=detail
    )


def _apply(user: AbstractUser, membership: Membership | None, data: PersonData) -> Any:
    """Write ``data`` onto the account; the membership it now has (None: no role)."""
    user.first_name = data.name
    user.last_name = ""
    user.email = data.email
    user.save(update_fields=["first_name", "last_name", "email"])
    if not data.role:
        if membership is not None:
            membership.delete()
        return None
    if membership is None:
        membership = Membership(user=user)
    membership.role = data.role
    membership.department = data.department
    membership.implementing_unit = data.implementing_unit
    membership.phone = data.phone
    membership.save()
    return membership


@transaction.atomic
def person_create(
    *, actor: AbstractBaseUser, username: str, data: PersonData
) -> tuple[AbstractUser, str]:
    """Create an account with a one-time password; return it and the password (shown once)."""
    password = one_time_password()
    user = get_user_model().objects.create_user(username=username, password=password)
    membership = _apply(user, None, data)
    if membership is not None:
        membership.must_change_password = True
        membership.save(update_fields=["must_change_password"])
    empty = dict.fromkeys(_snapshot(user, membership), "")
    detail = _("用户名：%(username)s") % {"username": username}
    changes = _difference(empty, _snapshot(user, membership))
    _record(
        actor=actor,
        kind=RegisterChange.Kind.CREATED,
        person=user,
        detail=f"{detail}；{changes}" if changes else detail,
    )
    return user, password


def _locked(person: AbstractUser) -> tuple[AbstractUser, Membership | None]:
    """The account and its membership, locked for the rest of the transaction."""
    user = get_user_model().objects.select_for_update().get(pk=person.pk)
    # Only the membership's row: its department (an outer join, finance has none) is read.
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("department")
        .filter(user=user)
        .first()
    )
    return user, membership


@transaction.atomic
def person_update(
    *, actor: AbstractBaseUser, person: AbstractUser, data: PersonData
) -> RegisterChange | None:
    """Change name, e-mail, role, department, unit, phone; None when nothing changed."""
    user, membership = _locked(person)
    before = _snapshot(user, membership)
    membership = _apply(user, membership, data)
    detail = _difference(before, _snapshot(user, membership))
    if not detail:
        return None
    return _record(actor=actor, kind=RegisterChange.Kind.CHANGED, person=user, detail=detail)


class RegisterRefused(Exception):
    """A change the register does not allow; ``message`` says why, in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@transaction.atomic
def person_set_active(
    *, actor: AbstractBaseUser, person: AbstractUser, active: bool
) -> RegisterChange | None:
    """Deactivate (cannot sign in, history kept) or reactivate; None when it already was."""
    if not active and person.pk == actor.pk:
        raise RegisterRefused(_("不能停用自己正在使用的账号。"))
    user, _membership = _locked(person)
    if user.is_active == active:
        return None
    user.is_active = active
    user.save(update_fields=["is_active"])
    if active:
        # Signing in while deactivated counts as a failure: the lockout it earned goes too.
        axes_reset(username=user.username)
    kind = RegisterChange.Kind.REACTIVATED if active else RegisterChange.Kind.DEACTIVATED
    return _record(actor=actor, kind=kind, person=user)


@transaction.atomic
def person_password_reset(*, actor: AbstractBaseUser, person: AbstractUser) -> str:
    """Give the account a one-time password (returned, to be shown once) and force a change."""
    if person.pk == actor.pk:
        raise RegisterRefused(_("自己的密码请在“修改密码”中修改。"))
    user, membership = _locked(person)
    if is_directory_account(user):
        raise RegisterRefused(str(DIRECTORY_PASSWORD))
    if membership is None:
        # The flag that forces the change lives on the membership: without one, a reset
        # password would stay in use.
        raise RegisterRefused(
            _("该账号没有角色，无法强制其修改密码；请用 manage.py changepassword 设置。")
        )
    password = one_time_password()
    # A new password hash also ends the account's open sessions (Django checks the hash).
    user.set_password(password)
    user.save(update_fields=["password"])
    membership.must_change_password = True
    membership.save(update_fields=["must_change_password"])
    # Whoever forgot a password has usually locked the account out trying: the new one works.
    axes_reset(username=user.username)
    _record(actor=actor, kind=RegisterChange.Kind.PASSWORD_RESET, person=user)
    return password


@transaction.atomic
def department_update(
    *, actor: AbstractBaseUser, department: Department, name: str, code: str
) -> RegisterChange | None:
    """Rename a department or set its code; None when nothing changed.

    Forms, due projects and accounts refer to the department by its id, so they follow it.
    """
    locked = Department.objects.select_for_update().get(pk=department.pk)
    before = {_("部门名称"): locked.name, _("部门编码"): locked.code}
    locked.name, locked.code = name, code
    detail = _difference(before, {_("部门名称"): name, _("部门编码"): code})
    if not detail:
        return None
    locked.save(update_fields=["name", "code"])
    return _record(
        actor=actor, kind=RegisterChange.Kind.DEPARTMENT_CHANGED, department=locked, detail=detail
    )
