"""Check that every stored file the database refers to is in storage, and evidence intact.

Run after a restore (docs/backup.md): evidence files are compared with the SHA-256 recorded
at upload; campaign notices and finished, unexpired export files are checked for presence.
Exits 1 when anything is missing or changed.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from campaigns.models import Campaign
from evidence.models import EvidenceFile
from exports.models import ExportJob, State


def _sha256(name: str) -> str | None:
    """The stored file's SHA-256, None when it is missing."""
    digest = hashlib.sha256()
    try:
        with default_storage.open(name, "rb") as handle:
            for block in iter(lambda: handle.read(1024 * 1024), b""):
                digest.update(block)
    except FileNotFoundError:
        return None
    return digest.hexdigest()


class Command(BaseCommand):
    help = "检查数据库引用的文件（佐证材料、通知 PDF、导出文件）是否都在存储中且佐证材料未损坏"

    def handle(self, *args: Any, **options: Any) -> None:
        problems: list[str] = []
        evidence_count = 0
        for evidence in EvidenceFile.objects.select_related("evaluation").iterator():
            evidence_count += 1
            found = _sha256(evidence.stored_name)
            where = f"evidence {evidence.pk} ({evidence.evaluation.project_name} / {evidence.original_name}): {evidence.stored_name}"
            if found is None:
                problems.append(f"missing  {where}")
            elif found != evidence.sha256:
                problems.append(f"changed  {where}")
        notices = Campaign.objects.exclude(notice_file="")
        for campaign in notices:
            if not default_storage.exists(campaign.notice_file.name):
                problems.append(f"missing  notice {campaign.year}: {campaign.notice_file.name}")
        exports = ExportJob.objects.filter(state=State.DONE, expires_at__gt=timezone.now())
        for job in exports.exclude(file=""):
            if not default_storage.exists(job.file):
                problems.append(f"missing  export {job.pk}: {job.file}")
        for line in problems:
            self.stdout.write(line)
        self.stdout.write(
            f"checked {evidence_count} evidence files, {notices.count()} notices, "
            f"{exports.count()} export files: {len(problems)} problems"
        )
        if problems:
            raise CommandError(f"{len(problems)} stored files are missing or changed")
