from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.http import HttpRequest

from common.http import MAX_ID
from common.safetext import SINGLE_LINE
from departments.models import Department, Membership


class PersonNameForm(UserChangeForm):
    """A user's names are printed on forms (审核人): one line, no control characters."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("first_name", "last_name"):
            if name in self.fields:
                self.fields[name].validators.extend(SINGLE_LINE)


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class PersonAdmin(UserAdmin):
    form = PersonNameForm


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "department"]
    list_filter = ["role", "department"]
    search_fields = ["user__username", "department__name"]
    autocomplete_fields = ["user", "department"]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        """The add page's values from its query string, less ids that are no ids."""
        initial = super().get_changeform_initial_data(request)
        # An autocomplete box looks its value up as given: text or a number beyond the
        # database's integers would make that query raise (a 500) instead of an empty box.
        for name in self.autocomplete_fields:
            value = str(initial.get(name, ""))
            digits = value.isascii() and value.isdigit() and len(value) <= 19
            if value and not (digits and 1 <= int(value) <= MAX_ID):
                del initial[name]
        return initial
