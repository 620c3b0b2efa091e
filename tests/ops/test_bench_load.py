"""The load benchmark's seeding writes forms the application itself would have stored."""

from __future__ import annotations

from collections import Counter

import pytest
from django.test import Client

from evaluations.core.scoring import evaluate
from evaluations.mapping import snapshot
from evaluations.models import Evaluation, Indicator, Status
from evaluations.rules import current_rules
from scripts.bench_load import PASSWORD, YEARS, seed


@pytest.mark.django_db
def test_seeded_forms_match_what_the_application_stores() -> None:
    plan, figures = seed(120, 3)

    assert Evaluation.objects.count() == 120
    assert figures["rows"]["evaluations_evaluation"] == 120
    # 12 indicator rows, 40 for one form in twenty.
    rows = Counter(Indicator.objects.values_list("evaluation_id", flat=True))
    assert Counter(rows.values()) == {12: 114, 40: 6}
    assert set(Evaluation.objects.values_list("year", flat=True)) == set(YEARS)
    for evaluation in Evaluation.objects.filter(pk__in=[1, 2, 21, 120]):
        data = evaluation.as_form_data()
        # The version snapshot is the stored form, keys included.
        assert evaluation.versions.get().data == snapshot(data, with_keys=True)
        result = evaluate(data, current_rules())
        assert evaluation.computed_total == result.computed_total
        assert evaluation.error_count == len(result.errors)
    # The plan: one user per department, every form once, the editable ones editable.
    assert sum(len(p["all"]) for p in plan.values()) == 120
    editable = [pk for p in plan.values() for pk in p["editable"]]
    assert set(Evaluation.objects.filter(pk__in=editable).values_list("status", flat=True)) <= {
        Status.DRAFT,
        Status.RETURNED,
    }
    # A new form after the seeded ones gets a fresh primary key.
    assert (
        Evaluation.objects.create(
            year=2024, department_id=plan["bench01"]["department"], project_name="新项目"
        ).pk
        == 121
    )


@pytest.mark.django_db
def test_a_seeded_user_signs_in_and_opens_a_seeded_form() -> None:
    plan, _figures = seed(30, 2)
    client = Client()
    response = client.post("/accounts/login/", {"username": "bench02", "password": PASSWORD})
    assert response.status_code == 302
    pk = plan["bench02"]["editable"][0]
    assert client.get(f"/evaluations/{pk}/").status_code == 200
    assert client.get(f"/evaluations/{pk}/edit/").status_code == 200
    other = plan["bench01"]["all"][0]
    assert client.get(f"/evaluations/{other}/").status_code == 404
