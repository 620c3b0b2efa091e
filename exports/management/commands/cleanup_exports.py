"""Delete export files older than EXPORT_KEEP_DAYS (or beyond a user's
EXPORT_MAX_BYTES_PER_USER, oldest first) and restart parts of interrupted jobs."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from exports.jobs import cleanup_exports


class Command(BaseCommand):
    help = (
        "删除超过保存期限（或超出每人存储上限，从最早的开始）的导出文件，"
        "重新启动被中断或未能排队的导出任务，并补排已通过自评表的 PDF 生成（供 cron 每小时运行）"
    )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = cleanup_exports()
        self.stdout.write(
            _(
                "已过期 %(expired)s 个，已停止 %(abandoned)s 个，已重新启动 %(restarted)s 个，"
                "失去进程的后台任务 %(orphaned)s 个已标为失败，"
                "补排已通过自评表的 PDF 生成 %(renders_queued)s 个。"
            )
            % counts
        )
