"""Filtering and sorting of the finance lists: the forms list and the review queue.

Both pages read their query string through a ``django_filters.FilterSet`` (never by hand):

- ``q``: the project name or the 实施单位 contains the text;
- ``year``, ``department``: one of the years / departments the user sees;
- ``status``: one or several states (``?status=submitted&status=returned``; list only);
- ``o``: the sort column, ``-`` for descending (``?o=-submitted``).

A value that does not validate (``status=²``, ``o=__proto__``, a department the user does
not see) is left out, as if it had not been given: the page answers, unfiltered by it.

The rows of the page shown carry ``is_overdue`` / ``deadline`` / ``submitted_late``
(``campaigns.deadlines.with_overdue``) and ``resubmitted`` (handed in again to whoever
returned it: EXISTS subqueries), read for the whole page in one query (``with_badges``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import django_filters
from django import forms
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from campaigns.deadlines import with_overdue
from common.http import MAX_ID, MAX_YEAR, MIN_YEAR, StrictIntegerField
from evaluations.core.fields import HEADER
from evaluations.models import Evaluation, EvaluationEvent, Status
from evaluations.review_selectors import BUREAU_RETURNS, RETURN_ACTIONS
from evaluations.selectors import visible_evaluations

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    User = AbstractBaseUser | AnonymousUser


# ?o= keys of the sortable columns: (key, model field, label of the column).
SORT_COLUMNS: list[tuple[str, str, Any]] = [
    ("department", "department__name", _("主管部门")),
    ("project", "project_name", _("项目名称")),
    ("status", "status", _("状态")),
    ("total", "computed_total", _("总分（计算）")),
    ("rate", "computed_execution_rate", _("执行率")),
    ("submitted", "submitted_at", _("提交时间")),
    ("changed", "updated_at", _("修改时间")),
]
SORT_FIELDS = {key: field for key, field, _label in SORT_COLUMNS}


def _returns(actions: tuple[str, ...]) -> Exists:
    return Exists(EvaluationEvent.objects.filter(evaluation_id=OuterRef("pk"), action__in=actions))


def resubmitted() -> Q:
    """A form handed in again to whoever returned it before.

    Waiting for the bureau (已提交): after a return by the bureau; a return by the
    department's head only is not a resubmission to the bureau. Waiting for the head
    (部门审核): after either return, as both come back through the head (the head's page
    shows the changes since: ``evaluations.views.workflow.Decision.returns``).
    """
    return Q(status=Status.SUBMITTED, returned_by_bureau=True) | Q(
        status=Status.DEPARTMENT_REVIEW, returned=True
    )


def with_resubmitted(qs: QuerySet[Evaluation]) -> QuerySet[Evaluation]:
    """Annotate ``resubmitted`` (see ``resubmitted``)."""
    return qs.annotate(
        returned=_returns(RETURN_ACTIONS), returned_by_bureau=_returns(BUREAU_RETURNS)
    ).annotate(resubmitted=resubmitted())


BADGES = ("deadline", "is_overdue", "submitted_late", "resubmitted")


def with_badges(rows: Iterable[Evaluation]) -> list[Evaluation]:
    """The page's forms with ``deadline``, ``is_overdue``, ``submitted_late`` and
    ``resubmitted`` set, in one query for the page (the annotations' correlated subqueries
    then run for the 50 rows shown, not for every form the sort has to look at)."""
    forms = list(rows)
    if not forms:
        return forms
    plain = Evaluation.objects.filter(pk__in=[e.pk for e in forms]).order_by()
    found = {
        item["pk"]: item for item in with_overdue(with_resubmitted(plain)).values("pk", *BADGES)
    }
    for form in forms:
        for name in BADGES:
            setattr(form, name, found.get(form.pk, {}).get(name))
    return forms


class SortFilter(django_filters.OrderingFilter):
    """?o=<key> or ?o=-<key>: one column, blanks last whichever the direction, ties stable."""

    def __init__(self, *args: Any, tiebreak: Iterable[str] = ("pk",), **kwargs: Any) -> None:
        kwargs.setdefault("fields", [(field, key) for key, field, _label in SORT_COLUMNS])
        kwargs.setdefault("label", _("排序"))
        super().__init__(*args, **kwargs)
        self.tiebreak = list(tiebreak)

    def filter(self, qs: QuerySet, value: Any) -> QuerySet:
        if not value:
            return qs
        param = value[0]
        descending = param.startswith("-")
        field = SORT_FIELDS[param.removeprefix("-")]
        expression = F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)
        return qs.order_by(expression, *self.tiebreak)


class YearFilter(django_filters.Filter):
    """A year, 2000 to 2100, in ASCII digits (common.http.year_field)."""

    field_class = StrictIntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", MIN_YEAR)
        kwargs.setdefault("max_value", MAX_YEAR)
        super().__init__(*args, **kwargs)


class IdFilter(django_filters.Filter):
    """A database id (common.http.id_field)."""

    field_class = StrictIntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class _FormsFilterSet(django_filters.FilterSet):
    """What the list and the queue share: search, year, department, sort."""

    q = django_filters.CharFilter(
        method="filter_search",
        label=_("项目名称或实施单位"),
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    year = YearFilter(field_name="year", label=HEADER["year"].label)
    department = IdFilter(field_name="department_id", label=HEADER["department"].label)
    o = SortFilter()

    class Meta:
        model = Evaluation
        fields: list[str] = []

    def __init__(
        self,
        data: Any = None,
        *,
        queryset: QuerySet[Evaluation],
        years: Iterable[int],
        departments: Iterable[tuple[int, str]] | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, queryset=queryset, **kwargs)
        # The choices of the page's selects (any valid year or id is still accepted).
        self.years = list(years)
        self.departments = None if departments is None else list(departments)
        if departments is None:
            # Staff see their own department only: the filter would mean nothing.
            del self.filters["department"]

    def filter_search(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        text = value.strip()
        if not text:
            return qs
        return qs.filter(Q(project_name__icontains=text) | Q(implementing_unit__icontains=text))

    # --- what the template needs ------------------------------------------------------------

    def valid(self, name: str) -> list[str]:
        """The values of ``name`` as given, if they validated (else none)."""
        form = self.form
        form.is_valid()
        if name not in form.fields or name in form.errors or not self.is_bound:
            return []
        return [v for v in self.data.getlist(name) if v not in ("", None)]

    def value(self, name: str) -> str:
        values = self.valid(name)
        return values[0] if values else ""

    def query(self, **changes: Any) -> str:
        """The valid filters as a query string (no page), with ``changes`` applied."""
        params: dict[str, list[str]] = {name: self.valid(name) for name in self.filters}
        for name, value in changes.items():
            params[name] = [] if value in ("", None) else [str(value)]
        return urlencode([(k, v) for k, values in params.items() for v in values])

    @property
    def sort(self) -> str:
        return self.value("o")

    @property
    def filtered(self) -> bool:
        return any(self.valid(name) for name in self.filters if name != "o")

    def headers(self) -> dict[str, dict[str, Any]]:
        """Per sortable column: its link (a second click reverses) and its aria-sort."""
        current = self.sort
        headers = {}
        for key, _field, label in SORT_COLUMNS:
            ascending, descending = current == key, current == f"-{key}"
            headers[key] = {
                "label": label,
                "href": "?" + self.query(o=f"-{key}" if ascending else key),
                "aria_sort": "ascending" if ascending else "descending" if descending else "",
            }
        return headers


class EvaluationListFilter(_FormsFilterSet):
    """/evaluations/: every state, several at once."""

    status = django_filters.MultipleChoiceFilter(
        field_name="status",
        label=_("状态"),
        choices=Status.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    o = SortFilter(tiebreak=("-year", "department__name", "project_name", "pk"))

    @property
    def statuses(self) -> list[str]:
        return self.valid("status")


class ReviewQueueFilter(_FormsFilterSet):
    """/review/: the submitted forms; also "only those handed in again after a return"."""

    resubmitted = django_filters.BooleanFilter(
        field_name="resubmitted",
        label=_("仅看退回后重新提交的"),
        widget=forms.CheckboxInput,
        method="filter_resubmitted",
    )
    o = SortFilter(tiebreak=("submitted_at", "pk"))

    def filter_resubmitted(self, qs: QuerySet, name: str, value: bool | None) -> QuerySet:
        return with_resubmitted(qs).filter(resubmitted=True) if value else qs


def list_queryset(user: User) -> QuerySet[Evaluation]:
    """The forms of the list page, default order: newest year, department, project.

    The badges' annotations are added to the page shown only (``with_badges``).
    """
    return (
        visible_evaluations(user)
        .select_related("department")
        .defer("goal_target", "goal_actual")
        .order_by("-year", "department__name", "project_name", "pk")
    )


def queue_queryset(user: User) -> QuerySet[Evaluation]:
    """The submitted forms of the review queue, default order: oldest submission first."""
    return (
        visible_evaluations(user)
        .filter(status=Status.SUBMITTED)
        .select_related("department")
        .defer("goal_target", "goal_actual")
        .order_by("submitted_at", "pk")
    )
