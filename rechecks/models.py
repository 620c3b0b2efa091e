"""The bureau's re-check (复核) of approved forms: the pick, the scores again, the history."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from evaluations.modelfields import POINTS
from evaluations.models import Evaluation

NATIONAL_RULE_SET = "全国通用复核口径"


def parse_percentages(text: str) -> list[int]:
    """ "30,60,100" -> [30, 60, 100]; full-width commas and spaces allowed; ValueError if bad."""
    parts = [p.strip() for p in text.replace("，", ",").replace("、", ",").split(",")]
    values = [int(p) for p in parts if p]
    if any(not 0 < v <= 100 for v in values):
        raise ValueError(text)
    return values


def validate_percentages(text: str) -> None:
    try:
        parse_percentages(text)
    except ValueError as exc:
        raise ValidationError(
            _("扣分比例应为 1 到 100 的整数，用逗号分隔，如 30,60,100。")
        ) from exc


class RuleEffect(models.TextChoices):
    """What a re-check rule does to an indicator's score."""

    ZERO = "zero", _("该指标得0分")
    PERCENT = "percent", _("按分值比例扣分")
    NONE = "none", _("不扣分")
    ONCE = "once", _("重复设置只计一次，其余得0分")


class RecheckRuleSet(models.Model):
    """A published set of re-check rules (复核口径) that finance edits; a campaign picks one."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    description = models.TextField(_("说明"), blank=True)
    # Rule 1 (佐证) is checked at submission only where the campaign asks for evidence.
    requires_evidence = models.BooleanField(
        _("要求上传佐证材料"),
        default=False,
        help_text=_("勾选后，提交前检查每个指标是否有佐证材料（复核口径第1条）。"),
    )
    execution_threshold = models.DecimalField(
        _("执行率预警线（%）"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("90"),
        help_text=_("执行率低于此值而全部指标满分的，提交前提示。"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("复核口径")
        verbose_name_plural = _("复核口径")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.name


def national_rule_set_pk() -> int | None:
    """The national default rule set's id: a new campaign's re-check rules."""
    return (
        RecheckRuleSet.objects.filter(name=NATIONAL_RULE_SET).values_list("pk", flat=True).first()
    )


class RecheckRule(models.Model):
    """One rule of a set: its code, wording, and what it does to the score."""

    rule_set = models.ForeignKey(
        RecheckRuleSet, on_delete=models.CASCADE, related_name="rules", verbose_name=_("复核口径")
    )
    code = models.CharField(_("编号"), max_length=16)
    wording = models.TextField(_("内容"))
    effect = models.CharField(_("扣分方式"), max_length=16, choices=RuleEffect.choices)
    # Percent rules only: the deductions finance may choose, by severity ("30,60,100").
    percentages = models.CharField(
        _("扣分比例（%）"),
        max_length=50,
        blank=True,
        validators=[validate_percentages],
        help_text=_("按分值比例扣分时填写，多个比例用逗号分隔，如 30,60,100。"),
    )
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)
    active = models.BooleanField(_("启用"), default=True)
    # A check that anticipates this rule stops submission (an error) instead of a warning.
    blocks = models.BooleanField(_("提交前必须改正"), default=False)

    class Meta:
        verbose_name = _("复核口径条目")
        verbose_name_plural = _("复核口径条目")
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["rule_set", "code"], name="recheck_rule_unique_code")
        ]

    def __str__(self) -> str:
        return _("第%(code)s条") % {"code": self.code}

    @property
    def percent_list(self) -> list[int]:
        """The percentages a PERCENT rule offers, in order; [] for the others."""
        if self.effect != RuleEffect.PERCENT:
            return []
        return parse_percentages(self.percentages)


class RecheckRuleChange(models.Model):
    """One change to a rule set: who, when, what (the rule set's history)."""

    rule_set = models.ForeignKey(
        RecheckRuleSet, on_delete=models.CASCADE, related_name="changes", verbose_name=_("复核口径")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("操作人"),
    )
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    code = models.CharField(_("编号"), max_length=16, blank=True)
    detail = models.TextField(_("修改内容"))

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("复核口径修改记录")
        verbose_name_plural = _("复核口径修改记录")

    def __str__(self) -> str:
        return self.detail


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
    # The rule the score was chosen by (and its percentage for a percent rule); blank: typed.
    rule = models.ForeignKey(
        RecheckRule,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("复核口径"),
    )
    percent = models.PositiveSmallIntegerField(_("扣分比例（%）"), null=True, blank=True)

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
