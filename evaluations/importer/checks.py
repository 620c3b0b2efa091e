"""Checks every imported form passes before it is written, whatever file it came from.

The web form and the model refuse the same things (``evaluations.core.limits``): here an
imported form meets them with a problem that names the form, the row and the column,
instead of the model's ValidationError failing the whole file with a terse message.

- Invisible control characters (``safetext.clean_text``) are removed: nothing a reader
  sees is lost, and the problem says where they were. A line break or tab in a single-line
  text (a name: ``SINGLE_LINE_TEXTS``) becomes a space (``safetext.single_line``), as a
  cell split over lines in Word reads.
- A form that cannot be stored as written is refused (taken out of the import) rather
  than cut or blanked: a text over its length, more than ``MAX_INDICATORS`` indicator
  rows, a negative amount or weight, a number with more digits than the form holds.
  Cutting a goal or blanking an amount would store something other than what the
  department wrote, silently to anyone who did not read the report; refused, the form
  keeps its stored version (if any) and the department shortens its own text. The other
  forms of the file are imported as usual.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models

from common.safetext import (
    clean_text,
    count_forbidden,
    describe_forbidden,
    single_line,
)
from common.translation import _
from evaluations.core.evaluation_data import FormData, FundingData, IndicatorData
from evaluations.core.fields import FUNDING_FIELDS, HEADER_FIELDS, INDICATOR_FIELDS
from evaluations.core.layout import GOAL_ACTUAL, GOAL_TARGET
from evaluations.core.limits import MAX_INDICATORS, SINGLE_LINE_TEXTS, TEXT_LIMITS
from evaluations.importer.results import Problem
from evaluations.models import Evaluation, FundingKind, FundingRow, Indicator

# Text fields of the form and of an indicator row, in the order of the printed form.
FORM_TEXTS = ("project_name", "department", "implementing_unit", "goal_target", "goal_actual")
INDICATOR_TEXTS = ("level1", "level2", "name", "target", "actual", "deviation")
# The service stores these stripped of surrounding spaces; the others as written.
_STRIPPED = frozenset(
    {"project_name", "department", "implementing_unit", "level1", "level2", "name"}
    | {"target", "actual"}
)
# Numbers of the form's header: FormData attribute -> Evaluation column.
FORM_NUMBERS = {
    "execution_weight": "execution_weight",
    "execution_score": "stated_execution_score",
    "stated_total": "stated_total",
}
# Beyond this many refusals of one form, the rest are counted, not listed.
MAX_PROBLEMS_PER_FORM = 10


def _labels() -> dict[str, str]:
    """Field names as the printed form heads their cells: the catalogue's labels, except the
    goals, whose cells are headed 预期目标 / 实际完成情况 under 年度总体目标."""
    labels = {f.key: str(f.label) for f in (*HEADER_FIELDS, *FUNDING_FIELDS, *INDICATOR_FIELDS)}
    labels.update(
        goal_target=str(GOAL_TARGET),
        goal_actual=str(GOAL_ACTUAL),
        stated_execution_score=labels["execution_score"],
    )
    return labels


def check_forms(forms: list[FormData]) -> list[Problem]:
    """Clean the forms' texts and take out those over a limit; a problem for each.

    ``forms`` is changed in place: texts lose their control characters, and refused
    forms are removed from the list so the caller imports only the rest.
    """
    problems: list[Problem] = []
    kept: list[FormData] = []
    labels = _labels()
    for form in forms:
        problems.extend(_remove_control_characters(form, labels))
        refusals = _refusals(form, labels)
        if not refusals:
            kept.append(form)
            continue
        problems.extend(refusals[:MAX_PROBLEMS_PER_FORM])
        if len(refusals) > MAX_PROBLEMS_PER_FORM:
            problems.append(
                Problem(
                    line=form.line,
                    message=_("《%(form)s》另有 %(count)d 处超出限制，该表未导入。")
                    % {
                        "form": _form_name(form),
                        "count": len(refusals) - MAX_PROBLEMS_PER_FORM,
                    },
                )
            )
    forms[:] = kept
    return problems


def _form_name(form_data: FormData) -> str:
    """The form as a message names it: its project name, shortened."""
    name = " ".join(form_data.project_name.split())
    if not name:
        return _("未填项目名称的表")
    return name if len(name) <= 30 else name[:30] + "…"


def _row_name(position: int) -> str:
    return _("第%(position)d行指标") % {"position": position}


# --------------------------------------------------------------------------- characters


def _remove_control_characters(form_data: FormData, labels: dict[str, str]) -> list[Problem]:
    """Remove control characters from every text; one problem for the header, one per row."""
    problems = []
    found = _clean_fields(form_data, FORM_TEXTS)
    if found:
        problems.append(_removed_problem(form_data, form_data.line, "", found, labels))
    for position, indicator in enumerate(form_data.indicators, start=1):
        found = _clean_fields(indicator, INDICATOR_TEXTS)
        if found:
            problems.append(
                _removed_problem(
                    form_data, indicator.line or form_data.line, _row_name(position), found, labels
                )
            )
    return problems


def _clean_fields(item: FormData | IndicatorData, names: tuple[str, ...]) -> dict[str, str]:
    """Clean the named texts of ``item`` in place; the original text of each one changed."""
    found = {}
    for name in names:
        text = getattr(item, name)
        if text and count_forbidden(text):
            found[name] = text
            setattr(item, name, clean_text(text))
        if text and name in SINGLE_LINE_TEXTS:
            setattr(item, name, single_line(getattr(item, name)))
    return found


def _removed_problem(
    form_data: FormData, line: int | None, where: str, found: dict[str, str], labels: dict[str, str]
) -> Problem:
    originals = "".join(found.values())
    return Problem(
        line=line,
        message=_(
            "《%(form)s》%(where)s的%(fields)s含有 %(count)d 个不可见的控制字符（%(chars)s），"
            "已删除。"
        )
        % {
            "form": _form_name(form_data),
            "where": where,
            "fields": "、".join(f"“{labels[name]}”" for name in found),
            "count": count_forbidden(originals),
            "chars": describe_forbidden(originals),
        },
    )


# --------------------------------------------------------------------------- refusals


def _refusals(form_data: FormData, labels: dict[str, str]) -> list[Problem]:
    """Everything that keeps ``form`` from being stored as written."""
    problems: list[Problem] = []
    name = _form_name(form_data)

    def refuse(line: int | None, what: str) -> None:
        problems.append(
            Problem(
                line=line,
                message=_("《%(form)s》%(what)s，该表未导入。") % {"form": name, "what": what},
            )
        )

    if len(form_data.indicators) > MAX_INDICATORS:
        refuse(
            form_data.line,
            _("有 %(count)d 行指标，超过每张表最多 %(max)d 行的限制")
            % {"count": len(form_data.indicators), "max": MAX_INDICATORS},
        )
    for field in FORM_TEXTS:
        too_long = _too_long(form_data, field, labels)
        if too_long:
            refuse(form_data.line, too_long)
    for attribute, column in FORM_NUMBERS.items():
        value = getattr(form_data, attribute)
        error = _number_error(Evaluation, column, value)
        if error:
            refuse(form_data.line, _number_message("", column, value, error, labels))
    for funding in form_data.funding:
        for what in _funding_errors(funding, labels):
            refuse(funding.line or form_data.line, what)
    for position, indicator in enumerate(form_data.indicators, start=1):
        line = indicator.line or form_data.line
        row = _row_name(position)
        for field in INDICATOR_TEXTS:
            too_long = _too_long(indicator, field, labels)
            if too_long:
                refuse(line, row + too_long)
        for field in ("weight", "score"):
            value = getattr(indicator, field)
            error = _number_error(Indicator, field, value)
            if error:
                refuse(line, _number_message(row, field, value, error, labels))
    return problems


def _too_long(item: FormData | IndicatorData, field: str, labels: dict[str, str]) -> str:
    """'的“三级指标”超过200字（共257字）' when the text is over its limit, else ''."""
    text = getattr(item, field)
    length = len(text.strip() if field in _STRIPPED else text)
    limit = TEXT_LIMITS[field]
    if length <= limit:
        return ""
    return _("的“%(field)s”超过%(limit)d字（共%(length)d字）") % {
        "field": labels[field],
        "limit": limit,
        "length": length,
    }


def _funding_errors(funding: FundingData, labels: dict[str, str]) -> list[str]:
    """What keeps a funding row's amounts from being stored (negative, too many digits)."""
    kind = (
        str(FundingKind(funding.kind).label) if funding.kind in FundingKind.values else funding.kind
    )
    where = _("资金“%(kind)s”") % {"kind": kind}
    errors = []
    for field in ("initial_budget", "annual_budget", "executed"):
        value = getattr(funding, field)
        error = _number_error(FundingRow, field, value)
        if error:
            errors.append(_number_message(where, field, value, error, labels))
    return errors


def _number_error(model: type[models.Model], field: str, value: Decimal | None) -> str:
    """Why ``value`` does not fit the model's column ('' when it does), as the model checks."""
    if value is None:
        return ""
    column = model._meta.get_field(field)
    try:
        column.run_validators(column.to_python(value))
    except ValidationError as exc:
        codes = {error.code for error in exc.error_list}
        if "min_value" in codes:
            return _("不能为负数")
        assert isinstance(column, models.DecimalField)
        max_digits, places = column.max_digits or 0, column.decimal_places or 0
        return _("位数超出表格所能容纳的范围（整数最多%(whole)d位，小数最多%(places)d位）") % {
            "whole": max_digits - places,
            "places": places,
        }
    return ""


def _number_message(
    where: str, field: str, value: Decimal | None, error: str, labels: dict[str, str]
) -> str:
    """'资金“年度资金总额”的“全年预算数”为 -10，不能为负数'."""
    return _("%(where)s的“%(field)s”为 %(value)s，%(error)s") % {
        "where": where,
        "field": labels[field],
        "value": value,
        "error": error,
    }
