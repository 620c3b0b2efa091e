"""Forms of the people page: the list's filters, one person, a department, activation."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from common.safetext import SINGLE_LINE
from departments.models import Department, Role
from departments.staffing import ADMIN, NO_ROLE, PEOPLE_ORDERS

PHONE = RegexValidator(
    r"^\+?[0-9][0-9 \-]{3,28}[0-9]$",
    _("电话号码只能由数字、空格和“-”组成（可以“+”开头），至少 5 位。"),
)


class PersonFilterForm(forms.Form):
    """The people list's query string; anything invalid is ignored, not an error."""

    q = forms.CharField(required=False, max_length=100)
    department = forms.ModelChoiceField(Department.objects.all(), required=False)
    role = forms.ChoiceField(
        required=False,
        choices=[
            ("", _("全部角色")),
            *Role.choices,
            (ADMIN, _("系统管理员")),
            (NO_ROLE, _("无角色")),
        ],
    )
    active = forms.ChoiceField(
        required=False, choices=[("", _("全部")), ("1", _("启用")), ("0", _("已停用"))]
    )
    unnamed = forms.BooleanField(required=False)
    order = forms.ChoiceField(
        required=False,
        choices=[
            ("department", _("部门")),
            ("name", _("姓名")),
            ("username", _("用户名")),
            ("role", _("角色")),
            ("last_login", _("最近登录")),
        ],
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=10**6)

    def filters(self) -> dict[str, Any]:
        """The valid filters (an invalid one is dropped) with defaults."""
        self.is_valid()
        data = {name: self.cleaned_data.get(name) for name in self.fields}
        department = data["department"]
        active = {"1": True, "0": False}.get(data["active"] or "")
        order = data["order"] if data["order"] in PEOPLE_ORDERS else "department"
        return {
            "q": (data["q"] or "").strip(),
            "department": department.pk if department else None,
            "role": data["role"] or "",
            "active": active,
            "active_value": data["active"] or "",
            "unnamed": bool(data["unnamed"]),
            "order": order,
            "page": data["page"] or 1,
        }


class PersonForm(forms.Form):
    """One person: 姓名, role, department, unit, phone, e-mail (and the username when new)."""

    name = forms.CharField(label=_("姓名"), max_length=150, validators=SINGLE_LINE)
    username = forms.CharField(
        label=_("用户名"),
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text=_("登录用，建成后不能修改：字母、数字和 @ . + - _。"),
    )
    role = forms.ChoiceField(label=_("角色"), choices=[("", "—"), *Role.choices])
    department = forms.ModelChoiceField(
        Department.objects.all(),
        label=_("所属部门"),
        required=False,
        help_text=_("部门填报人和部门审核人必填；财政局审核人不属于部门。"),
        # The searchable picker of every page (static/js/department-picker.js).
        widget=forms.Select(
            attrs={
                "data-department-picker": "",
                "data-picker-placeholder": _("输入部门名称筛选"),
                "data-picker-none": _("没有匹配的部门"),
                "data-picker-count": _("%(n)s 个部门匹配，用 ↑ ↓ 选择，回车确定"),
            }
        ),
    )
    implementing_unit = forms.CharField(
        label=_("限填实施单位"),
        max_length=200,
        required=False,
        validators=SINGLE_LINE,
        help_text=_("留空：可填报本部门所有实施单位的项目。"),
    )
    phone = forms.CharField(label=_("联系电话"), max_length=30, required=False, validators=[PHONE])
    email = forms.EmailField(label=_("电子邮箱"), required=False)

    def __init__(self, *args: Any, person: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.person = person
        if person is not None:
            # The username is the sign-in name: it stays as created.
            del self.fields["username"]
            # An administrator may have no role at all.
            self.fields["role"].required = not person.is_superuser
            if person.is_superuser:
                self.fields["role"].choices = [("", _("无（系统管理员）")), *Role.choices]

    @classmethod
    def initial_of(cls, person: Any) -> dict[str, Any]:
        """The form's values for an existing account."""
        m = getattr(person, "membership", None)
        return {
            "name": person.first_name,
            "email": person.email,
            "role": m.role if m else "",
            "department": m.department_id if m else None,
            "implementing_unit": m.implementing_unit if m else "",
            "phone": m.phone if m else "",
        }

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(
                _("用户名“%(username)s”已被使用。") % {"username": username}
            )
        return username

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        role = cleaned.get("role")
        if role in (Role.STAFF, Role.HEAD) and not cleaned.get("department"):
            self.add_error("department", _("部门填报人和部门审核人必须属于一个部门。"))
        if role == Role.FINANCE and cleaned.get("implementing_unit"):
            self.add_error("implementing_unit", _("财政局审核人不限实施单位，请留空。"))
        return cleaned


class ActiveForm(forms.Form):
    """Deactivate (0) or reactivate (1) an account."""

    active = forms.TypedChoiceField(choices=[("0", "0"), ("1", "1")], coerce=lambda v: v == "1")


class DepartmentForm(forms.ModelForm):
    """A department's name and code (部门编码); both unique, the code may stay blank."""

    class Meta:
        model = Department
        fields = ["name", "code"]
        help_texts = {
            "name": _("改名后，该部门的自评表、应评项目和账号都保留。"),
            "code": _("预算系统中的单位编码；导入清单时可按编码匹配部门。"),
        }

    def clean_code(self) -> str:
        return self.cleaned_data["code"].strip()
