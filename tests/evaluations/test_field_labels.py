"""Labels once: the models, the edit page and the due list name a field from the catalogue.

``evaluations/core/fields.py`` holds each field's label; a model or a Django form that
shows the same field takes that label object, so changing the catalogue changes them all.
"""

from __future__ import annotations

import pytest

from campaigns.models import DueProject, DueTarget
from evaluations.core.fields import FUNDING, HEADER, INDICATOR
from evaluations.forms.entry import EvaluationHeaderForm, FundingForm, IndicatorForm
from evaluations.models import Evaluation, FundingRow, Indicator

MODEL_FIELDS = [
    (Evaluation, "year", HEADER["year"]),
    (Evaluation, "department", HEADER["department"]),
    (Evaluation, "project_name", HEADER["project_name"]),
    (Evaluation, "implementing_unit", HEADER["implementing_unit"]),
    (Evaluation, "goal_target", HEADER["goal_target"]),
    (Evaluation, "goal_actual", HEADER["goal_actual"]),
    (Evaluation, "execution_weight", HEADER["execution_weight"]),
    (Evaluation, "unit_head", HEADER["unit_head"]),
    (Evaluation, "filler_name", HEADER["filler_name"]),
    (Evaluation, "filler_phone", HEADER["filler_phone"]),
    (FundingRow, "initial_budget", FUNDING["initial_budget"]),
    (FundingRow, "annual_budget", FUNDING["annual_budget"]),
    (FundingRow, "executed", FUNDING["executed"]),
    *((Indicator, f.model_name, f) for f in INDICATOR.values()),
    (DueProject, "project_name", HEADER["project_name"]),
    (DueProject, "implementing_unit", HEADER["implementing_unit"]),
    (DueProject, "initial_budget", FUNDING["initial_budget"]),
    (DueProject, "annual_budget", FUNDING["annual_budget"]),
    (DueTarget, "level1", INDICATOR["level1"]),
    (DueTarget, "name", INDICATOR["name"]),
    (DueTarget, "target", INDICATOR["target"]),
    (DueTarget, "weight", INDICATOR["weight"]),
]

FORM_FIELDS = [
    *((EvaluationHeaderForm, key, HEADER[key]) for key in ("year", "project_name", "department")),
    *((EvaluationHeaderForm, key, HEADER[key]) for key in ("unit_head", "filler_phone")),
    *((FundingForm, f.key, f) for f in FUNDING.values()),
    *((IndicatorForm, key, INDICATOR[key]) for key in ("level1", "name", "weight", "deviation")),
]


@pytest.mark.parametrize(("model", "name", "field"), MODEL_FIELDS)
def test_a_model_field_takes_its_label_from_the_catalogue(model, name, field):
    assert model._meta.get_field(name).verbose_name is field.label


@pytest.mark.parametrize(("form", "name", "field"), FORM_FIELDS)
def test_a_field_of_the_edit_page_takes_its_label_from_the_catalogue(form, name, field):
    assert form.base_fields[name].label is field.label
