"""The one mapping of the form: every direction keeps every field of the catalogue.

Round trips FormData → models → FormData, FormData → edit page → cleaned data → FormData
and FormData → snapshot, for a form whose every field holds a distinct value and for all
38 sample forms; and a walk over the catalogue so that a new field cannot be forgotten in
one direction.
"""

from __future__ import annotations

import dataclasses
import uuid
from decimal import Decimal
from typing import Any

import pytest

from departments.models import Department
from evaluations import mapping, services
from evaluations.core.evaluation_data import FormData, FundingData, IndicatorData
from evaluations.core.fields import (
    FUNDING_FIELDS,
    FUNDING_ORDER,
    HEADER_FIELDS,
    INDICATOR_FIELDS,
    LONG_TEXT,
    MONEY,
    POINTS,
    TEXT,
    YEAR,
    Field,
)
from evaluations.core.scoring import evaluate
from evaluations.forms.entry import (
    EvaluationHeaderForm,
    FundingForm,
    IndicatorForm,
    evaluation_forms,
)
from evaluations.importer.service import FormReport, form_as_json
from evaluations.importer.text import parse_text
from evaluations.models import Evaluation, FundingRow, Indicator
from tests.conftest import sample_path

ALL_FIELDS = [
    *(("header", f) for f in HEADER_FIELDS),
    *(("funding", f) for f in FUNDING_FIELDS),
    *(("indicator", f) for f in INDICATOR_FIELDS),
]
# Computed on the web form (with_computed_totals), so not carried through it.
NOT_ENTERED = {f.key for _section, f in ALL_FIELDS if not f.entered}


def _value(field: Field, n: int) -> Any:
    """A value of the field's kind, distinct for each field and row."""
    if field.kind == YEAR:
        return 2021
    if field.kind == MONEY:
        return Decimal(f"{n}.125")
    if field.kind == POINTS:
        return Decimal(f"{n % 50}.25")
    if field.key == "department":
        return "昌吉州测试局"
    if field.kind == LONG_TEXT:
        return f"{field.key} 第{n}段\n第二行"
    if field.kind == TEXT and field.key in ("target", "actual"):
        return f">={n}户"
    return f"{field.key}{n}"


def distinct_form_data(rows: int = 3) -> FormData:
    """A form whose every catalogue field holds its own value, rows with their keys."""
    counter = iter(range(1, 10_000))
    header = {f.key: _value(f, next(counter)) for f in HEADER_FIELDS}
    return FormData(
        **header,
        funding=[
            FundingData(kind=str(kind), **{f.key: _value(f, next(counter)) for f in FUNDING_FIELDS})
            for kind in FUNDING_ORDER
        ],
        indicators=[
            IndicatorData(
                key=uuid.uuid4().hex, **{f.key: _value(f, next(counter)) for f in INDICATOR_FIELDS}
            )
            for _ in range(rows)
        ],
    )


@pytest.fixture(scope="module")
def sample_forms() -> list[FormData]:
    forms = [
        f for p in ("000", "001", "003") for f in parse_text(sample_path(p).read_bytes()).forms
    ]
    assert len(forms) == 38
    return forms


def _with_keys(data: FormData) -> FormData:
    rows = [dataclasses.replace(i, key=uuid.uuid4().hex) for i in data.indicators]
    return dataclasses.replace(data, indicators=rows)


def through_models(data: FormData) -> FormData:
    """FormData → unsaved Evaluation and rows → FormData."""
    evaluation = Evaluation(department=Department(name=data.department), year=2000)
    # What a list's queryset annotates: no campaign that year, and no database here.
    evaluation.year_has_campaign = False
    mapping.header_to_model(evaluation, data)
    funding, indicators = services.form_rows(data)
    return mapping.form_data_from_models(evaluation, funding, indicators)


def post_body(initial: dict[str, Any]) -> dict[str, str]:
    """What the browser posts for the edit page built from ``initial``."""

    def text(value: Any) -> str:
        return "" if value is None else str(value)

    body = {name: text(value) for name, value in initial["header"].items()}
    for kind, values in initial["funding"].items():
        body.update({f"funding-{kind}-{name}": text(v) for name, v in values.items()})
    rows = initial["indicators"]
    body.update({"ind-TOTAL_FORMS": str(len(rows)), "ind-INITIAL_FORMS": str(len(rows))})
    for i, row in enumerate(rows):
        body.update({f"ind-{i}-{name}": text(v) for name, v in row.items()})
        body[f"ind-{i}-ORDER"] = str(i + 1)
    return body


def through_web_form(data: FormData, *, next_year: bool = False) -> FormData:
    """FormData → the edit page's initial values → posted → cleaned → FormData.

    Needs the database: the page scores by the rule set of the form's year.
    """
    initial = mapping.initial_from_form_data(
        data, department_id=None, revision=3, next_year=next_year
    )
    forms = evaluation_forms(post_body(initial))
    assert forms.is_valid(), [forms.header.errors, *[f.errors for f in forms.funding]]
    return forms.form_data(department_name=data.department)


def content(data: FormData, *, drop: set[str] = frozenset()) -> dict[str, Any]:
    snap = mapping.snapshot(data, with_keys=True)
    snap["indicators"] = [
        {k: v for k, v in row.items() if k not in drop} for row in snap["indicators"]
    ]
    return {k: v for k, v in snap.items() if k not in drop}


# --- the catalogue, direction by direction ------------------------------------------------


def test_every_catalogue_field_is_in_formdata_and_the_models():
    targets = {
        "header": (FormData, Evaluation),
        "funding": (FundingData, FundingRow),
        "indicator": (IndicatorData, Indicator),
    }
    for section, f in ALL_FIELDS:
        data_class, model = targets[section]
        assert f.key in {x.name for x in dataclasses.fields(data_class)}, f.key
        assert model._meta.get_field(f.model_name).name == f.model_name


def test_every_entered_field_is_on_the_edit_page():
    pages = {
        "header": EvaluationHeaderForm(departments=Department.objects.none()),
        "funding": FundingForm(kind="total"),
        "indicator": IndicatorForm(),
    }
    for section, f in ALL_FIELDS:
        assert (f.key in pages[section].fields) == f.entered, f.key
    assert pages["indicator"].fields["key"].widget.is_hidden


def test_every_field_survives_each_direction(db):
    data = distinct_form_data()
    # models
    assert content(through_models(data)) == content(data)
    # the edit page (its computed fields are recomputed, not carried)
    assert content(through_web_form(data), drop=NOT_ENTERED) == content(data, drop=NOT_ENTERED)
    # snapshot: every field by its key, rounded as stored
    snap = mapping.snapshot(data, with_keys=True)
    assert set(snap) == {f.key for f in HEADER_FIELDS} | {"funding", "indicators"}
    assert set(snap["funding"][0]) == {"kind"} | {f.key for f in FUNDING_FIELDS}
    assert set(snap["indicators"][0]) == {"key"} | {f.key for f in INDICATOR_FIELDS}
    assert "key" not in mapping.snapshot(data)["indicators"][0]
    assert snap["funding"][0]["initial_budget"] == "13.125"
    # every field with a distinct value changes the snapshot when changed
    for section, f in ALL_FIELDS:
        changed = _changed(data, section, f)
        assert mapping.snapshot(changed) != mapping.snapshot(data), f.key


def _changed(data: FormData, section: str, f: Field) -> FormData:
    copy = dataclasses.replace(
        data,
        funding=[dataclasses.replace(r) for r in data.funding],
        indicators=[dataclasses.replace(r) for r in data.indicators],
    )
    target = {"header": copy, "funding": copy.funding[0], "indicator": copy.indicators[0]}[section]
    value = getattr(target, f.key)
    setattr(target, f.key, value + 1 if not isinstance(value, str) else value + "改")
    return copy


def test_the_import_report_names_every_row_field():
    data = distinct_form_data(rows=1)
    report = form_as_json(FormReport(form=data, result=evaluate(data), action="created"))
    assert set(report["funding"][0]) == {"kind"} | {f.key for f in FUNDING_FIELDS}
    # No key, and no approved values: a file never states them (they come from the due list).
    assert set(report["indicators"][0]) == {f.key for f in INDICATOR_FIELDS} - {
        "approved_target",
        "approved_weight",
    }


def test_the_import_report_keeps_its_documented_shape():
    data = FormData(
        year=2021,
        project_name="项目",
        department="部门",
        implementing_unit="单位",
        goal_target="不在报告中",
        funding=[FundingData("total", Decimal("70"), Decimal("70.00"), Decimal("57.55"))],
        execution_weight=Decimal("10"),
        execution_score=Decimal("8.22"),
        stated_total=Decimal("18.22"),
        indicators=[
            IndicatorData(
                key="0" * 32,
                level1="产出指标",
                level2="数量指标",
                name="户数",
                target="=1600户",
                actual="1600",
                weight=Decimal("10"),
                score=Decimal("10.00"),
            )
        ],
        line=2,
    )
    report = form_as_json(FormReport(form=data, result=evaluate(data), action="created"))
    report.pop("findings")
    assert list(report.items()) == [
        ("line", 2),
        ("year", 2021),
        ("project_name", "项目"),
        ("department", "部门"),
        ("implementing_unit", "单位"),
        (
            "funding",
            [{"kind": "total", "initial_budget": 70, "annual_budget": 70, "executed": 57.55}],
        ),
        ("execution_weight", 10),
        ("execution_score", 8.22),
        (
            "indicators",
            [
                {
                    "level1": "产出指标",
                    "level2": "数量指标",
                    "name": "户数",
                    "target": "=1600户",
                    "actual": "1600",
                    "weight": 10,
                    "score": 10,
                    "deviation": "",
                }
            ],
        ),
        ("stated_total", 18.22),
        ("computed_total", 18.22),
        ("action", "created"),
    ]


# --- the 38 sample forms ------------------------------------------------------------------


def test_every_sample_form_survives_the_models(sample_forms):
    for data in sample_forms:
        keyed = _with_keys(data)
        assert content(through_models(keyed)) == content(keyed), data.line


def test_every_sample_form_survives_the_edit_page(db, sample_forms):
    for data in sample_forms:
        keyed = _with_keys(through_models(_with_keys(data)))
        back = through_web_form(keyed)
        expected = content(keyed, drop=NOT_ENTERED)
        # The page leaves out a funding row with no amount at all (as it always has).
        expected["funding"] = [
            row
            for row in expected["funding"]
            if any(v is not None for k, v in row.items() if k != "kind")
        ]
        assert content(back, drop=NOT_ENTERED) == expected, data.line


def test_every_sample_form_survives_its_snapshot(sample_forms):
    for data in sample_forms:
        stored = through_models(_with_keys(data))
        snap = mapping.snapshot(stored, with_keys=True)
        assert mapping.snapshot(through_models(stored), with_keys=True) == snap
        assert [row["key"] for row in snap["indicators"]] == [i.key for i in stored.indicators]


# --- next year's copy ---------------------------------------------------------------------


def test_next_years_copy_keeps_targets_and_weights_and_blanks_the_results(db):
    data = distinct_form_data()
    copy = through_web_form(data, next_year=True)
    assert copy.year == data.year + 1
    for key in ("project_name", "implementing_unit", "goal_target", "execution_weight"):
        assert getattr(copy, key) == getattr(data, key), key
    assert copy.goal_actual == ""
    for new, old in zip(copy.funding, data.funding, strict=True):
        assert (new.kind, new.initial_budget, new.annual_budget) == (
            old.kind,
            old.initial_budget,
            old.annual_budget,
        )
        assert new.executed is None
    for new, old in zip(copy.indicators, data.indicators, strict=True):
        kept = ("level1", "level2", "name", "target", "weight")
        assert [getattr(new, k) for k in kept] == [getattr(old, k) for k in kept]
        assert (new.actual, new.score, new.deviation, new.key) == ("", None, "", "")


def test_the_initial_values_carry_the_revision_and_row_keys():
    data = distinct_form_data(rows=2)
    initial = mapping.initial_from_form_data(data, department_id=7, revision=3)
    assert initial["header"]["department"] == 7
    assert initial["header"]["revision"] == 3
    assert [row["key"] for row in initial["indicators"]] == [i.key for i in data.indicators]
    assert initial["funding"]["total"]["initial_budget"] == "13.125"
