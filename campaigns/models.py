"""The year's campaign (自评任务): its notice and deadline, and the projects due (应评项目清单).

A campaign says which projects must be evaluated in a year. Forms start from their due
project (``Evaluation.due_project``); "not submitted" on the bureau's pages means a due
project without a submitted form, and "overdue" one whose department's deadline passed.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.safetext import SINGLE_LINE
from departments.models import Department
from evaluations.core.fields import FUNDING, HEADER, INDICATOR
from evaluations.core.limits import TEXT_LIMITS
from evaluations.modelfields import CLEAN, MONEY, NON_NEGATIVE, POINTS
from evaluations.rulesets import ScoringRuleSet, national_rule_set_pk
from rechecks.models import national_rule_set_pk as national_recheck_rule_set_pk

NOTICE_MAX_LENGTH = 5000
PROJECT_CODE_MAX_LENGTH = 50


class Campaign(models.Model):
    """One year's self-evaluation campaign, published by the finance bureau."""

    year = models.PositiveSmallIntegerField(_("年度"), unique=True)
    title = models.CharField(_("任务名称"), max_length=200, validators=SINGLE_LINE)
    deadline = models.DateField(_("截止日期"))
    notice = models.TextField(
        _("通知内容"), max_length=NOTICE_MAX_LENGTH, blank=True, validators=CLEAN
    )
    notice_file = models.FileField(_("通知文件（PDF）"), upload_to="campaigns/", blank=True)
    requires_sign_off = models.BooleanField(
        _("需要部门审核"),
        default=False,
        help_text=_("勾选后，填报人提交的表先由本部门审核人审核，再报财政局。"),
    )
    allow_unlisted = models.BooleanField(
        _("允许填报清单外项目"),
        default=True,
        help_text=_("不勾选时，部门只能为应评项目清单中的项目填报。"),
    )
    is_open = models.BooleanField(_("进行中"), default=True)
    scoring_rules = models.ForeignKey(
        ScoringRuleSet,
        on_delete=models.PROTECT,
        default=national_rule_set_pk,
        related_name="campaigns",
        verbose_name=_("评分规则"),
        help_text=_("本年度自评表按此规则计分；已提交和已通过的表保留提交时的规则版本。"),
    )
    recheck_rules = models.ForeignKey(
        "rechecks.RecheckRuleSet",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        default=national_recheck_rule_set_pk,
        related_name="campaigns",
        verbose_name=_("复核口径"),
        help_text=_("财政复核和提交前检查所依据的复核口径。"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("创建人"),
    )

    class Meta:
        ordering = ["-year"]
        verbose_name = _("自评任务")
        verbose_name_plural = _("自评任务")
        constraints = [
            models.CheckConstraint(
                condition=Q(year__gte=2000) & Q(year__lte=2100), name="campaign_year_range"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def deadline_for(self, department: Department | int | None) -> datetime.date:
        """The department's deadline: the latest extension granted to it, else the campaign's."""
        if department is None:
            return self.deadline
        extension = (
            self.extensions.filter(department=department).order_by("-created_at", "-id").first()
        )
        return extension.deadline if extension is not None else self.deadline


class DueProject(models.Model):
    """One project of the year that must be evaluated (a row of the 应评项目清单)."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="projects", verbose_name=_("自评任务")
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="due_projects",
        verbose_name=HEADER["department"].label,
    )
    implementing_unit = models.CharField(
        HEADER["implementing_unit"].label,
        max_length=TEXT_LIMITS["implementing_unit"],
        blank=True,
        validators=SINGLE_LINE,
    )
    project_name = models.CharField(
        HEADER["project_name"].label, max_length=TEXT_LIMITS["project_name"], validators=SINGLE_LINE
    )
    project_code = models.CharField(
        _("项目编码"), max_length=PROJECT_CODE_MAX_LENGTH, blank=True, validators=SINGLE_LINE
    )
    initial_budget = models.DecimalField(FUNDING["initial_budget"].label, **MONEY)
    annual_budget = models.DecimalField(FUNDING["annual_budget"].label, **MONEY)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["department__name", "project_name", "pk"]
        verbose_name = _("应评项目")
        verbose_name_plural = _("应评项目清单")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "department", "project_name"],
                name="due_project_unique_name",
                violation_error_message=_("该部门在清单中已有同名项目。"),
            ),
            models.UniqueConstraint(
                fields=["campaign", "department", "project_code"],
                condition=~Q(project_code=""),
                name="due_project_unique_code",
                violation_error_message=_("该部门在清单中已有相同编码的项目。"),
            ),
        ]
        indexes = [models.Index(fields=["campaign", "department"])]

    def __str__(self) -> str:
        return self.project_name


class DueTarget(models.Model):
    """An approved performance target of a due project (绩效目标: one indicator row)."""

    project = models.ForeignKey(
        DueProject, on_delete=models.CASCADE, related_name="targets", verbose_name=_("应评项目")
    )
    position = models.PositiveSmallIntegerField(_("序号"))
    level1 = models.CharField(
        INDICATOR["level1"].label, max_length=TEXT_LIMITS["level1"], validators=CLEAN
    )
    level2 = models.CharField(
        INDICATOR["level2"].label, max_length=TEXT_LIMITS["level2"], blank=True, validators=CLEAN
    )
    name = models.CharField(
        INDICATOR["name"].label, max_length=TEXT_LIMITS["name"], validators=CLEAN
    )
    target = models.CharField(
        INDICATOR["target"].label, max_length=TEXT_LIMITS["target"], blank=True, validators=CLEAN
    )
    weight = models.DecimalField(
        INDICATOR["weight"].label, null=True, blank=True, validators=NON_NEGATIVE, **POINTS
    )

    class Meta:
        ordering = ["project", "position"]
        verbose_name = _("批复绩效目标")
        verbose_name_plural = _("批复绩效目标")

    def __str__(self) -> str:
        return self.name


class DeadlineExtension(models.Model):
    """A later deadline granted to one department (append-only: the rows are its history)."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="extensions", verbose_name=_("自评任务")
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=HEADER["department"].label,
    )
    deadline = models.DateField(_("延长至"))
    reason = models.TextField(_("原因"), max_length=2000, blank=True, validators=CLEAN)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("延期记录")
        verbose_name_plural = _("延期记录")

    def __str__(self) -> str:
        return f"{self.department} → {self.deadline}"


class ReminderKind(models.TextChoices):
    BEFORE_7 = "before_7", _("截止前 7 天")
    BEFORE_3 = "before_3", _("截止前 3 天")
    BEFORE_1 = "before_1", _("截止前 1 天")
    AFTER_1 = "after_1", _("截止后 1 天")
    FINANCE_SUMMARY = "finance_summary", _("财政局每日汇总")
    # Sent by finance from the campaign page to an overdue department (at most once a day).
    BY_FINANCE = "by_finance", _("财政局催报")


class Reminder(models.Model):
    """A reminder to one user on one day: the record that keeps send_reminders idempotent."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="reminders", verbose_name=_("自评任务")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("接收人"),
    )
    day = models.DateField(_("日期"))
    kind = models.CharField(_("类型"), max_length=20, choices=ReminderKind.choices)
    projects = models.PositiveIntegerField(_("未提交项目数"), default=0)
    created_at = models.DateTimeField(_("发送时间"), auto_now_add=True)
    # Shown on the user's start page until read (the in-app side of a reminder).
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    # When its mail went out (null: the user has no address, or the mail failed and the next
    # run of send_reminders tries again).
    mailed_at = models.DateTimeField(_("邮件发送时间"), null=True, blank=True)
    # Its mail (evaluations/mail.py): ``mailed_at`` is set when this mail is sent.
    mail = models.ForeignKey(
        "evaluations.OutgoingMail",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("邮件"),
    )

    class Meta:
        ordering = ["-day", "user"]
        verbose_name = _("催报记录")
        verbose_name_plural = _("催报记录")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "user", "day", "kind"],
                name="reminder_once_per_user_day_and_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.day} {self.get_kind_display()}"
