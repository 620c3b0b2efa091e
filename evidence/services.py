"""Writes: add and remove evidence files, each in one transaction with its history entry."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from common.archive import megabytes
from common.safetext import safe_filename_text
from evaluations import permissions
from evaluations.models import Evaluation, EvaluationEvent, EventAction
from evaluations.storage import out_of_space, out_of_space_message, save_whole
from evidence.models import EvidenceFile
from evidence.sniff import FileRefused, sniff

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.core.files.uploadedfile import UploadedFile

SECTION = "evidence"


def clean_name(name: str) -> str:
    """The user's file name fit to show and to send back: no path, no control characters."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = safe_filename_text(name).strip().strip(".") or "file"
    if len(name) > 200:
        stem, dot, extension = name.rpartition(".")
        name = stem[: 190 - len(extension)] + dot + extension if dot else name[:200]
    return name


def _locked_editable(evaluation: Evaluation, user: AbstractBaseUser) -> Evaluation:
    """The form locked for the change; refused unless the user may edit it and it is open."""
    locked = Evaluation.objects.select_for_update(of=("self",)).get(pk=evaluation.pk)
    if not permissions.allowed(permissions.EDIT, user, locked):
        raise FileRefused(_("您不能修改此表的佐证材料。"))
    if not locked.is_editable:
        raise FileRefused(locked_message(locked))
    return locked


def locked_message(evaluation: Evaluation) -> str:
    return _("此表状态为“%(status)s”，佐证材料已随表锁定，不能修改。") % {
        "status": evaluation.get_status_display()
    }


def _record(evaluation: Evaluation, user: AbstractBaseUser, change: dict) -> None:
    # History only: the form's revision and content are not touched by a file.
    EvaluationEvent.objects.create(
        evaluation=evaluation,
        action=EventAction.EDITED,
        actor=user,
        from_status=evaluation.status,
        to_status=evaluation.status,
        revision=evaluation.revision,
        changes=[change],
    )


def evidence_total(*, evaluation: Evaluation) -> int:
    return EvidenceFile.objects.filter(evaluation=evaluation).aggregate(s=Sum("size"))["s"] or 0


def evidence_add(
    *,
    evaluation: Evaluation,
    user: AbstractBaseUser,
    upload: UploadedFile,
    caption: str = "",
    row: str = "",
) -> EvidenceFile:
    """Check, store and record one file; raises FileRefused (message in Chinese)."""
    name = clean_name(upload.name or "")
    limit = settings.EVIDENCE_MAX_FILE_BYTES
    if upload.size is not None and upload.size > limit:
        raise FileRefused(
            _("文件“%(name)s”超过 %(limit)s（单个文件上限），未接受。")
            % {"name": name, "limit": megabytes(limit)}
        )
    sniffed = sniff(upload, name)
    if sniffed.size > limit:
        raise FileRefused(
            _("文件“%(name)s”超过 %(limit)s（单个文件上限），未接受。")
            % {"name": name, "limit": megabytes(limit)}
        )
    # Refuse a closed form before anything is stored.
    if not evaluation.is_editable or not permissions.allowed(permissions.EDIT, user, evaluation):
        with transaction.atomic():
            _locked_editable(evaluation, user)
    upload.seek(0)
    # A random name: the user's name never reaches the storage (paths, collisions, scripts).
    try:
        stored = save_whole(f"evidence/{evaluation.pk}/{uuid.uuid4().hex}", upload)
    except OSError as error:
        if out_of_space(error):
            raise FileRefused(
                _("“%(name)s”未上传：%(reason)s。")
                % {"name": name, "reason": out_of_space_message()}
            ) from error
        raise
    try:
        # Durable: this is the commit, so a rollback of the row always reaches the except
        # below (inside a caller's transaction the row could be rolled back after it).
        with transaction.atomic(durable=True):
            locked = _locked_editable(evaluation, user)
            form_limit = settings.EVIDENCE_MAX_FORM_BYTES
            if evidence_total(evaluation=locked) + sniffed.size > form_limit:
                raise FileRefused(
                    _("此表的佐证材料合计将超过 %(limit)s（每张表上限），“%(name)s”未接受。")
                    % {"name": name, "limit": megabytes(form_limit)}
                )
            evidence = EvidenceFile.objects.create(
                evaluation=locked,
                row=row,
                caption=safe_filename_text(caption).strip()[:200],
                original_name=name,
                size=sniffed.size,
                kind=sniffed.kind,
                sha256=sniffed.sha256,
                stored_name=stored,
                uploaded_by=user,
            )
            _record(locked, user, {"section": SECTION, "change": "added", "name": name, "row": row})
    except BaseException:
        default_storage.delete(stored)
        raise
    return evidence


def evidence_delete(*, evidence: EvidenceFile, user: AbstractBaseUser) -> None:
    """Remove a file of an open form; the stored file goes once the removal is committed."""
    with transaction.atomic():
        locked = _locked_editable(evidence.evaluation, user)
        stored = evidence.stored_name
        name, row = evidence.original_name, evidence.row
        EvidenceFile.objects.filter(pk=evidence.pk).delete()
        _record(locked, user, {"section": SECTION, "change": "removed", "name": name, "row": row})
        transaction.on_commit(lambda: default_storage.delete(stored))
