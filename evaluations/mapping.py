"""The one mapping of the form: FormData ↔ models ↔ Django form values ↔ snapshot ↔ import report.

Driven by the catalogue (``core/fields.py``): every direction walks HEADER_FIELDS,
FUNDING_FIELDS and INDICATOR_FIELDS and converts each value by its kind, so a new field
of the form needs its catalogue entry, its model field and its place in the layout, and
nothing here unless it is special. The special cases are few and named: the department
(a foreign key on the model, a choice of department on the page, a name in FormData),
the year (moved on by one in next year's copy) and the indicator row's ``key`` (identity,
not content).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from evaluations.core.approvals import with_approved_targets
from evaluations.core.evaluation_data import ApprovedTarget, FormData, FundingData, IndicatorData
from evaluations.core.fields import (
    CHOICE,
    FUNDING_FIELDS,
    FUNDING_ORDER,
    HEADER,
    HEADER_FIELDS,
    INDICATOR_FIELDS,
    LONG_TEXT,
    MONEY,
    POINTS,
    TEXT,
    YEAR,
    Field,
)
from evaluations.core.values import db_fields

if TYPE_CHECKING:
    from evaluations.models import Evaluation, FundingRow, Indicator

# The execution weight of a form that states none (docs/domain.md, scoring rule 1: 10).
DEFAULT_EXECUTION_WEIGHT = Decimal("10")

PLACES = {MONEY: Decimal("0.0001"), POINTS: Decimal("0.01")}
# Header fields that FormData holds but the model does not store as a plain value.
_NOT_MODEL_FIELDS = ("department",)
# The parsed columns of an indicator's target and actual (comparator, number, unit).
PARSED_COLUMNS = ("target", "actual")


def _is_number(field: Field) -> bool:
    return field.kind in PLACES


def _funding_sorted(rows: Iterable[Any]) -> list[Any]:
    return sorted(rows, key=lambda r: FUNDING_ORDER.index(r.kind))


# --- models → FormData --------------------------------------------------------------------


def form_data_from_models(
    evaluation: Evaluation, funding: Iterable[FundingRow], indicators: Iterable[Indicator]
) -> FormData:
    """The form's data from an evaluation and its rows (stored or about to be stored)."""
    header = {
        f.key: getattr(evaluation, f.model_name)
        for f in HEADER_FIELDS
        if f.key not in _NOT_MODEL_FIELDS
    }
    data = FormData(
        **header,
        department=evaluation.department.name,
        totals_computed=evaluation.totals_computed,
        due=due_state(evaluation),
        funding=[
            FundingData(kind=r.kind, **{f.key: getattr(r, f.model_name) for f in FUNDING_FIELDS})
            for r in _funding_sorted(funding)
        ],
        indicators=[
            IndicatorData(key=i.key, **{f.key: getattr(i, f.model_name) for f in INDICATOR_FIELDS})
            for i in sorted(indicators, key=lambda i: i.position)
        ],
    )
    targets = approved_targets(evaluation)
    return data if targets is None else with_approved_targets(data, targets)


# The due list is the campaigns app's, a layer above the form. The form reaches it only
# through its own foreign key (``Evaluation.due_project``), never by importing campaigns.
def _due_target_model(evaluation: Evaluation) -> type[Any]:
    """The model of a due project's approved targets (``campaigns.DueTarget``)."""
    return type(evaluation).due_project.field.related_model.targets.rel.related_model


def _campaign_model(evaluation: Evaluation) -> type[Any]:
    """The model of the year's campaign (``campaigns.Campaign``)."""
    return type(evaluation).due_project.field.related_model.campaign.field.related_model


def approved_targets(evaluation: Evaluation) -> list[ApprovedTarget] | None:
    """The approved targets of the form's due project (None: no due project).

    One query, none when the due project and its targets were prefetched.
    """
    if evaluation.due_project_id is None:
        return None
    if type(evaluation).due_project.is_cached(evaluation):
        rows = evaluation.due_project.targets.all()
    else:
        rows = _due_target_model(evaluation).objects.filter(project_id=evaluation.due_project_id)
    return [
        ApprovedTarget(
            level1=t.level1, level2=t.level2, name=t.name, target=t.target, weight=t.weight
        )
        for t in sorted(rows, key=lambda t: (t.position, t.pk))
    ]


def due_state(evaluation: Evaluation) -> bool | None:
    """Whether the form is on its year's due list: True, False, or None (no campaign).

    At most one query; none when the form has its due project, or when the queryset
    annotated ``year_has_campaign`` (lists and exports of many forms).
    """
    if evaluation.due_project_id is not None:
        return True
    has_campaign = getattr(evaluation, "year_has_campaign", None)
    if has_campaign is None:
        if not evaluation.year:
            return None
        has_campaign = _campaign_model(evaluation).objects.filter(year=evaluation.year).exists()
    return False if has_campaign else None


# --- FormData → model field values --------------------------------------------------------------------


def _model_value(field: Field, value: Any) -> Any:
    """A FormData value as the model stores it: short texts trimmed, blanks defaulted."""
    if field.kind in (TEXT, CHOICE):
        return (value or "").strip()
    if field.kind == LONG_TEXT:
        return value or ""
    if value is None:
        return field.default
    return value


def header_to_model(evaluation: Evaluation, data: FormData) -> None:
    """Copy the header of ``data`` onto ``evaluation`` (not saved; the department is not set).

    A form without a year keeps the evaluation's year; one without an execution weight
    gets the default weight of 10.
    """
    for f in HEADER_FIELDS:
        if f.key in _NOT_MODEL_FIELDS:
            continue
        value = _model_value(f, getattr(data, f.key))
        if f.key == "year":
            value = value or evaluation.year
        elif f.key == "execution_weight" and value is None:
            value = DEFAULT_EXECUTION_WEIGHT
        setattr(evaluation, f.model_name, value)
    evaluation.totals_computed = data.totals_computed


def _fit(number: Decimal | None) -> Decimal | None:
    """Keep a parsed number only if it fits the database column (20 digits, 6 places)."""
    if number is None:
        return None
    if abs(number) >= Decimal("1e14"):
        return None
    return number.quantize(Decimal("0.000001"))


def _parsed_columns(name: str, text: str) -> dict[str, Any]:
    comparator, number, unit = db_fields(text)
    return {
        f"{name}_comparator": comparator,
        f"{name}_number": _fit(number),
        f"{name}_unit": unit[:20],
    }


def funding_values(data: FormData) -> list[dict[str, Any]]:
    """The field values of each funding row of ``data``, in the form's order of kinds."""
    return [
        {
            "kind": row.kind,
            **{f.model_name: _model_value(f, getattr(row, f.key)) for f in FUNDING_FIELDS},
        }
        for row in _funding_sorted(data.funding)
    ]


def indicator_values(data: FormData) -> list[dict[str, Any]]:
    """The field values of each indicator row of ``data``, numbered from 1 (``position``).

    A row keeps its ``key``; a row without one gets none here (the model's default: new).
    """
    rows = []
    for position, ind in enumerate(data.indicators, start=1):
        values = {f.model_name: _model_value(f, getattr(ind, f.key)) for f in INDICATOR_FIELDS}
        for name in PARSED_COLUMNS:
            values.update(_parsed_columns(name, getattr(ind, name)))
        if ind.key:
            values["key"] = ind.key
        rows.append({"position": position, **values})
    return rows


# --- FormData → Django form initial values ------------------------------------------------


def decimal_text(value: Decimal | None) -> str:
    """A stored decimal as a person would type it: 70.0000 -> "70", 57.5500 -> "57.55"."""
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _initial_value(field: Field, value: Any) -> Any:
    return decimal_text(value) if _is_number(field) else value


def _initial_row(fields: Iterable[Field], row: Any, next_year: bool) -> dict[str, Any]:
    return {
        f.key: _initial_value(f, getattr(row, f.key))
        for f in fields
        if f.entered and (f.next_year or not next_year)
    }


def initial_from_form_data(
    data: FormData, *, department_id: int | None, revision: int | None, next_year: bool = False
) -> dict[str, Any]:
    """Initial values of the edit page ({"header", "funding", "indicators"}) for ``data``.

    With ``next_year`` the result is the start of next year's form: the fields the
    catalogue marks ``next_year`` are copied (project, unit, goal target, indicators, their
    targets and weights), the rest start blank; the rows are new rows (no keys) of a new
    form (no revision).
    """
    header = _initial_row(HEADER_FIELDS, data, next_year)
    header["department"] = department_id
    if next_year:
        header["year"] = data.year + 1 if data.year else data.year
    else:
        header["revision"] = revision
    funding = {row.kind: _initial_row(FUNDING_FIELDS, row, next_year) for row in data.funding}
    indicators = []
    for ind in data.indicators:
        row = _initial_row(INDICATOR_FIELDS, ind, next_year)
        if not next_year:
            row["key"] = ind.key
        indicators.append(row)
    return {"header": header, "funding": funding, "indicators": indicators}


# --- Django form cleaned data → FormData --------------------------------------------------


def _cleaned_value(field: Field, cleaned: Mapping[str, Any]) -> Any:
    value = cleaned.get(field.key)
    if field.kind in (YEAR, MONEY, POINTS):
        return value
    return value or ""


def form_data_from_cleaned(
    *,
    header: Mapping[str, Any],
    funding: Mapping[str, Mapping[str, Any]],
    indicators: Iterable[Mapping[str, Any]],
    department_name: str = "",
) -> FormData:
    """FormData from the edit page's cleaned values, leniently (a missing value is blank).

    ``funding`` maps each funding kind to its row's values (a row with no amount at all is
    left out); ``indicators`` are the kept rows in their order. Fields not typed on the page
    (execution score, total) stay None: the caller computes them.
    """
    values = {f.key: _cleaned_value(f, header) for f in HEADER_FIELDS if f.entered}
    values["department"] = department_name
    if values.get("execution_weight") is None:
        values["execution_weight"] = DEFAULT_EXECUTION_WEIGHT
    rows = []
    for kind in FUNDING_ORDER:
        cleaned = funding.get(kind, {})
        amounts = {f.key: _cleaned_value(f, cleaned) for f in FUNDING_FIELDS}
        if any(v is not None for v in amounts.values()):
            rows.append(FundingData(kind=str(kind), **amounts))
    return FormData(
        **values,
        funding=rows,
        indicators=[
            IndicatorData(
                key=cleaned.get("key") or "",
                **{f.key: _cleaned_value(f, cleaned) for f in INDICATOR_FIELDS},
            )
            for cleaned in indicators
        ],
    )


# --- FormData → snapshot (the JSON of a version) ------------------------------------------


def _dec(value: Decimal | None, places: Decimal) -> str | None:
    """Decimal as the database would store it, as a string without trailing zeros."""
    if value is None:
        return None
    q = value.quantize(places)
    text = format(q.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _snapshot_value(field: Field, value: Any) -> Any:
    if not _is_number(field):
        return value
    text = _dec(value, PLACES[field.kind])
    if text is None and field.default is not None:
        return _dec(field.default, PLACES[field.kind])
    return text


def snapshot(data: FormData, *, with_keys: bool = False) -> dict[str, Any]:
    """The form as plain JSON data, rounded as the database stores it.

    Without ``with_keys`` this is the form's content (what two copies must share to be
    the same form); ``with_keys`` adds each indicator row's ``key``, as versions store it.
    """

    def indicator(ind: IndicatorData) -> dict[str, Any]:
        row = {"key": ind.key} if with_keys else {}
        row.update({f.key: _snapshot_value(f, getattr(ind, f.key)) for f in INDICATOR_FIELDS})
        return row

    result = {f.key: _snapshot_value(f, getattr(data, f.key)) for f in HEADER_FIELDS}
    result["funding"] = [
        {
            "kind": row.kind,
            **{f.key: _snapshot_value(f, getattr(row, f.key)) for f in FUNDING_FIELDS},
        }
        for row in data.funding
    ]
    result["indicators"] = [indicator(ind) for ind in data.indicators]
    return result


# --- FormData → import report (JSON documented in README.md: a contract) -----------------

# The header fields of the report, before the funding rows and after them; the goals are
# not part of it. Funding and indicator rows carry every catalogue field.
REPORT_HEADER = ("year", "project_name", "department", "implementing_unit")
REPORT_EXECUTION = ("execution_weight", "execution_score")
REPORT_TOTAL = ("stated_total",)
# Indicator fields a file never states: the approved values come from the due list.
REPORT_SKIPPED = ("approved_target", "approved_weight")


def json_number(value: Decimal | None) -> int | float | None:
    """A Decimal as a JSON number (int when integral), None as null."""
    if value is None:
        return None
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def _report_value(field: Field, value: Any) -> Any:
    return json_number(value) if _is_number(field) else value


def _report_fields(data: Any, keys: Iterable[str]) -> dict[str, Any]:
    return {key: _report_value(HEADER[key], getattr(data, key)) for key in keys}


def report_json(data: FormData) -> dict[str, Any]:
    """The form's part of the import report: line, header, funding, indicators, total."""
    return {
        "line": data.line,
        **_report_fields(data, REPORT_HEADER),
        "funding": [
            {
                "kind": row.kind,
                **{f.key: _report_value(f, getattr(row, f.key)) for f in FUNDING_FIELDS},
            }
            for row in data.funding
        ],
        **_report_fields(data, REPORT_EXECUTION),
        "indicators": [
            {
                f.key: _report_value(f, getattr(ind, f.key))
                for f in INDICATOR_FIELDS
                if f.key not in REPORT_SKIPPED
            }
            for ind in data.indicators
        ],
        **_report_fields(data, REPORT_TOTAL),
    }


# --- row identity -------------------------------------------------------------------------


def with_trusted_keys(data: FormData, known: Iterable[str]) -> FormData:
    """A copy of ``data`` whose indicator rows keep a key only if it is one of ``known``.

    Keys come back from the browser (a hidden field): a key that is not one of this form's
    stored rows, or that a second row repeats, is dropped, so the row counts as new.
    """
    allowed = set(known)
    used: set[str] = set()
    rows = []
    for ind in data.indicators:
        key = ind.key if ind.key in allowed and ind.key not in used else ""
        if key:
            used.add(key)
        rows.append(replace(ind, key=key))
    return replace(data, indicators=rows)


def with_stored_approvals(data: FormData, stored: FormData) -> FormData:
    """A copy of ``data`` that reports against the approvals of the ``stored`` form.

    The approved values are never taken from a posted page. A form of a due project is
    compared with that project's approved targets (``stored.approved_targets``, by the
    rows' names); a form without one keeps the values of the stored row with the same key
    (a new row has none). Call after ``with_trusted_keys``.
    """
    if stored.approved_targets is not None:
        return with_approved_targets(data, stored.approved_targets)
    approved = {ind.key: ind for ind in stored.indicators if ind.key}
    rows = []
    for ind in data.indicators:
        source = approved.get(ind.key) if ind.key else None
        rows.append(
            replace(
                ind,
                approved_target=source.approved_target if source else "",
                approved_weight=source.approved_weight if source else None,
            )
        )
    return replace(data, indicators=rows)


def _content_id(ind: IndicatorData) -> tuple[str, str, str]:
    return (ind.level1.strip(), ind.level2.strip(), ind.name.strip())


def with_keys_matched(data: FormData, stored: FormData) -> FormData:
    """A copy of ``data`` whose rows take the key of a stored row with the same names.

    Rows are matched on (一级, 二级, 三级指标); each stored row is used once, in order, so
    repeated names pair up in turn. Unmatched rows are new (no key).
    """
    available: dict[tuple[str, str, str], list[str]] = {}
    for ind in stored.indicators:
        if ind.key:
            available.setdefault(_content_id(ind), []).append(ind.key)
    rows = []
    for ind in data.indicators:
        keys = available.get(_content_id(ind))
        rows.append(replace(ind, key=keys.pop(0) if keys else ""))
    return replace(data, indicators=rows)
