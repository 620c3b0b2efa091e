from __future__ import annotations

from django.contrib import admin

from evidence.models import EvidenceFile


@admin.register(EvidenceFile)
class EvidenceFileAdmin(admin.ModelAdmin):
    list_display = ("original_name", "evaluation", "kind", "size", "uploaded_by", "uploaded_at")
    # Read-only: a file is added or removed only through evidence/services.py, which
    # records it in the form's history and locks it with the form.

    def has_add_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False
