"""Recompute the cached figures of every evaluation (after a change of the scoring rules)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from evaluations.models import Evaluation
from evaluations.services import evaluation_recompute


class Command(BaseCommand):
    help = "按当前评分规则重新计算所有自评表的执行率、总分和问题数（修改本地规则设置后运行）"

    def handle(self, *args, **options) -> None:
        changed = total = 0
        queryset = Evaluation.objects.select_related("department").prefetch_related(
            "funding_rows", "indicators", "due_project__targets"
        )
        for evaluation in queryset.iterator(chunk_size=200):
            before = (evaluation.computed_total, evaluation.error_count, evaluation.warning_count)
            with transaction.atomic():
                evaluation_recompute(evaluation=evaluation)
            total += 1
            if before != (
                evaluation.computed_total,
                evaluation.error_count,
                evaluation.warning_count,
            ):
                changed += 1
        self.stdout.write(f"已重新计算 {total} 张自评表，其中 {changed} 张的结果有变化。")
