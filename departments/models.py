"""Departments (主管部门) and who belongs to them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from common.safetext import SINGLE_LINE


class Department(models.Model):
    """A supervising department (主管部门) that writes self-evaluations."""

    name = models.CharField(_("部门名称"), max_length=200, unique=True, validators=SINGLE_LINE)
    # The budget system's unit code (部门编码): lists from that system match departments by it,
    # so a renamed department is still found. Blank for departments nobody has coded yet.
    code = models.CharField(
        _("部门编码"), max_length=50, blank=True, default="", validators=SINGLE_LINE
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("主管部门")
        verbose_name_plural = _("主管部门")
        constraints = [
            models.UniqueConstraint(
                fields=["code"],
                condition=~models.Q(code=""),
                name="department_code_unique",
                violation_error_message=_("该部门编码已属于另一个部门。"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        """The name with its code in front where it has one ("101001 某某局"), for pickers."""
        return department_label(self.name, self.code)


def department_label(name: str, code: str) -> str:
    """A department as pickers and lists show it: its code (部门编码), if any, then its name."""
    return f"{code} {name}" if code else name


class Role(models.TextChoices):
    STAFF = "staff", _("部门填报人")
    HEAD = "head", _("部门审核人")
    FINANCE = "finance", _("财政局审核人")


class Membership(models.Model):
    """A user's role: department staff belong to one department; finance sees all."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="membership",
        verbose_name=_("用户"),
    )
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices, default=Role.STAFF)
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("所属部门"),
    )
    # A filler may be limited to one 实施单位 of the department (blank: all of them).
    implementing_unit = models.CharField(
        _("限填实施单位"), max_length=200, blank=True, validators=SINGLE_LINE
    )
    # The phone number printed on the forms this user fills in (填报人 联系电话).
    phone = models.CharField(_("联系电话"), max_length=30, blank=True, validators=SINGLE_LINE)
    # Set for an account given a password by someone else (an imported account's initial
    # password, an administrator's reset): it must choose its own before it can do anything.
    must_change_password = models.BooleanField(_("须修改密码"), default=False)

    class Meta:
        verbose_name = _("账号角色")
        verbose_name_plural = _("账号角色")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role="finance") | models.Q(department__isnull=False),
                name="membership_staff_has_department",
                violation_error_message=_("部门填报人和部门审核人必须属于一个部门。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"

    @property
    def is_finance(self) -> bool:
        return self.role == Role.FINANCE


class RegisterChange(models.Model):
    """One change to the register of people and departments: who made it, when, and what.

    A model of its own rather than ``admin.LogEntry``: that one is written by the Django
    admin's pages only, keys its object by content type and text id, and keeps its message
    as admin-specific JSON; here each record names the person or department it changed, so
    their pages list it with one indexed query, and the text is written in Chinese as the
    change is made.
    """

    class Kind(models.TextChoices):
        CREATED = "created", _("新建账号")
        CHANGED = "changed", _("修改账号")
        DEACTIVATED = "deactivated", _("停用账号")
        REACTIVATED = "reactivated", _("重新启用账号")
        PASSWORD_RESET = "password_reset", _("重置密码")
        DEPARTMENT_CHANGED = "department_changed", _("修改部门")

    kind = models.CharField(_("操作"), max_length=24, choices=Kind.choices)
    # The account changed (None: a change of a department). PROTECT: an account with a
    # history is deactivated, never deleted, so its history stays.
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="register_changes",
        verbose_name=_("账号"),
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="register_changes",
        verbose_name=_("部门"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    # What changed, as the pages show it ("角色：部门填报人 → 部门审核人；…").
    detail = models.TextField(_("内容"), blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("账号与部门变更记录")
        verbose_name_plural = _("账号与部门变更记录")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.created_at:%Y-%m-%d %H:%M}"
