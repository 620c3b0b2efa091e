"""What the entry and detail pages cost to render: each input written once, rows read once."""

from __future__ import annotations

import pytest
from django.db import connection, models
from django.test.utils import CaptureQueriesContext

from evaluations.models import Evaluation, Status
from evidence.forms import upload_formset
from tests.factories import make_evaluation

pytestmark = pytest.mark.django_db

WIDGET_TEMPLATES = {
    "django/forms/widgets/text.html",
    "django/forms/widgets/textarea.html",
    "django/forms/widgets/select.html",
    "django/forms/widgets/select_option.html",
    "django/forms/widgets/hidden.html",
}


def test_the_edit_page_writes_its_inputs_without_a_template_each(client_a, dept_a, staff_a):
    evaluation = make_evaluation(dept_a, staff_a)
    response = client_a.get(f"/evaluations/{evaluation.pk}/edit/")
    assert response.status_code == 200
    rendered = {t.name for t in response.templates}
    assert not rendered & WIDGET_TEMPLATES
    # The inputs are there all the same, with their ids and labels' targets.
    html = response.content.decode()
    assert 'name="project_name"' in html
    assert '<select name="ind-0-level1"' in html
    assert '<textarea name="ind-0-name"' in html


def test_the_evidence_upload_slots_read_the_form_s_rows_once(dept_a, staff_a):
    evaluation = make_evaluation(dept_a, staff_a)
    with CaptureQueriesContext(connection) as queries:
        formset = upload_formset(evaluation)
        choices = [form.fields["row"].choices for form in formset.forms]
    assert len(formset.forms) == 3
    assert choices[0] == choices[1] == choices[2]
    assert len(choices[0]) == 2 + evaluation.indicators.count()
    assert len(queries) == 1


@pytest.mark.parametrize("status", [*Status.values, "unknown"])
def test_a_status_label_is_django_s_own(status):
    evaluation = Evaluation(status=status)
    field = Evaluation._meta.get_field("status")
    assert evaluation.get_status_display() == models.Model._get_FIELD_display(evaluation, field)
