"""The self-evaluation form (项目支出绩效自评表): header, funding rows and indicators."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils.translation import gettext_lazy as _

from common.safetext import SINGLE_LINE
from departments.models import Department
from evaluations.core.categories import DEFAULT_TEMPLATE, TEMPLATE_LABELS
from evaluations.core.evaluation_data import FormData
from evaluations.core.fields import FUNDING, HEADER, INDICATOR, FundingKind
from evaluations.core.limits import LONG_TEXTS, SINGLE_LINE_TEXTS, TEXT_LIMITS
from evaluations.history import describe_change
from evaluations.mapping import form_data_from_models
from evaluations.modelfields import CLEAN, MONEY, NON_NEGATIVE, POINTS

# The rule-set models live in their own module; importing it registers them with the app.
from evaluations.rulesets import ScoringRuleSetVersion


class Status(models.TextChoices):
    DRAFT = "draft", _("草稿")
    # With a campaign that requires it: the department's own head checks before the bureau.
    DEPARTMENT_REVIEW = "department_review", _("部门审核")
    SUBMITTED = "submitted", _("已提交")
    RETURNED = "returned", _("已退回")
    APPROVED = "approved", _("已通过")


# The forms handed to the bureau (已提交, 已通过). Only these are graded and counted in score
# distributions: a draft, a form with the department's head (部门审核) or a returned one is
# still being written, and its total (0 for an empty draft) is not a result.
HANDED_IN = (Status.SUBMITTED, Status.APPROVED)


def _text(label: str, key: str, **kwargs: object) -> models.Field:
    """A text field of the form: bounded by TEXT_LIMITS, free of control characters.

    Single-line texts (SINGLE_LINE_TEXTS) refuse line breaks and tabs as well.

    Long texts are TextFields (max_length then bounds forms and validation only; a check
    constraint bounds the database); short ones are CharFields.
    """
    limit = TEXT_LIMITS[key]
    if key in LONG_TEXTS:
        return models.TextField(label, max_length=limit, validators=CLEAN, **kwargs)
    validators = SINGLE_LINE if key in SINGLE_LINE_TEXTS else CLEAN
    return models.CharField(label, max_length=limit, validators=validators, **kwargs)


def _length_check(field: str, key: str, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=LessThanOrEqual(Length(field), TEXT_LIMITS[key]), name=name
    )


class EvaluationQuerySet(models.QuerySet["Evaluation"]):
    def for_year(self, year: int) -> EvaluationQuerySet:
        return self.filter(year=year)

    def for_department(self, department: Department | int) -> EvaluationQuerySet:
        return self.filter(department=department)

    def submitted(self) -> EvaluationQuerySet:
        return self.filter(status=Status.SUBMITTED)


class Evaluation(models.Model):
    """One 项目支出绩效自评表 of one department, year and project."""

    year = models.PositiveSmallIntegerField(HEADER["year"].label)
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="evaluations",
        verbose_name=HEADER["department"].label,
    )
    implementing_unit = _text(HEADER["implementing_unit"].label, "implementing_unit", blank=True)
    project_name = _text(HEADER["project_name"].label, "project_name")
    template = models.CharField(
        _("表样版本"),
        max_length=32,
        default=DEFAULT_TEMPLATE,
        choices=list(TEMPLATE_LABELS.items()),
    )
    goal_target = _text(HEADER["goal_target"].label, "goal_target", blank=True)
    goal_actual = _text(HEADER["goal_actual"].label, "goal_actual", blank=True)
    status = models.CharField(
        _("状态"), max_length=24, choices=Status.choices, default=Status.DRAFT
    )

    # What the form states (never rewritten by the system).
    execution_weight = models.DecimalField(
        HEADER["execution_weight"].label, default=Decimal("10"), validators=NON_NEGATIVE, **POINTS
    )
    stated_execution_score = models.DecimalField(
        _("预算执行得分（表中填写）"), null=True, blank=True, **POINTS
    )
    stated_total = models.DecimalField(_("总分（表中填写）"), null=True, blank=True, **POINTS)
    # True when the two figures above were not typed but set to what the rules compute (the
    # web form): the form prints them, lists do not show them as the department's own.
    totals_computed = models.BooleanField(_("总分由系统计算"), default=False)

    # What the scoring engine computed at the last save (kept for lists and reports).
    computed_execution_rate = models.DecimalField(
        _("执行率"), max_digits=12, decimal_places=6, null=True, blank=True
    )
    computed_execution_score = models.DecimalField(
        _("预算执行得分（计算）"), null=True, blank=True, **POINTS
    )
    computed_total = models.DecimalField(_("总分（计算）"), null=True, blank=True, **POINTS)
    error_count = models.PositiveIntegerField(_("错误数"), default=0)
    warning_count = models.PositiveIntegerField(_("警告数"), default=0)
    # The rule-set version those figures were computed with (None: not scored since rule
    # sets were stored). A submitted or approved form keeps being scored with it.
    scoring_rules_version = models.ForeignKey(
        ScoringRuleSetVersion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("评分规则版本"),
    )

    # Optimistic locking: bumped on every save; a save based on an older revision is refused.
    revision = models.PositiveIntegerField(_("版本号"), default=1)
    source = models.CharField(_("来源"), max_length=300, blank=True)

    # The campaign's project this form evaluates (None: a form outside the due list, or
    # from before campaigns existed).
    due_project = models.OneToOneField(
        "campaigns.DueProject",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="evaluation",
        verbose_name=_("应评项目"),
    )
    # The signature block below the table (填报人, 联系电话, 单位负责人).
    filler_name = _text(HEADER["filler_name"].label, "filler_name", blank=True)
    filler_phone = _text(HEADER["filler_phone"].label, "filler_phone", blank=True)
    unit_head = _text(HEADER["unit_head"].label, "unit_head", blank=True)

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
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("最后修改人"),
    )
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    approved_at = models.DateTimeField(_("通过时间"), null=True, blank=True)

    objects = EvaluationQuerySet.as_manager()

    class Meta:
        ordering = ["-year", "department__name", "project_name"]
        verbose_name = _("绩效自评表")
        verbose_name_plural = _("绩效自评表")
        constraints = [
            models.UniqueConstraint(
                fields=["department", "year", "project_name"],
                name="evaluation_unique_department_year_project",
                violation_error_message=_("该部门在该年度已有同名项目的自评表。"),
            ),
            models.CheckConstraint(
                condition=Q(execution_weight__gte=0),
                name="evaluation_execution_weight_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(year__gte=2000) & Q(year__lte=2100), name="evaluation_year_range"
            ),
            _length_check("goal_target", "goal_target", "evaluation_goal_target_length"),
            _length_check("goal_actual", "goal_actual", "evaluation_goal_actual_length"),
        ]
        indexes = [
            models.Index(fields=["status", "year"]),
            models.Index(fields=["year", "department"]),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.project_name}"

    def get_status_display(self) -> str:
        """The state's label, as Django's would give it.

        Django's own builds a dictionary of every choice (hashing each lazy label, that is
        translating it) at each call: a tenth of the list page's time with 50 rows.
        """
        try:
            return str(Status(self.status).label)
        except ValueError:
            return self.status

    @property
    def is_editable(self) -> bool:
        return self.status in (Status.DRAFT, Status.RETURNED)

    @property
    def is_handed_in(self) -> bool:
        """True once the form is with the bureau or approved: only then is it graded."""
        return self.status in HANDED_IN

    def as_form_data(self) -> FormData:
        """Return the form's data for the scoring engine and exports."""
        return self.form_data_with(list(self.funding_rows.all()), list(self.indicators.all()))

    def form_data_with(self, funding: list[FundingRow], indicators: list[Indicator]) -> FormData:
        """The form's data with the given rows (stored or about to be stored)."""
        return form_data_from_models(self, funding, indicators)


class FundingRow(models.Model):
    """One row of the funding block (万元)."""

    evaluation = models.ForeignKey(
        Evaluation, on_delete=models.CASCADE, related_name="funding_rows", verbose_name=_("自评表")
    )
    kind = models.CharField(_("资金类别"), max_length=16, choices=FundingKind.choices)
    initial_budget = models.DecimalField(FUNDING["initial_budget"].label, **MONEY)
    annual_budget = models.DecimalField(FUNDING["annual_budget"].label, **MONEY)
    executed = models.DecimalField(FUNDING["executed"].label, **MONEY)

    class Meta:
        verbose_name = _("资金行")
        verbose_name_plural = _("项目资金（万元）")
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "kind"], name="funding_unique_kind"),
            models.CheckConstraint(
                condition=(
                    (Q(initial_budget__isnull=True) | Q(initial_budget__gte=0))
                    & (Q(annual_budget__isnull=True) | Q(annual_budget__gte=0))
                    & (Q(executed__isnull=True) | Q(executed__gte=0))
                ),
                name="funding_money_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()


def new_row_key() -> str:
    """A new indicator row's identity: random, short, never reused."""
    return uuid.uuid4().hex


class Indicator(models.Model):
    """One row of the indicator table."""

    evaluation = models.ForeignKey(
        Evaluation, on_delete=models.CASCADE, related_name="indicators", verbose_name=_("自评表")
    )
    # Identity of the row across edits (moving a row keeps it); history refers to rows by it.
    key = models.CharField(_("行标识"), max_length=32, default=new_row_key, editable=False)
    position = models.PositiveSmallIntegerField(_("序号"))
    # Blank is stored (saving a draft always works); CATEGORY_MISSING blocks its submission.
    level1 = _text(INDICATOR["level1"].label, "level1", blank=True)
    level2 = _text(INDICATOR["level2"].label, "level2", blank=True)
    name = _text(INDICATOR["name"].label, "name")
    target = _text(INDICATOR["target"].label, "target", blank=True)
    actual = _text(INDICATOR["actual"].label, "actual", blank=True)
    target_comparator = models.CharField(_("指标值比较符"), max_length=2, blank=True)
    target_number = models.DecimalField(
        _("指标值数值"), max_digits=20, decimal_places=6, null=True, blank=True
    )
    target_unit = models.CharField(_("指标值单位"), max_length=20, blank=True)
    actual_comparator = models.CharField(_("完成值比较符"), max_length=2, blank=True)
    actual_number = models.DecimalField(
        _("完成值数值"), max_digits=20, decimal_places=6, null=True, blank=True
    )
    actual_unit = models.CharField(_("完成值单位"), max_length=20, blank=True)
    weight = models.DecimalField(
        INDICATOR["weight"].label, default=Decimal("0"), validators=NON_NEGATIVE, **POINTS
    )
    score = models.DecimalField(INDICATOR["score"].label, null=True, blank=True, **POINTS)
    deviation = _text(INDICATOR["deviation"].label, "deviation", blank=True)
    # The approved target (绩效目标) of the due list this row started from; "" for a row
    # the department added. A target that differs from it raises TARGET_CHANGED.
    approved_target = _text(INDICATOR["approved_target"].label, "target", blank=True)
    approved_weight = models.DecimalField(
        INDICATOR["approved_weight"].label, null=True, blank=True, **POINTS
    )

    class Meta:
        ordering = ["position"]
        verbose_name = _("绩效指标")
        verbose_name_plural = _("绩效指标")
        # The copied-indicator check (evaluations/recheck_context.py) looks a form's 三级指标
        # up among the year's other forms on every save, preview and detail page.
        indexes = [models.Index(fields=["name"], name="indicator_name")]
        constraints = [
            models.CheckConstraint(
                condition=Q(weight__gte=0), name="indicator_weight_non_negative"
            ),
            models.UniqueConstraint(fields=["evaluation", "key"], name="indicator_unique_key"),
            _length_check("deviation", "deviation", "indicator_deviation_length"),
        ]

    def __str__(self) -> str:
        return self.name


class EventAction(models.TextChoices):
    CREATED = "created", _("新建")
    EDITED = "edited", _("修改")
    IMPORTED = "imported", _("导入")
    SUBMITTED = "submitted", _("提交")
    RETURNED = "returned", _("退回")
    APPROVED = "approved", _("审核通过")
    REOPENED = "reopened", _("重新开放")
    SENT_FOR_SIGN_OFF = "sent_for_sign_off", _("提交部门审核")
    SIGNED_OFF = "signed_off", _("部门审核通过")
    DEPARTMENT_RETURNED = "department_returned", _("部门退回")
    # recompute_scores --apply: the figures computed again with another rule-set version.
    RESCORED = "rescored", _("重新计分")


class EvaluationEvent(models.Model):
    """One entry of an evaluation's history: an edit (with old and new values) or a transition.

    History is append-only: nothing in the application edits or deletes these rows.
    """

    evaluation = models.ForeignKey(
        Evaluation, on_delete=models.PROTECT, related_name="events", verbose_name=_("自评表")
    )
    action = models.CharField(_("操作"), max_length=24, choices=EventAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    from_status = models.CharField(_("原状态"), max_length=24, choices=Status.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=24, choices=Status.choices, blank=True)
    revision = models.PositiveIntegerField(_("版本号"))
    reason = models.TextField(_("原因 / 说明"), blank=True)
    # Edits: field keys and values, no labels (evaluations/history.py describes the format);
    # labels are rendered when shown (describe_change).
    changes = models.JSONField(_("变更内容"), default=list, blank=True)
    acknowledgements = models.JSONField(_("已确认的警告"), default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("历史记录")
        verbose_name_plural = _("历史记录")

    def __str__(self) -> str:
        return f"{self.evaluation_id} {self.get_action_display()} {self.created_at:%Y-%m-%d %H:%M}"

    def described_changes(self) -> list[dict[str, Any]]:
        """The changes as shown: {"label", "old", "new"} each, labels from the catalogue."""
        return [describe_change(c) for c in self.changes or []]


class EvaluationVersion(models.Model):
    """The complete content of an evaluation at one revision (for diffs between versions)."""

    evaluation = models.ForeignKey(
        Evaluation, on_delete=models.PROTECT, related_name="versions", verbose_name=_("自评表")
    )
    revision = models.PositiveIntegerField(_("版本号"))
    data = models.JSONField(_("内容"))
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        ordering = ["-revision"]
        verbose_name = _("历史版本")
        verbose_name_plural = _("历史版本")
        constraints = [
            models.UniqueConstraint(
                fields=["evaluation", "revision"], name="version_unique_revision"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.evaluation_id} v{self.revision}"


class CommentTarget(models.TextChoices):
    INDICATOR = "indicator", _("指标行")
    FUNDING = "funding", _("资金行")
    EVIDENCE = "evidence", _("佐证材料")


class ReviewComment(models.Model):
    """A reviewer's comment on one indicator or funding row, given with a return."""

    event = models.ForeignKey(
        EvaluationEvent,
        on_delete=models.PROTECT,
        related_name="comments",
        verbose_name=_("退回记录"),
    )
    evaluation = models.ForeignKey(
        Evaluation,
        on_delete=models.PROTECT,
        related_name="review_comments",
        verbose_name=_("自评表"),
    )
    target = models.CharField(_("位置"), max_length=16, choices=CommentTarget.choices)
    # Indicators are identified by their position (1-based) at the time of the return;
    # funding rows by their kind. The label keeps the row's name as the reviewer saw it.
    position = models.PositiveSmallIntegerField(_("指标序号"), null=True, blank=True)
    funding_kind = models.CharField(
        _("资金类别"), max_length=16, choices=FundingKind.choices, blank=True
    )
    label = models.CharField(_("行名称"), max_length=500, blank=True)
    # A comment on one evidence file (target "evidence"); the label keeps its name.
    evidence = models.ForeignKey(
        "evidence.EvidenceFile",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="review_comments",
        verbose_name=_("佐证材料"),
    )
    text = models.TextField(_("意见"))

    class Meta:
        ordering = ["event", "target", "position"]
        verbose_name = _("审核意见")
        verbose_name_plural = _("审核意见")

    def __str__(self) -> str:
        return f"{self.label}: {self.text[:40]}"


class Notification(models.Model):
    """An unread marker for one user about one evaluation."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("接收人"),
    )
    evaluation = models.ForeignKey(
        Evaluation, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("自评表")
    )
    event = models.ForeignKey(
        EvaluationEvent,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("事件"),
    )
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return f"{self.user_id} {self.evaluation_id} {self.event_id}"


class ImportUpload(models.Model):
    """An uploaded file kept between the import preview and its confirmation.

    Stored in the database (not in process memory or on local disk) so the confirmation
    may reach any app server; rows expire and are purged on later uploads.
    """

    batch = models.UUIDField(_("批次"), db_index=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("上传人"),
    )
    name = models.CharField(_("文件名"), max_length=255)
    data = models.BinaryField(_("文件内容"))
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    expires_at = models.DateTimeField(_("过期时间"), db_index=True)

    class Meta:
        ordering = ["batch", "id"]
        verbose_name = _("待确认的导入文件")
        verbose_name_plural = _("待确认的导入文件")

    def __str__(self) -> str:
        return self.name


class MailStatus(models.TextChoices):
    QUEUED = "queued", _("待发送")
    SENT = "sent", _("已发送")
    # A failed attempt: retried at ``next_attempt_at``; given up when that is empty.
    FAILED = "failed", _("发送失败")


class OutgoingMail(models.Model):
    """One mail to send: stored in the step that asks for it, sent by the task worker
    (evaluations/mail.py), so that no request waits on an SMTP server."""

    recipients = models.JSONField(_("收件人"), default=list)
    subject = models.CharField(_("主题"), max_length=998)
    body = models.TextField(_("正文"))
    status = models.CharField(
        _("状态"), max_length=10, choices=MailStatus.choices, default=MailStatus.QUEUED
    )
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    last_error = models.TextField(_("失败原因"), blank=True)
    # When the worker (or ``send_queued_mail``) may try it next; empty once sent or given up.
    next_attempt_at = models.DateTimeField(_("下次尝试时间"), null=True, blank=True)
    # Held by the one sender trying it now; a sender killed mid-send lets it lapse.
    locked_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("邮件")
        verbose_name_plural = _("邮件")
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="mail_due_idx")]

    def __str__(self) -> str:
        return self.subject
