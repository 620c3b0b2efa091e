"""Send the mail that is due (run every few minutes from cron, behind the task worker)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from evaluations.mail import send_queued_mail


class Command(BaseCommand):
    help = (
        "发送到期的邮件：排队未发出的邮件，以及到了重试时间的失败邮件（任务队列不可用或"
        "丢失任务时由此补发）。建议每 5 分钟运行一次。"
    )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = send_queued_mail()
        self.stdout.write(
            f"已发送 {counts['sent']} 封邮件，{counts['failed']} 封发送失败（稍后重试）。"
        )
