from __future__ import annotations

from django.contrib import admin

# The scoring rule sets' pages (their own module: they edit, where this one only shows).
from evaluations import rulesets_admin  # noqa: F401
from evaluations.models import (
    Evaluation,
    EvaluationEvent,
    EvaluationVersion,
    FundingRow,
    Indicator,
    ReviewComment,
)


class ReadOnlyMixin:
    """Changes go through the application's services, which record history; the admin only shows."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    pass


class FundingRowInline(ReadOnlyMixin, admin.TabularInline):
    model = FundingRow
    extra = 0


class IndicatorInline(ReadOnlyMixin, admin.TabularInline):
    model = Indicator
    extra = 0
    fields = [
        "position",
        "level1",
        "level2",
        "name",
        "target",
        "actual",
        "weight",
        "score",
        "deviation",
    ]


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnlyAdmin):
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


@admin.register(EvaluationEvent)
class EvaluationEventAdmin(ReadOnlyAdmin):
    list_display = [
        "evaluation",
        "action",
        "actor",
        "from_status",
        "to_status",
        "revision",
        "created_at",
    ]
    list_filter = ["action"]
    list_select_related = ["evaluation", "actor"]
    search_fields = ["evaluation__project_name", "reason"]


@admin.register(EvaluationVersion)
class EvaluationVersionAdmin(ReadOnlyAdmin):
    list_display = ["evaluation", "revision", "created_at"]
    list_select_related = ["evaluation"]


@admin.register(ReviewComment)
class ReviewCommentAdmin(ReadOnlyAdmin):
    list_display = ["evaluation", "target", "position", "funding_kind", "label", "text"]
    list_select_related = ["evaluation"]
