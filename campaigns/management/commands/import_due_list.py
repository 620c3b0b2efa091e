"""Import the list of projects due (应评项目清单) of a year's campaign from an .xlsx file."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from campaigns.due_list import DueListReport, Problem, import_due_list, reports_as_json
from campaigns.models import Campaign
from common.commands import logs_to_stderr
from evaluations.importer.localfile import LocalFileRefused, read_local_file


class Command(BaseCommand):
    help = "导入某年度自评任务的应评项目清单（.xlsx，按模板填写）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, required=True, help="自评任务的年度")
        parser.add_argument("path", metavar="FILE.xlsx", help="应评项目清单文件")
        parser.add_argument("--dry-run", action="store_true", help="只检查，不写入数据库")
        parser.add_argument("--json", action="store_true", help="只在标准输出打印 JSON 报告")

    def handle(self, *args, **options) -> None:
        if options["json"]:
            logs_to_stderr()
        campaign = Campaign.objects.filter(year=options["year"]).first()
        if campaign is None:
            raise CommandError(
                f"{options['year']} 年度的自评任务不存在：请先在 /campaigns/ 新建该年度的自评任务。"
            )
        path = Path(options["path"])
        report = self._import(campaign, path, dry_run=options["dry_run"])
        if options["json"]:
            self.stdout.write(json.dumps(reports_as_json([report]), ensure_ascii=False, indent=1))
        else:
            self._summary(report, dry_run=options["dry_run"])
        if report.failed:
            raise CommandError(f"文件未能导入：{path}", returncode=2)

    def _import(self, campaign: Campaign, path: Path, *, dry_run: bool) -> DueListReport:
        try:
            data = read_local_file(path)
        except LocalFileRefused as refused:
            report = DueListReport(file=str(path), failed=True)
            report.problems.append(Problem("", "", str(refused)))
            return report
        return import_due_list(campaign=campaign, data=data, name=str(path), dry_run=dry_run)

    def _summary(self, report: DueListReport, *, dry_run: bool) -> None:
        w = self.stdout.write
        w(f"== {report.file}")
        if report.failed:
            w(self.style.ERROR("   未导入任何数据"))
        if dry_run:
            w(
                f"   （试运行）将新建 {report.count('would-create')}，将更新 {report.count('would-update')}，"
                f"无变化 {report.count('unchanged')}，将移出 {report.count('would-remove')}，"
                f"保留 {report.count('kept')}"
            )
        else:
            w(
                f"   新建 {report.count('created')}，更新 {report.count('updated')}，"
                f"无变化 {report.count('unchanged')}，移出 {report.count('removed')}，"
                f"保留 {report.count('kept')}"
            )
        if report.departments_created:
            w("   新建主管部门：" + "、".join(report.departments_created))
        for problem in report.problems:
            where = f"{problem.where}：" if problem.where else ""
            w(self.style.WARNING(f"   {where}{problem.message}"))
