"""Forms of the evaluation pages: the official form's header, funding rows and indicator table."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from common.safetext import clean_text, count_forbidden, single_line
from departments.models import Department
from evaluations.core.categories import (
    DEFAULT_TEMPLATE,
    level1_choices,
    level2_choices,
    standard_rows,
)
from evaluations.core.evaluation_data import FormData
from evaluations.core.fields import FUNDING, FUNDING_ORDER, FUNDING_STANDARD, HEADER, INDICATOR
from evaluations.core.layout import FUNDING_COLUMNS, INDICATOR_COLUMNS
from evaluations.core.limits import MAX_INDICATORS, SINGLE_LINE_TEXTS, TEXT_LIMITS
from evaluations.core.scoring import (
    funding_path,
    header_path,
    indicator_path,
    with_computed_totals,
)
from evaluations.core.values import (
    MONEY_UNITS,
    NUMBER_OTHER_UNIT,
    POINTS_UNITS,
    NumberReading,
    read_number,
)
from evaluations.importer.service import SUPPORTED_EXTENSIONS
from evaluations.mapping import form_data_from_cleaned, initial_from_form_data
from evaluations.models import Evaluation, FundingKind
from evaluations.rules import rules_for_year

INDICATOR_PREFIX = "ind"
# Fields whose refusal makes the value unknown to scoring (see EvaluationForms.unreadable).
_SCORED_HEADER = ("execution_weight",)
_SCORED_ROW = ("target", "weight", "score", "deviation")
# Text fields whose character counter is always shown (the others show it near the limit).
COUNTED_ALWAYS = ("goal_target", "goal_actual", "name", "deviation")


# What a row key looks like (models.new_row_key); anything else posted is ignored.
ROW_KEY_RE = re.compile(r"^[0-9a-f]{32}$")


def _number_input(**attrs: str) -> forms.TextInput:
    # A text box rather than <input type=number>: the browser must keep whatever was typed
    # ("12万") so the page can show it again with an error instead of silently dropping it.
    return forms.TextInput(
        attrs={"inputmode": "decimal", "autocomplete": "off", **attrs, "class": "form-control"}
    )


class NumberField(forms.DecimalField):
    """A number box read leniently by ``values.read_number``: what is unambiguous is taken.

    "10分" in a points field, "9.5万" in an amount (万元), "1,000", "１２３．５" and
    surrounding spaces are read as the number they say; the page then says how it read
    them (``understood``). Anything else is refused with one plain message, and the
    text stays in the box as typed.
    """

    def __init__(self, *, units: tuple[str, ...], **kwargs: Any) -> None:
        self.units = units
        super().__init__(**kwargs)

    def reading(self, value: Any) -> NumberReading:
        """How ``value`` (as posted) reads in this field."""
        return read_number(value, units=self.units)

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        reading = self.reading(value)
        if not reading.ok:
            code = "other_unit" if reading.problem == NUMBER_OTHER_UNIT else "invalid"
            raise ValidationError(self.error_messages[code], code=code)
        if reading.number is None:
            return None
        return super().to_python(str(reading.number))


def _points(label: str, *, min_value: int | None = None, **kwargs: Any) -> NumberField:
    error_messages = {
        "invalid": _("只填数字，例如 9.5"),
        "other_unit": _("只填数字，例如 9.5"),
        "max_decimal_places": _("最多两位小数，例如 9.55"),
        "max_digits": _("数字太大，分值和得分最多 5 位整数。"),
        "max_whole_digits": _("数字太大，分值和得分最多 5 位整数。"),
    }
    if min_value == 0:
        error_messages["min_value"] = _("分值不能为负数。")
    return NumberField(
        label=label,
        units=POINTS_UNITS,
        required=False,
        max_digits=7,
        decimal_places=2,
        min_value=min_value,
        widget=_number_input(),
        error_messages=error_messages,
        **kwargs,
    )


def _money(label: str) -> NumberField:
    """An amount in 万元: never negative (as the model and the importers require)."""
    return NumberField(
        label=label,
        units=MONEY_UNITS,
        required=False,
        max_digits=16,
        decimal_places=4,
        min_value=0,
        widget=_number_input(),
        error_messages={
            "min_value": _("金额不能为负数。"),
            "invalid": _("只填数字（单位：万元），例如 57.55"),
            "other_unit": _("金额以万元为单位：请换算成万元，只填数字，例如 57.55"),
            "max_decimal_places": _("最多四位小数（万元），例如 57.5521"),
            "max_digits": _("金额太大，最多 12 位整数（万元）。"),
            "max_whole_digits": _("金额太大，最多 12 位整数（万元）。"),
        },
    )


def understood_note(value: str) -> str:
    """What the page says under a number box it read leniently: "已按 9.5 填写"."""
    return gettext("已按 %(value)s 填写") % {"value": value}


class FormTextField(forms.CharField):
    """A text of the official form: bounded by TEXT_LIMITS, cleaned of control characters.

    Control characters, U+FFFE/U+FFFF and lone surrogates (``safetext.clean_text``) are
    removed before validation, and how many were removed is kept in ``removed`` so the
    page can say so. A single-line text (``SINGLE_LINE_TEXTS``: names, the phone) gets each
    run of line breaks and tabs replaced by a space, as a browser's one-line box would.
    The length is checked on the server only: no ``maxlength`` attribute,
    so a browser never cuts pasted text silently; the page's counter shows the limit
    (``data-maxlength``) instead.
    """

    def __init__(self, *, key: str, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs["error_messages"] = {
            "max_length": _("最多 %(limit_value)d 字（现有 %(show_value)d 字），请删减后再保存。"),
            **kwargs.get("error_messages", {}),
        }
        # Read by widget_attrs(), which the base class calls.
        self.counter_always = key in COUNTED_ALWAYS
        self.removed = 0
        self.clean_text = single_line if key in SINGLE_LINE_TEXTS else clean_text
        super().__init__(max_length=TEXT_LIMITS[key], **kwargs)

    def to_python(self, value: Any) -> str:
        if isinstance(value, str):
            # Browsers post a textarea's line breaks as CRLF but count them as one character.
            value = value.replace("\r\n", "\n")
            # Assigned, not added: has_changed() and clean() may both convert the same value.
            self.removed = count_forbidden(value)
            value = self.clean_text(value)
        return super().to_python(value)

    def bound_data(self, data: Any, initial: Any) -> Any:
        # A page shown again after an error holds the text as it will be stored.
        data = super().bound_data(data, initial)
        return self.clean_text(data) if isinstance(data, str) else data

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs.pop("maxlength", None)
        if isinstance(widget, forms.TextInput | forms.Textarea):
            attrs["data-maxlength"] = str(self.max_length)
            attrs["data-counter"] = "always" if self.counter_always else "near"
        attrs["class"] = "form-select" if isinstance(widget, forms.Select) else "form-control"
        return attrs


def _removed_in(form: forms.Form) -> int:
    """How many control characters the form's text fields removed from what was posted."""
    return sum(getattr(field, "removed", 0) for field in form.fields.values())


class EntryBoundField(forms.BoundField):
    """Marks a field with errors for Bootstrap (``is-invalid``); Django adds aria-invalid.

    The edit page renders its inputs one by one in the official layout, so their Bootstrap
    classes are set on the widgets of the form classes below; only the error mark depends
    on the posted data.
    """

    def build_widget_attrs(self, attrs: Any, widget: forms.Widget | None = None) -> Any:
        attrs = super().build_widget_attrs(attrs, widget)
        widget = widget or self.field.widget
        if not widget.is_hidden and self.form.is_bound and self.errors:
            classes = str(attrs.get("class") or widget.attrs.get("class", "")).split()
            attrs["class"] = " ".join([*classes, "is-invalid"])
        if self.understood:
            # The page's script shows it under the box: "已按 9.5 填写".
            attrs["data-understood"] = understood_note(self.understood)
        return attrs

    @property
    def understood(self) -> str:
        """The plain number a leniently read box was taken as ("" if none or not read)."""
        if not (self.form.is_bound and isinstance(self.field, NumberField)) or self.errors:
            return ""
        return self.field.reading(self.data).understood


class EvaluationHeaderForm(forms.Form):
    """Header, execution weight and goals of one form (scores and totals are computed)."""

    bound_field_class = EntryBoundField

    year = forms.IntegerField(
        label=HEADER["year"].label,
        min_value=2000,
        max_value=2100,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "size": "4",
                "autocomplete": "off",
                "class": "form-control",
            }
        ),
        error_messages={"required": _("请填写年度。"), "invalid": _("年度应为四位数字，如 2021。")},
    )
    project_name = FormTextField(
        key="project_name",
        label=HEADER["project_name"].label,
        required=True,
        error_messages={"required": _("请填写项目名称。")},
    )
    department = forms.ModelChoiceField(
        label=HEADER["department"].label,
        queryset=Department.objects.none(),
        empty_label=_("— 请选择主管部门 —"),
        widget=forms.Select(attrs={"class": "form-select"}),
        error_messages={"required": _("请选择主管部门。")},
    )
    implementing_unit = FormTextField(
        key="implementing_unit", label=HEADER["implementing_unit"].label
    )
    execution_weight = _points(_("分值"), min_value=0)
    goal_target = FormTextField(
        key="goal_target", label=_("预期目标"), widget=forms.Textarea(attrs={"rows": 4})
    )
    goal_actual = FormTextField(
        key="goal_actual", label=_("实际完成情况"), widget=forms.Textarea(attrs={"rows": 4})
    )
    # The signature block below the table (prefilled on a new form from the user's profile).
    unit_head = FormTextField(key="unit_head", label=HEADER["unit_head"].label)
    filler_name = FormTextField(key="filler_name", label=HEADER["filler_name"].label)
    filler_phone = FormTextField(key="filler_phone", label=HEADER["filler_phone"].label)
    # Carried through for the stale-copy check (the revision the page was loaded from).
    revision = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, departments: QuerySet[Department] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if departments is None:
            # Department staff always write for their own department.
            del self.fields["department"]
        else:
            self.fields["department"].queryset = departments  # type: ignore[attr-defined]
        self.fields["project_name"].widget.attrs["placeholder"] = gettext(
            "与预算批复的项目名称一致"
        )
        self.fields["filler_phone"].widget.attrs.update({"inputmode": "tel", "autocomplete": "tel"})
        # The execution weight sits in the total funding row, under the 分值 heading.
        self.fields["execution_weight"].widget.attrs["aria-labelledby"] = (
            f"funding-{FundingKind.TOTAL}-label funding-col-{FUNDING_COLUMNS['execution_weight']}"
        )


class FundingForm(forms.Form):
    """One row of the funding block (万元)."""

    bound_field_class = EntryBoundField

    initial_budget = _money(FUNDING["initial_budget"].label)
    annual_budget = _money(FUNDING["annual_budget"].label)
    executed = _money(FUNDING["executed"].label)

    def __init__(self, *args: Any, kind: str, **kwargs: Any):
        kwargs.setdefault("prefix", f"funding-{kind}")
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.label = FundingKind(kind).label
        # Named by the row's label and the column's heading ("年度资金总额 年初预算数").
        for name in self.fields:
            self.fields[name].widget.attrs["aria-labelledby"] = (
                f"funding-{kind}-label funding-col-{FUNDING_COLUMNS[name]}"
            )

    def box_label(self, name: str) -> str:
        """The box as a message names it: "当年财政拨款·全年执行数"."""
        label = f"{self.label}·{self.fields[name].label}"
        return label.removeprefix(gettext("其中："))


def funding_forms(
    data: Any = None, initial: dict[str, dict[str, str]] | None = None
) -> list[FundingForm]:
    """The four standard funding rows and any other the form has, in the official order.

    A row of another template (财政资金 …) is kept when the stored form has it (``initial``)
    or the page posted it back: saving the page never drops an imported row.
    """
    initial = initial or {}
    posted = {key.split("-")[1] for key in (data or {}) if key.startswith("funding-")}
    kinds = [
        kind
        for kind in FUNDING_ORDER
        if kind in FUNDING_STANDARD or kind in initial or kind in posted
    ]
    return [FundingForm(data, kind=kind, initial=initial.get(kind)) for kind in kinds]


def _choices(names: list[str], current: str) -> list[tuple[str, str]]:
    choices = [("", gettext("— 请选择 —"))] + [(n, n) for n in names]
    if current and current not in names:
        # Imported forms may carry labels of their own ("产出"): keep them selectable.
        choices.append((current, current))
    return choices


def _level2_choices(
    by_level1: dict[str, list[str]], level1: str, current: str
) -> list[tuple[str, Any]]:
    """二级 options grouped under their 一级 (<optgroup>): that 一级's only once it is chosen."""
    groups = {level1: by_level1[level1]} if level1 in by_level1 else by_level1
    choices: list[tuple[str, Any]] = [("", gettext("— 请选择 —"))]
    choices += [(name, [(n, n) for n in names]) for name, names in groups.items()]
    if current and not any(current in names for names in groups.values()):
        # Imported forms may carry labels of their own ("产出"): keep them selectable.
        choices.append((current, current))
    return choices


class IndicatorForm(forms.Form):
    """One row of the indicator table."""

    bound_field_class = EntryBoundField
    # The stored row this one edits ("" for a new row): posted back as a hidden field and
    # trusted only if it is one of the form's own rows (services.evaluation_write).
    key = forms.CharField(required=False, strip=True, widget=forms.HiddenInput)

    level1 = FormTextField(key="level1", label=INDICATOR["level1"].label, widget=forms.Select)
    level2 = FormTextField(key="level2", label=INDICATOR["level2"].label, widget=forms.Select)
    # A one-line text that wraps: long indicator names stay readable in a narrow column.
    name = FormTextField(
        key="name",
        label=INDICATOR["name"].label,
        widget=forms.Textarea(attrs={"rows": 1, "data-single-line": "1"}),
    )
    target = FormTextField(key="target", label=INDICATOR["target"].label)
    actual = FormTextField(key="actual", label=INDICATOR["actual"].label)
    weight = _points(INDICATOR["weight"].label, min_value=0)
    score = _points(INDICATOR["score"].label)
    deviation = FormTextField(
        key="deviation",
        label=INDICATOR["deviation"].label,
        widget=forms.Textarea(attrs={"rows": 1}),
    )

    CONTENT_FIELDS = ("name", "target", "actual", "weight", "score", "deviation")

    def __init__(self, *args: Any, template: str = DEFAULT_TEMPLATE, **kwargs: Any):
        super().__init__(*args, **kwargs)
        level1 = self._current("level1")
        level2 = self._current("level2")
        by_level1 = level2_choices(template)
        self.fields["level1"].widget.choices = _choices(level1_choices(template), level1)
        self.fields["level2"].widget.choices = _level2_choices(by_level1, level1, level2)
        # A screen reader names each box by its row and column ("第 3 行 分值"): the row's
        # number cell (_indicator_row.html) and the column's heading (form.html).
        for name, col in INDICATOR_COLUMNS.items():
            self.fields[name].widget.attrs["aria-labelledby"] = (
                f"{self.prefix}-row indicator-col-{col}"
            )
        self.fields["level1"].widget.attrs["data-role"] = "level1"
        self.fields["level2"].widget.attrs["data-role"] = "level2"

    def _current(self, name: str) -> str:
        if self.is_bound:
            return str(self.data.get(self.add_prefix(name), "") or "").strip()
        return str(self.initial.get(name, "") or "").strip()

    def is_blank(self) -> bool:
        """True when nothing but categories was typed: such a row is dropped on save."""
        data = getattr(self, "cleaned_data", {})
        return all(data.get(f) in (None, "") for f in self.CONTENT_FIELDS)

    def clean_key(self) -> str:
        key = self.cleaned_data["key"]
        return key if ROW_KEY_RE.match(key) else ""

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].splitlines()).strip()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not (data.get("name") or "").strip() and not self.is_blank():
            self.add_error("name", gettext("请填写三级指标名称。"))
        return data


class BaseIndicatorFormSet(forms.BaseFormSet):
    ordering_widget = forms.HiddenInput
    deletion_widget = forms.HiddenInput
    # Merged with the base class's messages by BaseFormSet.
    default_error_messages = {
        "too_many_forms": _("每张表最多 %(num)d 行指标，请删去多余的行后再保存。"),
    }


IndicatorFormSet = forms.formset_factory(
    IndicatorForm,
    formset=BaseIndicatorFormSet,
    extra=0,
    can_order=True,
    can_delete=True,
    max_num=MAX_INDICATORS,
    validate_max=True,
)


def indicator_formset(
    data: Any = None, initial: list[dict[str, Any]] | None = None, template: str = DEFAULT_TEMPLATE
) -> forms.BaseFormSet:
    """The indicator table of one form."""
    return IndicatorFormSet(
        data, initial=initial, prefix=INDICATOR_PREFIX, form_kwargs={"template": template}
    )


@dataclass
class EvaluationForms:
    """Everything the edit page posts, bound or unbound, as one unit."""

    header: EvaluationHeaderForm
    funding: list[FundingForm]
    indicators: forms.BaseFormSet
    # Formset form numbers in the order of FormData.indicators (findings point at these).
    row_numbers: list[int] = field(default_factory=list)
    # Values typed but refused (scoring.header_path and friends): "not given", not blank,
    # so that no finding is drawn from them. Set by form_data().
    unreadable: frozenset[str] = frozenset()

    def is_valid(self) -> bool:
        valid = self.header.is_valid()
        valid = all([f.is_valid() for f in self.funding]) and valid
        return self.indicators.is_valid() and valid

    def removed_characters(self) -> int:
        """How many invisible control characters were removed from the posted texts."""
        kept = [
            f for f in self.indicators.forms if not getattr(f, "cleaned_data", {}).get("DELETE")
        ]
        return sum(_removed_in(form) for form in [self.header, *kept])

    def cleaning_note(self) -> str:
        """The note telling the user that control characters were removed ("" if none)."""
        count = self.removed_characters()
        if not count:
            return ""
        return gettext("已删除 %(count)s 个不可见的控制字符。") % {"count": count}

    def error_count(self) -> int:
        count = len(self.header.errors) + sum(len(f.errors) for f in self.funding)
        count += sum(len(e) for e in self.indicators.errors)
        return count + len(self.indicators.non_form_errors())

    def error_links(self) -> list[dict[str, str]]:
        """Every field error with the box it belongs to, in page order, for the summary at
        the top of the page: {"label": "第 3 行 分值", "message": …, "id": "id_ind-2-weight"}.

        Rows are numbered as the page shows them (deleted rows are not shown).
        """
        links: list[dict[str, str]] = []

        def add(label: str, box: forms.BoundField) -> None:
            for message in box.errors:
                links.append({"label": label, "message": str(message), "id": box.id_for_label})

        header = self.header
        for name in ("year", "project_name", "department", "implementing_unit"):
            if name in header.fields:
                add(str(header.fields[name].label), header[name])
        for funding_form in self.funding:
            for name in funding_form.fields:
                add(funding_form.box_label(name), funding_form[name])
            if funding_form.kind == FundingKind.TOTAL:
                add(gettext("预算执行分值"), header["execution_weight"])
        for name in ("goal_target", "goal_actual"):
            add(str(header.fields[name].label), header[name])
        position = 0
        for row_form in self.indicators.forms:
            if getattr(row_form, "cleaned_data", {}).get("DELETE"):
                continue  # a row deleted on the page is not shown again
            position += 1
            for name in INDICATOR_COLUMNS:
                label = gettext("第 %(row)d 行 %(field)s") % {
                    "row": position,
                    "field": row_form.fields[name].label,
                }
                add(label, row_form[name])
        for name in ("unit_head", "filler_name", "filler_phone"):
            add(str(header.fields[name].label), header[name])
        return links

    def form_data(self, *, department_name: str = "") -> FormData:
        """Convert to FormData, leniently: a value that did not validate counts as blank.

        Call is_valid() first. Deleted and empty indicator rows are dropped and the rest
        put in the order the page shows them; row_numbers maps each back to its row.
        """
        rows: list[tuple[int, int, IndicatorForm]] = []
        for number, row_form in enumerate(self.indicators.forms):
            cleaned = getattr(row_form, "cleaned_data", None)
            if cleaned is None or cleaned.get("DELETE") or row_form.is_blank():
                continue
            order = cleaned.get("ORDER")
            rows.append((order if order is not None else 10**6, number, row_form))
        rows.sort(key=lambda r: (r[0], r[1]))
        self.row_numbers = [number for _order, number, _form in rows]
        data = form_data_from_cleaned(
            header=getattr(self.header, "cleaned_data", {}),
            funding={f.kind: getattr(f, "cleaned_data", {}) for f in self.funding},
            indicators=[row_form.cleaned_data for _order, _number, row_form in rows],
            department_name=department_name,
        )
        unreadable = {header_path(name) for name in self.header.errors if name in _SCORED_HEADER}
        for funding_form in self.funding:
            unreadable |= {funding_path(funding_form.kind, name) for name in funding_form.errors}
        for index, (_order, _number, row_form) in enumerate(rows):
            unreadable |= {
                indicator_path(index, name) for name in row_form.errors if name in _SCORED_ROW
            }
        self.unreadable = frozenset(unreadable)
        # Totals are never typed on the web form: the form states what the rules give.
        # Scored by the rules of the year the page says (its campaign's rule set).
        rules = rules_for_year(data.year)
        return with_computed_totals(data, rules, unreadable=self.unreadable)

    def understood(self) -> list[str]:
        """How leniently read numbers were taken, one line each ("第2行分值“10分”按 10 填写").

        Call form_data() first.
        """
        lines = []
        boxes: list[tuple[str, forms.BoundField]] = []
        if "execution_weight" in self.header.fields:
            boxes.append((gettext("预算执行分值"), self.header["execution_weight"]))
        for funding_form in self.funding:
            for name in ("initial_budget", "annual_budget", "executed"):
                boxes.append((funding_form.box_label(name), funding_form[name]))
        # The kept rows in their saved order (form_data() sets row_numbers).
        for position, number in enumerate(self.row_numbers, start=1):
            row_form = self.indicators.forms[number]
            for name in ("weight", "score"):
                label = gettext("第%(row)d行%(field)s") % {
                    "row": position,
                    "field": row_form.fields[name].label,
                }
                boxes.append((label, row_form[name]))
        for label, box in boxes:
            if box.understood:
                lines.append(
                    gettext("%(label)s“%(typed)s”按 %(value)s 填写")
                    % {"label": label, "typed": str(box.data).strip(), "value": box.understood}
                )
        return lines


def evaluation_forms(
    data: Any = None,
    *,
    departments: QuerySet[Department] | None = None,
    initial: dict[str, Any] | None = None,
    template: str = DEFAULT_TEMPLATE,
) -> EvaluationForms:
    """Build the edit page's forms; ``initial`` as made by initial_from()."""
    initial = initial or {}
    return EvaluationForms(
        header=EvaluationHeaderForm(
            data, departments=departments, initial=initial.get("header", {"execution_weight": "10"})
        ),
        funding=funding_forms(data, initial=initial.get("funding")),
        indicators=indicator_formset(data, initial=initial.get("indicators"), template=template),
    )


_TEN = Decimal(10)


def blank_initial(
    *,
    year: int | None = None,
    template: str = DEFAULT_TEMPLATE,
    execution_weight: Decimal = _TEN,
) -> dict[str, Any]:
    """Initial values of a new blank form: ``year``, the execution weight and standard rows.

    The rows carry their categories only (standard_rows): the clerk types the indicators
    into them, and a row left untouched is dropped on save.
    """
    header: dict[str, Any] = {"execution_weight": f"{execution_weight.normalize():f}"}
    if year is not None:
        header["year"] = year
    return {
        "header": header,
        "indicators": [
            {"level1": level1, "level2": level2} for level1, level2 in standard_rows(template)
        ],
    }


def initial_from(evaluation: Evaluation, *, next_year: bool = False) -> dict[str, Any]:
    """Initial values of the edit page from a stored evaluation (``next_year``: its copy)."""
    return initial_from_form_data(
        evaluation.as_form_data(),
        department_id=evaluation.department_id,
        revision=evaluation.revision,
        next_year=next_year,
    )


# --- import -------------------------------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file field that accepts several files at once."""

    widget = MultipleFileInput

    def __init__(self, *args: Any, **kwargs: Any):
        # Empty files are reported with their names in the form's clean_files().
        kwargs.setdefault("allow_empty_file", True)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        if isinstance(data, list | tuple):
            if data:
                return [super(MultipleFileField, self).clean(d, initial) for d in data]
            data = None
        result = super().clean(data, initial)
        return [result] if result else []


class ImportUploadForm(forms.Form):
    """One or more .txt/.xlsx/.docx files of self-evaluation forms."""

    files = MultipleFileField(
        label=_("自评表文件"),
        help_text=_("可一次选择多个文件；支持 .txt、.xlsx、.docx 格式。"),
        error_messages={
            "required": _("请选择至少一个文件。"),
            "invalid": _("上传的不是文件，请重新选择。"),
        },
        widget=MultipleFileInput(attrs={"accept": ",".join(SUPPORTED_EXTENSIONS)}),
    )

    def clean_files(self) -> list[UploadedFile]:
        files: list[UploadedFile] = self.cleaned_data["files"]
        limit = settings.IMPORT_MAX_FILES
        if len(files) > limit:
            raise forms.ValidationError(
                gettext("一次最多导入 %(limit)s 个文件，您选择了 %(count)s 个。")
                % {"limit": limit, "count": len(files)}
            )
        problems = []
        for f in files:
            name = Path(f.name or "").name
            if Path(name).suffix.lower() not in SUPPORTED_EXTENSIONS:
                problems.append(
                    gettext("“%(name)s”格式不支持，只能导入 .txt、.xlsx、.docx 文件。")
                    % {"name": name}
                )
            elif f.size is None or f.size == 0:
                problems.append(gettext("“%(name)s”是空文件。") % {"name": name})
            elif f.size > settings.IMPORT_MAX_FILE_SIZE:
                problems.append(
                    gettext("“%(name)s”太大（%(size)s），单个文件不能超过 %(limit)s。")
                    % {
                        "name": name,
                        "size": filesizeformat(f.size),
                        "limit": filesizeformat(settings.IMPORT_MAX_FILE_SIZE),
                    }
                )
        if problems:
            raise forms.ValidationError(problems)
        total = sum(f.size or 0 for f in files)
        if total > settings.IMPORT_PREVIEW_QUOTA:
            # A preview is kept until confirmed: more than one user may hold is refused.
            raise forms.ValidationError(
                gettext(
                    "所选文件共 %(size)s，超过每位用户可暂存待确认的 %(limit)s（上限），"
                    "请分批导入。"
                )
                % {
                    "size": filesizeformat(total),
                    "limit": filesizeformat(settings.IMPORT_PREVIEW_QUOTA),
                }
            )
        return files
