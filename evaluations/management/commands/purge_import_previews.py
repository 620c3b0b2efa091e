"""Delete the import previews nobody confirmed in time (run from cron, e.g. hourly)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from evaluations.importer.uploads import upload_purge_expired


class Command(BaseCommand):
    help = "删除过期未确认的导入预览文件（可由 cron 定时运行，重复运行无副作用）"

    def handle(self, *args, **options) -> None:
        deleted = upload_purge_expired()
        if options["verbosity"] >= 1:
            self.stdout.write(f"已删除 {deleted} 个过期的导入预览文件。")
