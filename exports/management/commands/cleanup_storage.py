"""Delete files nothing refers to, older than a day (evidence, exports, PDF cache leftovers)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from exports.cleanup import cleanup_storage


class Command(BaseCommand):
    help = (
        "删除一天前留下、无记录引用的文件：无记录的佐证材料、无导出任务的导出文件、"
        "PDF 缓存的临时文件和锁文件、已删除自评表的缓存（供 cron 每天运行）"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help=_("只统计，不删除"))

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run = options["dry_run"]
        done = cleanup_storage(dry_run=dry_run)
        kinds = [
            (_("无记录的佐证材料"), done.evidence),
            (_("无导出任务的导出文件"), done.exports),
            (_("PDF 缓存的临时文件和锁文件"), done.cache_working),
            (_("已删除自评表的 PDF 缓存"), done.cache_of_deleted_forms),
        ]
        verb = _("将删除") if dry_run else _("已删除")
        for label, removed in kinds:
            self.stdout.write(
                _("%(label)s：%(verb)s %(files)s 个文件（%(size)s）")
                % {
                    "label": label,
                    "verb": verb,
                    "files": removed.files,
                    "size": filesizeformat(removed.bytes),
                }
            )
        if dry_run:
            self.stdout.write(_("试运行：没有删除任何文件。"))
