from __future__ import annotations

from django.contrib import admin

from evaluations.models import Evaluation, FundingRow, Indicator


class FundingRowInline(admin.TabularInline):
    model = FundingRow
    extra = 0


class IndicatorInline(admin.TabularInline):
    model = Indicator
    extra = 0
    fields = ["position", "level1", "level2", "name", "target", "actual", "weight", "score", "deviation"]


@admin.register(Evaluation)
class EvaluationAdmin(admin.ModelAdmin):
    list_display = [
        "project_name",
        "year",
        "department",
        "status",
        "stated_total",
        "computed_total",
        "error_count",
        "warning_count",
    ]
    list_filter = ["year", "status", "department"]
    search_fields = ["project_name", "implementing_unit"]
    list_select_related = ["department"]
    readonly_fields = [
        "computed_execution_rate",
        "computed_execution_score",
        "computed_total",
        "error_count",
        "warning_count",
        "revision",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "submitted_at",
        "approved_at",
    ]
    inlines = [FundingRowInline, IndicatorInline]
