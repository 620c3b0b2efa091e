"""Departments (主管部门) and who belongs to them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from common.safetext import SINGLE_LINE


class Department(models.Model):
    """A supervising department (主管部门) that writes self-evaluations."""

    name = models.CharField(_("部门名称"), max_length=200, unique=True, validators=SINGLE_LINE)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("主管部门")
        verbose_name_plural = _("主管部门")

    def __str__(self) -> str:
        return self.name


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
