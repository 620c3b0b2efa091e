"""Every URL of the application: anonymous users and other departments are refused.

The list of routes is read from the URL configuration, so a new view that is not
classified here makes the first test fail.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from evaluations.services import evaluation_submit
from tests.factories import make_evaluation

pytestmark = pytest.mark.django_db

PUBLIC = {"login", "healthz"}
# Routes about one evaluation: another department's staff get 404 on GET and POST.
EVALUATION_ROUTES = {
    "evaluations:detail",
    "evaluations:edit",
    "evaluations:submit",
    "evaluations:reopen",
    "evaluations:history",
    "evaluations:pdf",
    "evaluations:xlsx",
    "review:detail",
    "review:return",
    "review:approve",
}
# Routes whose content is scoped to the user's department (tested in their own modules).
SCOPED_ROUTES = {
    "home",
    "logout",
    "password_change",
    "password_change_done",
    "evaluations:list",
    "evaluations:new",
    "evaluations:score_preview",
    "evaluations:import",
    "evaluations:import_confirm",
    "evaluations:bulk_pdf",
    "evaluations:bulk_zip",
    "evaluations:bulk_xlsx",
    "review:queue",
    "dashboard:index",
    "dashboard:export",
}


def routes() -> list[tuple[str, str]]:
    """(route, name) of every non-admin URL pattern."""

    def walk(patterns, prefix="", namespace=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = p.namespace or namespace
                yield from walk(p.url_patterns, prefix + str(p.pattern), ns)
            elif isinstance(p, URLPattern):
                name = f"{namespace}:{p.name}" if namespace else (p.name or "")
                yield prefix + str(p.pattern), name

    return [(r, n) for r, n in walk(get_resolver().url_patterns) if not r.startswith("admin/")]


def url_of(route: str, pk: int) -> str:
    return "/" + route.replace("<int:pk>", str(pk))


def test_it_classifies_every_route():
    names = {name for _, name in routes()}
    assert names == PUBLIC | EVALUATION_ROUTES | SCOPED_ROUTES


@pytest.mark.parametrize("method", ["get", "post"])
def test_it_sends_anonymous_users_to_login_everywhere(method, dept_a, staff_a):
    evaluation = make_evaluation(dept_a, staff_a)
    client = Client()
    for route, name in routes():
        if name in PUBLIC:
            continue
        response = getattr(client, method)(url_of(route, evaluation.pk))
        assert response.status_code == 302, (name, response.status_code)
        assert response["Location"].startswith("/accounts/login/"), name


@pytest.mark.parametrize("method", ["get", "post"])
def test_it_answers_404_to_another_department_on_every_form_route(
    method, dept_a, staff_a, client_b
):
    evaluation = make_evaluation(dept_a, staff_a)
    evaluation_submit(evaluation=evaluation, user=staff_a)
    for route, name in routes():
        if name not in EVALUATION_ROUTES:
            continue
        response = getattr(client_b, method)(url_of(route, evaluation.pk), {"reason": "x"})
        assert response.status_code in (404, 405), (name, response.status_code)
        if method == "get" and name not in {"review:return", "review:approve"}:
            assert response.status_code == 404, name
    evaluation.refresh_from_db()
    assert evaluation.status == "submitted"
    assert evaluation.events.count() == 2  # created, submitted: nothing else happened
