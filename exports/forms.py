"""The export form: what a bulk export covers (year, department, state) and its format."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from common.http import id_field, year_field
from evaluations import selectors
from evaluations.core.fields import HEADER
from exports.kinds import KINDS
from exports.models import HANDED_IN_FILTER, STATE_FILTER_CHOICES, Format

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from departments.models import Department


class ExportForm(forms.Form):
    """POST /exports/ (and its pre-filled GET): a year, optionally a department and a state.

    The department must be one the user sees (``selectors.departments_for``); the forms
    themselves are chosen by ``exports.jobs.export_selection``, scoped to the user.
    """

    year = year_field(
        required=True,
        label=HEADER["year"].label,
        error_messages={"required": _("请选择要导出的年度。")},
    )
    department = id_field(
        label=HEADER["department"].label, error_messages={"invalid": _("主管部门参数无效。")}
    )
    status = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=STATE_FILTER_CHOICES,
        # The forms handed in (submitted, approved) unless drafts are asked for explicitly.
        initial=HANDED_IN_FILTER,
        error_messages={"invalid_choice": _("状态参数无效。")},
    )
    format = forms.ChoiceField(
        label=_("格式"),
        choices=Format.choices,
        initial=Format.PDF,
        error_messages={
            "required": _("请选择导出格式。"),
            # "invalid_choice" names the kinds of the table (``__init__``).
        },
    )

    def __init__(self, *args: Any, user: AbstractBaseUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["format"].error_messages["invalid_choice"] = gettext(
            "导出格式无效（可选：%(kinds)s）。"
        ) % {"kinds": "、".join(str(kind.name) for kind in KINDS.values())}
        self.departments = selectors.departments_for(user=user)

    def clean_department(self) -> Department | None:
        department_id = self.cleaned_data.get("department")
        if department_id is None:
            return None
        found = self.departments.filter(pk=department_id).first()
        if found is None:
            raise forms.ValidationError(gettext("主管部门不存在或无权导出。"), code="department")
        return found

    def first_error(self) -> str:
        """The first problem, in field order (for a message or a 400 page)."""
        for name in ("year", "department", "status", "format"):
            if name in self.errors:
                return str(self.errors[name][0])
        if self.non_field_errors():
            return str(self.non_field_errors()[0])
        return gettext("参数无效。")
