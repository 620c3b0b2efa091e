"""The people page (/people/): the administrator runs accounts and departments; finance reads
who fills in and signs off for each department.

Every page answers 404 to anyone the rule does not allow (``departments.manage_people``:
the administrator; ``departments.see_staffing``: finance and the administrator), as the
other role-only pages do.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from departments import people, staffing
from departments.directory import is_directory_account
from departments.models import Department
from departments.people_forms import ActiveForm, DepartmentForm, PersonFilterForm, PersonForm
from evaluations import permissions

PAGE_SIZE = 50


def _person(request: HttpRequest, person_pk: int) -> Any:
    """The account ``person_pk`` for the administrator; 404 for everyone else."""
    permissions.require_or_404(permissions.MANAGE_PEOPLE, request.user)
    return get_object_or_404(
        get_user_model().objects.select_related("membership__department"), pk=person_pk
    )


@require_GET
def person_list(request: HttpRequest) -> HttpResponse:
    permissions.require_or_404(permissions.MANAGE_PEOPLE, request.user)
    filter_form = PersonFilterForm(request.GET)
    filters = filter_form.filters()
    rows = staffing.people(
        search=filters["q"],
        department_id=filters["department"],
        role=filters["role"],
        active=filters["active"],
        unnamed=filters["unnamed"],
        order=filters["order"],
    )
    page = Paginator(rows, PAGE_SIZE).get_page(filters["page"])
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "departments/people_list.html",
        {
            "page": page,
            "filters": filters,
            "filter_form": filter_form,
            "query": query.urlencode(),
            "headers": _headers(request, filters["order"]),
            "unnamed_count": staffing.unnamed_count(),
            "department_choices": staffing.department_choices(),
        },
    )


# The sortable columns of the list (a key of staffing.PEOPLE_ORDERS → its header).
_COLUMNS = {
    "name": gettext_lazy("姓名"),
    "username": gettext_lazy("用户名"),
    "department": gettext_lazy("部门"),
    "role": gettext_lazy("角色"),
    "last_login": gettext_lazy("最近登录"),
}


def _headers(request: HttpRequest, order: str) -> dict[str, dict[str, Any]]:
    """Each sortable column's label, link and aria-sort (the list's own filters kept)."""
    headers = {}
    for key, label in _COLUMNS.items():
        query = request.GET.copy()
        query.pop("page", None)
        query["order"] = key
        direction = "descending" if key == "last_login" else "ascending"
        headers[key] = {
            "label": label,
            "href": "?" + query.urlencode(),
            "aria_sort": direction if key == order else "",
        }
    return headers


@require_http_methods(["GET", "POST"])
def person_new(request: HttpRequest) -> HttpResponse:
    permissions.require_or_404(permissions.MANAGE_PEOPLE, request.user)
    form = PersonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        person, password = people.person_create(
            actor=request.user,
            username=form.cleaned_data["username"],
            data=people.PersonData.of(form.cleaned_data),
        )
        # Rendered, not redirected: the one-time password is shown on this answer only.
        return _detail(request, person, password=password, created=True)
    return render(request, "departments/person_new.html", {"form": form})


def _detail(
    request: HttpRequest,
    person: Any,
    *,
    form: PersonForm | None = None,
    password: str = "",
    created: bool = False,
    status: int = 200,
) -> HttpResponse:
    person = get_user_model().objects.select_related("membership__department").get(pk=person.pk)
    form = form or PersonForm(initial=PersonForm.initial_of(person), person=person)
    response = render(
        request,
        "departments/person_detail.html",
        {
            "person": person,
            "membership": getattr(person, "membership", None),
            "form": form,
            "password": password,
            "created": created,
            "changes": staffing.person_changes(person)[:200],
            "is_self": person.pk == request.user.pk,
            "directory_account": is_directory_account(person),
            "directory_password": people.DIRECTORY_PASSWORD,
        },
        status=status,
    )
    if password:
        # The page with a password must not be kept by the browser or a proxy.
        response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
def person_detail(request: HttpRequest, person_pk: int) -> HttpResponse:
    person = _person(request, person_pk)
    if request.method == "GET":
        return _detail(request, person)
    form = PersonForm(request.POST, person=person)
    if not form.is_valid():
        return _detail(request, person, form=form)
    change = people.person_update(
        actor=request.user, person=person, data=people.PersonData.of(form.cleaned_data)
    )
    messages.success(request, _("已保存。") if change else _("没有改动。"))
    return redirect("people:detail", person_pk=person.pk)


@require_POST
def person_set_active(request: HttpRequest, person_pk: int) -> HttpResponse:
    person = _person(request, person_pk)
    form = ActiveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请求无效。"))
        return _detail(request, person, status=400)
    try:
        people.person_set_active(
            actor=request.user, person=person, active=form.cleaned_data["active"]
        )
    except people.RegisterRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(
            request,
            _("已重新启用该账号。")
            if form.cleaned_data["active"]
            else _("已停用该账号：不能再登录，其填报和审核记录保留。"),
        )
    return redirect("people:detail", person_pk=person.pk)


@require_POST
def person_password_reset(request: HttpRequest, person_pk: int) -> HttpResponse:
    person = _person(request, person_pk)
    try:
        password = people.person_password_reset(actor=request.user, person=person)
    except people.RegisterRefused as refused:
        messages.error(request, refused.message)
        return redirect("people:detail", person_pk=person.pk)
    # Rendered, not redirected: the one-time password is shown on this answer only.
    return _detail(request, person, password=password)


@require_GET
def department_list(request: HttpRequest) -> HttpResponse:
    """Each department's fillers and heads; those without any are flagged (finance reads it)."""
    permissions.require_or_404(permissions.SEE_STAFFING, request.user)
    rows = staffing.staffing()
    return render(
        request,
        "departments/department_list.html",
        {
            "rows": rows,
            "without_filler": sum(1 for row in rows if not row.fillers),
            "without_head": sum(1 for row in rows if not row.heads),
        },
    )


@require_http_methods(["GET", "POST"])
def department_detail(request: HttpRequest, department_pk: int) -> HttpResponse:
    """Rename a department or set its code (the administrator); its changes listed."""
    permissions.require_or_404(permissions.MANAGE_PEOPLE, request.user)
    department = get_object_or_404(Department, pk=department_pk)
    form = DepartmentForm(request.POST or None, instance=department)
    if request.method == "POST" and form.is_valid():
        change = people.department_update(
            actor=request.user,
            department=department,
            name=form.cleaned_data["name"],
            code=form.cleaned_data["code"],
        )
        messages.success(request, _("已保存。") if change else _("没有改动。"))
        return redirect("people:department", department_pk=department.pk)
    # A refused form shows the stored name in the heading, not the one typed.
    department.refresh_from_db()
    return render(
        request,
        "departments/department_detail.html",
        {
            "department": department,
            "form": form,
            "changes": staffing.department_changes(department)[:200],
            "people": staffing.people(department_id=department.pk, order="name"),
        },
    )
