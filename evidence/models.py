"""Evidence files (佐证材料): proof attached to a form, or to one of its rows."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from evaluations.models import Evaluation

# The row a file belongs to: "" (the whole form), FUNDING_ROW, or an Indicator.key.
FUNDING_ROW = "funding"


class Kind(models.TextChoices):
    """The type decided from the content (evidence/sniff.py), never from the name."""

    PDF = "pdf", "PDF"
    JPEG = "jpeg", "JPEG"
    PNG = "png", "PNG"
    DOCX = "docx", "Word (.docx)"
    XLSX = "xlsx", "Excel (.xlsx)"
    OFD = "ofd", "OFD"


CONTENT_TYPES = {
    Kind.PDF: "application/pdf",
    Kind.JPEG: "image/jpeg",
    Kind.PNG: "image/png",
    Kind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    Kind.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    Kind.OFD: "application/ofd",
}
# Shown in the page (an <img> or an <iframe>) rather than only downloaded.
PREVIEWABLE = {Kind.PDF, Kind.JPEG, Kind.PNG}


class EvidenceFile(models.Model):
    """One stored file; the stored name is random, the user's name is kept (cleaned) apart."""

    evaluation = models.ForeignKey(
        Evaluation, on_delete=models.PROTECT, related_name="evidence", verbose_name=_("自评表")
    )
    row = models.CharField(_("所属行"), max_length=32, blank=True)
    caption = models.CharField(_("说明"), max_length=200, blank=True)
    original_name = models.CharField(_("文件名"), max_length=200)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    stored_name = models.CharField(_("存储名"), max_length=200, unique=True, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("上传人"),
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("佐证材料")
        verbose_name_plural = _("佐证材料")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=[k.value for k in Kind]), name="evidence_kind_known"
            ),
        ]

    def __str__(self) -> str:
        return self.original_name

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[Kind(self.kind)]

    @property
    def previewable(self) -> bool:
        return self.kind in PREVIEWABLE

    def missing_message(self) -> str:
        """What the user reads when the stored file is gone (a restore without the files)."""
        return _(
            "佐证材料“%(name)s”（自评表“%(form)s”）的文件在服务器上找不到，请联系管理员从备份恢复。"
        ) % {"name": self.original_name, "form": self.evaluation.project_name}

    @property
    def is_image(self) -> bool:
        return self.kind in (Kind.JPEG, Kind.PNG)
