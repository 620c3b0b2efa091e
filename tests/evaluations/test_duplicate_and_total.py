"""A duplicate project name links to the existing form; an imported form's missing total
can be resolved on the edit page with "采用系统计算的总分" (recorded in the history)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from evaluations import permissions
from evaluations.models import Evaluation, EvaluationEvent, Status
from tests.evaluations.test_evaluation_pages import post_data
from tests.factories import clean_form_data, make_evaluation

pytestmark = pytest.mark.django_db

D = Decimal


def edit_body(evaluation: Evaluation, **extra) -> dict[str, str]:
    """The edit page's POST for a stored form as it stands (rows keep their keys)."""
    data = evaluation.as_form_data()
    body = post_data(data, revision=evaluation.revision, **extra)
    for i, row in enumerate(data.indicators):
        body[f"ind-{i}-key"] = row.key
    return body


# --- duplicate project names ---------------------------------------------------------------


def test_it_links_a_new_duplicate_to_the_existing_form(client_a, dept_a, staff_a):
    existing = make_evaluation(dept_a, staff_a)
    body = post_data(clean_form_data(project_name=existing.project_name))
    response = client_a.post("/evaluations/new/", body)
    page = response.content.decode()
    assert response.status_code == 200
    assert Evaluation.objects.count() == 1
    assert "该部门在该年度已有同名项目的自评表" in page
    assert 'id="duplicate-link"' in page
    assert f'href="/evaluations/{existing.pk}/"' in page
    assert f'href="/evaluations/{existing.pk}/edit/"' in page  # a draft its staff may edit
    assert f"《{existing.project_name}》（2021年度，草稿）" in page
    # What was typed stays.
    assert f'value="{existing.project_name}"' in page


def test_it_links_a_renamed_form_to_the_form_it_would_duplicate(client_a, dept_a, staff_a):
    existing = make_evaluation(dept_a, staff_a)
    other = make_evaluation(dept_a, staff_a, project_name="另一个项目")
    body = edit_body(other)
    body["project_name"] = existing.project_name
    page = client_a.post(f"/evaluations/{other.pk}/edit/", body).content.decode()
    other.refresh_from_db()
    assert other.project_name == "另一个项目"
    assert f'href="/evaluations/{existing.pk}/"' in page
    assert f'href="/evaluations/{other.pk}/"' in page  # the breadcrumb of the page itself
    assert 'id="duplicate-link"' in page


def test_it_offers_no_edit_link_to_a_form_that_is_not_editable(client_a, dept_a, staff_a):
    existing = make_evaluation(dept_a, staff_a)
    Evaluation.objects.filter(pk=existing.pk).update(status=Status.SUBMITTED)
    body = post_data(clean_form_data(project_name=existing.project_name))
    page = client_a.post("/evaluations/new/", body).content.decode()
    assert f'href="/evaluations/{existing.pk}/"' in page
    assert f'href="/evaluations/{existing.pk}/edit/"' not in page


def test_finance_gets_the_link_for_the_department_it_chose(client_finance, dept_a, dept_b, staff_a):
    existing = make_evaluation(dept_a, staff_a)
    make_evaluation(dept_b, None, project_name=existing.project_name)  # same name elsewhere
    body = post_data(clean_form_data(project_name=existing.project_name), department=dept_a.pk)
    page = client_finance.post("/evaluations/new/", body).content.decode()
    assert "已有同名项目" in page
    assert f'href="/evaluations/{existing.pk}/"' in page


def test_it_hides_the_link_from_a_user_who_may_not_see_the_form(
    client_a, dept_a, staff_a, monkeypatch
):
    existing = make_evaluation(dept_a, staff_a)
    allowed = permissions.allowed

    def not_viewable(name, user, obj=None):
        # As if the existing form were out of the user's sight (another scope, a rule change).
        if name == permissions.VIEW and obj is not None and obj.pk == existing.pk:
            return False
        return allowed(name, user, obj)

    monkeypatch.setattr(permissions, "allowed", not_viewable)
    body = post_data(clean_form_data(project_name=existing.project_name))
    page = client_a.post("/evaluations/new/", body).content.decode()
    assert "已有同名项目" in page  # the refusal itself stays
    assert 'id="duplicate-link"' not in page
    assert f"/evaluations/{existing.pk}/" not in page


# --- 采用系统计算的总分 ----------------------------------------------------------------------


@pytest.fixture
def imported(dept_a, staff_a) -> Evaluation:
    """A form as imported from a file whose 总分 cell was blank (TOTAL_MISSING)."""
    return make_evaluation(dept_a, staff_a, stated_total=None, project_name="导入的表")


def test_the_edit_page_offers_the_computed_total_for_a_missing_one(client_a, imported):
    assert imported.stated_total is None
    page = client_a.get(f"/evaluations/{imported.pk}/edit/").content.decode()
    assert "未填写总分" in page  # the finding
    assert "表中总分：未填写" in page
    assert 'name="adopt_total"' in page
    assert "采用系统计算的总分" in page


def test_the_edit_page_offers_nothing_when_the_total_is_right(client_a, dept_a, staff_a):
    evaluation = make_evaluation(dept_a, staff_a)
    page = client_a.get(f"/evaluations/{evaluation.pk}/edit/").content.decode()
    assert 'name="adopt_total"' not in page


def test_adopting_the_computed_total_stores_it_and_records_it(client_a, staff_a, imported):
    before = EvaluationEvent.objects.filter(evaluation=imported).count()
    response = client_a.post(
        f"/evaluations/{imported.pk}/edit/", edit_body(imported, adopt_total="1"), follow=True
    )
    imported.refresh_from_db()
    assert imported.stated_total == imported.computed_total == D("100.00")
    assert imported.error_count == 0
    assert imported.revision == 2
    events = EvaluationEvent.objects.filter(evaluation=imported).order_by("pk")
    assert events.count() == before + 1
    event = events.last()
    assert event.actor == staff_a
    assert {"section": "header", "field": "stated_total", "old": None, "new": "100"} in (
        event.changes
    )
    page = response.content.decode()
    assert "已采用系统计算的总分 100.00" in page
    assert 'name="adopt_total"' not in page  # resolved


def test_adopting_keeps_what_was_typed_on_the_page(client_a, imported):
    body = edit_body(imported, adopt_total="1")
    body["ind-0-score"] = "9"
    body["ind-0-deviation"] = "少数农户未改造。"
    client_a.post(f"/evaluations/{imported.pk}/edit/", body)
    imported.refresh_from_db()
    assert imported.indicators.get(position=1).score == D(9)
    assert imported.stated_total == D("99.00")


def test_adopting_is_refused_like_any_edit_for_another_department(client_b, imported):
    response = client_b.post(
        f"/evaluations/{imported.pk}/edit/", edit_body(imported, adopt_total="1")
    )
    assert response.status_code == 404
    imported.refresh_from_db()
    assert imported.stated_total is None


def test_adopting_is_refused_once_submitted(client_a, imported):
    Evaluation.objects.filter(pk=imported.pk).update(status=Status.SUBMITTED)
    client_a.post(f"/evaluations/{imported.pk}/edit/", edit_body(imported, adopt_total="1"))
    imported.refresh_from_db()
    assert imported.stated_total is None
