"""Import accounts (姓名, 用户名, 主管部门, 角色 ...) from an .xlsx workbook laid out like the template."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from common.commands import logs_to_stderr
from departments.accounts_import import (
    AccountsReport,
    Problem,
    import_accounts,
    passwords_workbook,
    reports_as_json,
)
from evaluations.importer.localfile import LocalFileRefused, read_local_file


class Command(BaseCommand):
    help = "从 .xlsx 工作簿（按模板填写的“账号”表）导入账号；新账号的初始密码写入一个工作簿"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", metavar="FILE.xlsx", help="账号工作簿")
        parser.add_argument("--dry-run", action="store_true", help="只检查，不写入数据库")
        parser.add_argument("--json", action="store_true", help="只在标准输出打印 JSON 报告")
        parser.add_argument(
            "--passwords",
            metavar="OUT.xlsx",
            help="新账号初始密码的工作簿（默认：当前目录下的 初始密码-<时间>.xlsx）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["json"]:
            logs_to_stderr()
        path = Path(options["path"])
        try:
            data = read_local_file(path)
        except LocalFileRefused as refused:
            report = AccountsReport(file=str(path), failed=True)
            report.problems.append(Problem("", "", str(refused)))
        else:
            report = import_accounts(data=data, name=str(path), dry_run=options["dry_run"])
        if report.passwords:
            self._write_passwords(report, options["passwords"])
        if options["json"]:
            self.stdout.write(json.dumps(reports_as_json([report]), ensure_ascii=False, indent=1))
        else:
            self._summary(report, dry_run=options["dry_run"])
        if report.failed:
            raise CommandError(f"文件未能导入：{path}", returncode=2)

    def _write_passwords(self, report: AccountsReport, target: str | None) -> None:
        """The initial passwords, once, in a file only its owner may read."""
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        path = Path(target or f"初始密码-{stamp}.xlsx")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(passwords_workbook(report.passwords))
        # On stderr: with --json stdout holds the report alone.
        self.stderr.write(f"新账号的初始密码（{len(report.passwords)} 个）已写入：{path}")

    def _summary(self, report: AccountsReport, *, dry_run: bool) -> None:
        w = self.stdout.write
        w(f"== {report.file}")
        if report.failed:
            w(self.style.ERROR("   未导入任何数据"))
        elif dry_run:
            w(
                f"   （试运行）将新建 {report.count('would-create')}，"
                f"将更新 {report.count('would-update')}，无变化 {report.count('unchanged')}"
            )
        else:
            w(
                f"   新建 {report.count('created')}，更新 {report.count('updated')}，"
                f"无变化 {report.count('unchanged')}"
            )
        if report.departments_created and not report.failed:
            w("   新建主管部门：" + "、".join(report.departments_created))
        for problem in report.problems:
            where = f"{problem.where}：" if problem.where else ""
            w(self.style.WARNING(f"   {where}{problem.message}"))
