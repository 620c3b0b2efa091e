"""Import self-evaluation forms from text dumps of Word tables, Excel or Word files."""

from __future__ import annotations

import json
from collections import Counter

from django.core.management.base import BaseCommand, CommandError, CommandParser

from common.commands import logs_to_stderr
from evaluations.importer.service import FileReport, import_paths, reports_as_json


class Command(BaseCommand):
    help = "导入绩效自评表（Word 表格的文本导出 .txt、Excel .xlsx 或 Word .docx）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH", help="要导入的文件")
        parser.add_argument("--dry-run", action="store_true", help="只检查，不写入数据库")
        parser.add_argument("--json", action="store_true", help="只在标准输出打印 JSON 报告")

    def handle(self, *args, **options) -> None:
        if options["json"]:
            logs_to_stderr()
        reports = import_paths(options["paths"], dry_run=options["dry_run"])
        if options["json"]:
            self.stdout.write(json.dumps(reports_as_json(reports), ensure_ascii=False, indent=1))
        else:
            for report in reports:
                self._summary(report, dry_run=options["dry_run"])
        unreadable = [r.path for r in reports if not r.readable or r.failed]
        if unreadable:
            raise CommandError("以下文件未能导入：" + "、".join(unreadable), returncode=2)

    def _summary(self, report: FileReport, *, dry_run: bool) -> None:
        w = self.stdout.write
        w(f"== {report.path}")
        if report.failed:
            w(self.style.ERROR("   未导入任何数据"))
        w(f"   读取自评表 {len(report.forms)} 张")
        if dry_run:
            w(
                f"   （试运行）将新建 {report.count('would-create')}，将更新 {report.count('would-update')}，"
                f"无变化 {report.count('unchanged')}，跳过 {report.count('skipped')}"
            )
        else:
            w(
                f"   新建 {report.count('created')}，更新 {report.count('updated')}，"
                f"无变化 {report.count('unchanged')}，跳过 {report.count('skipped')}"
            )
        codes = Counter(f.code for form in report.forms for f in form.result.findings)
        if codes:
            w("   问题代码：" + "，".join(f"{code} × {n}" for code, n in sorted(codes.items())))
        for problem in report.problems:
            where = f"第 {problem.line} 行：" if problem.line else ""
            w(self.style.WARNING(f"   {where}{problem.message}"))
