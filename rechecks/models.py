"""The bureau's re-check (复核) of approved forms: the pick, the scores again, the history."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from evaluations.modelfields import POINTS
from evaluations.models import Evaluation


class RecheckStatus(models.TextChoices):
    PENDING = "pending", _("待复核")
    IN_PROGRESS = "in_progress", _("复核中")
    DONE = "done", _("已复核")


class PickMethod(models.TextChoices):
    BY_HAND = "by_hand", _("指定")
    SAMPLE = "sample", _("随机抽取")


class Sample(models.Model):
    """One random draw of a share of the year's approved forms, repeatable from its seed."""

    year = models.PositiveSmallIntegerField(_("年度"))
    share = models.PositiveSmallIntegerField(_("抽取比例（%）"))
    seed = models.BigIntegerField(_("随机种子"))
    weighted = models.BooleanField(_("按资金规模加权"), default=False)
    population = models.PositiveIntegerField(_("可抽取表数"), default=0)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("抽取人"),
    )
    drawn_at = models.DateTimeField(_("抽取时间"), auto_now_add=True)
    evaluations = models.ManyToManyField(
        Evaluation, related_name="samples", verbose_name=_("抽中的表")
    )

    class Meta:
        verbose_name = _("抽查")
        verbose_name_plural = _("抽查")
        ordering = ["-drawn_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(share__gte=1, share__lte=100), name="sample_share_1_100"
            )
        ]

    def __str__(self) -> str:
        return f"{self.year} · {self.share}% · {self.seed}"


class Recheck(models.Model):
    """The bureau's re-check of one approved form (at most one per form)."""

    evaluation = models.OneToOneField(
        Evaluation, on_delete=models.CASCADE, related_name="recheck", verbose_name=_("自评表")
    )
    status = models.CharField(
        _("复核状态"), max_length=16, choices=RecheckStatus.choices, default=RecheckStatus.PENDING
    )
    method = models.CharField(_("抽取方式"), max_length=16, choices=PickMethod.choices)
    sample = models.ForeignKey(
        Sample, on_delete=models.PROTECT, null=True, blank=True, related_name="rechecks"
    )
    picked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("选取人"),
    )
    picked_at = models.DateTimeField(_("选取时间"), auto_now_add=True)
    execution_score = models.DecimalField(
        _("预算执行率得分（复核）"), null=True, blank=True, **POINTS
    )
    opinion = models.TextField(_("复核意见"), blank=True)
    # Stored when saved (the engine's figures at that moment), for lists and the report.
    total = models.DecimalField(_("复核总分"), null=True, blank=True, **POINTS)
    own_total = models.DecimalField(_("自评总分"), null=True, blank=True, **POINTS)
    difference = models.DecimalField(_("差异"), null=True, blank=True, **POINTS)
    quality_poor = models.BooleanField(_("自评质量差"), default=False)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("完成人"),
    )
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("复核")
        verbose_name_plural = _("复核")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(method="sample") | models.Q(sample__isnull=False),
                name="recheck_sample_has_sample",
            )
        ]

    def __str__(self) -> str:
        return f"{self.evaluation} · {self.get_status_display()}"


class RecheckRow(models.Model):
    """Finance's score and opinion for one indicator row (by the row's stable key)."""

    recheck = models.ForeignKey(Recheck, on_delete=models.CASCADE, related_name="rows")
    key = models.CharField(_("行标识"), max_length=32)
    score = models.DecimalField(_("得分（复核）"), null=True, blank=True, **POINTS)
    opinion = models.TextField(_("复核意见"), blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["recheck", "key"], name="recheck_row_unique_key")
        ]

    def __str__(self) -> str:
        return self.key


class RecheckAction(models.TextChoices):
    PICKED = "picked", _("选取复核")
    SAMPLED = "sampled", _("随机抽取")
    STARTED = "started", _("开始复核")
    SAVED = "saved", _("保存复核")
    COMPLETED = "completed", _("完成复核")


class RecheckEvent(models.Model):
    """One entry of a re-check's history."""

    recheck = models.ForeignKey(Recheck, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("操作"), max_length=16, choices=RecheckAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("操作人"),
    )
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    from_status = models.CharField(max_length=16, choices=RecheckStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=RecheckStatus.choices, blank=True)
    reason = models.TextField(_("说明 / 意见"), blank=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.get_action_display()
