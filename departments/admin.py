from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Group
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

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


# The admin's title in the bureau's words (Django's default names Django).
admin.site.site_header = _("项目支出绩效自评 · 系统管理")
admin.site.site_title = _("项目支出绩效自评 · 系统管理")
admin.site.index_title = _("系统管理")

User = get_user_model()
admin.site.unregister(User)
# Rights come from roles (evaluations/permissions.py), never from Django's groups and
# permissions: their pages would only offer choices that change nothing, and Django names
# each permission in English when it creates it ("Can add user"), which no catalogue translates.
admin.site.unregister(Group)


@admin.register(User)
class PersonAdmin(UserAdmin):
    form = PersonNameForm
    list_display = ["username", "first_name", "email", "is_active", "is_superuser"]
    list_filter = ["is_active", "is_superuser"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("个人信息"), {"fields": ["first_name", "last_name", "email"]}),
        (_("权限"), {"fields": ["is_active", "is_staff", "is_superuser"]}),
        (_("重要日期"), {"fields": ["last_login", "date_joined"]}),
    ]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "created_at"]
    search_fields = ["name", "code"]
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


import departments.admin_chinese  # noqa: E402, F401  (third-party pages in Chinese)
