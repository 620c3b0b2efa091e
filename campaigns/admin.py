"""The campaign models in /admin/: read-only lists (finance manages them at /campaigns/)."""

from __future__ import annotations

from django.contrib import admin

from campaigns.models import Campaign, DeadlineExtension, DueProject, DueTarget, Reminder


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyAdmin):
    list_display = ["year", "title", "deadline", "is_open", "requires_sign_off", "allow_unlisted"]
    list_filter = ["is_open"]


class DueTargetInline(admin.TabularInline):
    model = DueTarget
    extra = 0
    fields = ["position", "level1", "level2", "name", "target", "weight"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(DueProject)
class DueProjectAdmin(ReadOnlyAdmin):
    list_display = ["project_name", "department", "implementing_unit", "project_code", "campaign"]
    list_filter = ["campaign"]
    search_fields = ["project_name", "project_code", "department__name"]
    list_select_related = ["department", "campaign"]
    inlines = [DueTargetInline]


@admin.register(DeadlineExtension)
class DeadlineExtensionAdmin(ReadOnlyAdmin):
    list_display = ["campaign", "department", "deadline", "reason", "created_by", "created_at"]
    list_filter = ["campaign"]
    list_select_related = ["campaign", "department", "created_by"]


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    list_display = ["campaign", "user", "day", "kind", "projects", "read_at"]
    list_filter = ["campaign", "kind", "day"]
    list_select_related = ["campaign", "user"]
