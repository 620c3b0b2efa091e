"""Send the day's reminders for due projects not yet submitted (run daily from cron)."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from campaigns.deadlines import today
from campaigns.reminders import send_reminders


def _day(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"日期格式应为 YYYY-MM-DD：{value}") from exc


class Command(BaseCommand):
    help = (
        "为进行中的自评任务发送催报提醒（站内提醒与邮件）：截止前 7、3、1 天及截止后 1 天"
        "提醒部门填报人和审核人，截止前一周每天向财政局发送汇总。同一天重复运行不会重复发送；"
        "发送失败的邮件在下次运行时重试，有失败时以非零状态退出。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="按哪一天发送（YYYY-MM-DD，默认今天）")
        parser.add_argument(
            "--dry-run", action="store_true", help="只列出将要发送的提醒，不写入、不发邮件"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        day = _day(options["date"]) if options.get("date") else today()
        report = send_reminders(day=day, dry_run=options["dry_run"])
        verb = "将发送" if report.dry_run else "已发送"
        for item in report.sent:
            self.stdout.write(
                f"{verb} {item.campaign.year} {item.kind} → {item.user.get_username()}"
                f"（{item.projects} 个项目{'，邮件' if item.user.email else ''}）"
            )
        for item in report.failed:
            self.stderr.write(
                f"邮件发送失败 {item.campaign.year} {item.kind} → {item.user.get_username()}"
                f"（{item.error}；下次运行时重试）"
            )
        summary = (
            f"{day.isoformat()}：{verb} {len(report.sent)} 条提醒、{report.mails} 封邮件；"
            f"当天已发送过而跳过 {len(report.skipped)} 条。"
        )
        if report.failed:
            # Non-zero exit: cron (or whoever runs it) hears that mail is not going out.
            raise CommandError(
                f"{summary}{len(report.failed)} 封邮件发送失败，未记为已发送，下次运行时重试。"
            )
        self.stdout.write(self.style.SUCCESS(summary))
