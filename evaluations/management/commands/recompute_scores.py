"""Say what the rule sets in force would change in each form's figures; change it with --apply."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from campaigns.models import Campaign
from evaluations.core.scoring import evaluate
from evaluations.models import Evaluation, EvaluationEvent, EventAction, Status
from evaluations.rules import RulesCache
from evaluations.rulesets import ScoringRuleSetVersion
from evaluations.services import evaluation_recompute


def _version_name(version: ScoringRuleSetVersion | None) -> str:
    return str(version) if version is not None else "—"


def _total(value: object) -> str:
    return "—" if value is None else str(value)


class Command(BaseCommand):
    help = (
        "按各年度自评任务的评分规则（最新版本）重新计算自评表的执行率、总分和问题数："
        "默认只列出每张表会有的变化（原总分 → 新总分），加 --apply 才修改；"
        "已通过的表只有再加 --include-approved 才修改，并记入历史。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, help="只处理该年度的自评表")
        parser.add_argument("--campaign", type=int, help="只处理该自评任务（编号）年度的自评表")
        parser.add_argument("--apply", action="store_true", help="修改（默认只列出变化）")
        parser.add_argument(
            "--include-approved",
            action="store_true",
            help="已通过的表也重新计分（默认不改已通过的表）",
        )

    def handle(self, *args, **options) -> None:
        queryset = Evaluation.objects.select_related(
            "department", "scoring_rules_version__rule_set"
        ).prefetch_related("funding_rows", "indicators", "due_project__targets")
        if options["campaign"] is not None:
            campaign = Campaign.objects.filter(pk=options["campaign"]).first()
            if campaign is None:
                raise CommandError(f"自评任务 {options['campaign']} 不存在。")
            queryset = queryset.filter(year=campaign.year)
        if options["year"] is not None:
            queryset = queryset.filter(year=options["year"])
        apply, include_approved = options["apply"], options["include_approved"]
        cache = RulesCache()
        changed = total = kept = 0
        for evaluation in queryset.order_by("year", "pk").iterator(chunk_size=200):
            total += 1
            version = cache.version_of_year(evaluation.year)
            result = evaluate(evaluation.as_form_data(), cache.rules_of_version(version))
            before = (evaluation.computed_total, evaluation.error_count, evaluation.warning_count)
            after = (result.computed_total, len(result.errors), len(result.warnings))
            if before == after and evaluation.scoring_rules_version_id == version.pk:
                continue
            changed += 1
            approved = evaluation.status == Status.APPROVED
            line = (
                f"{evaluation.pk} {evaluation.year} {evaluation.department.name}"
                f"“{evaluation.project_name}”：总分 {_total(before[0])} → {_total(after[0])}，"
                f"错误 {before[1]} → {after[1]}，警告 {before[2]} → {after[2]}"
                f"（{_version_name(evaluation.scoring_rules_version)} → {_version_name(version)}）"
            )
            if approved and not include_approved:
                kept += 1
                self.stdout.write(line + "；已通过，未修改（加 --include-approved 才修改）")
                continue
            self.stdout.write(line + ("；已修改" if apply else ""))
            if apply:
                with transaction.atomic():
                    old_version = evaluation.scoring_rules_version
                    evaluation_recompute(evaluation=evaluation, version=version)
                    # The form's own history says its figures changed, and by which rules.
                    EvaluationEvent.objects.create(
                        evaluation=evaluation,
                        action=EventAction.RESCORED,
                        from_status=evaluation.status,
                        to_status=evaluation.status,
                        revision=evaluation.revision,
                        reason=(
                            f"按评分规则“{_version_name(version)}”重新计分"
                            f"（原为“{_version_name(old_version)}”）："
                            f"总分 {_total(before[0])} → {_total(after[0])}"
                        ),
                    )
        if apply:
            self.stdout.write(f"已重新计算 {total} 张自评表，其中 {changed} 张的结果有变化。")
        else:
            self.stdout.write(
                f"共 {total} 张自评表，其中 {changed} 张按当前评分规则结果会变化；"
                "未修改（加 --apply 才修改）。"
            )
        if kept:
            self.stdout.write(f"{kept} 张已通过的表未修改。")
