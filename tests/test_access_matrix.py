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


# --- the matrix: every route, every role, GET and POST ---------------------------------------
#
# One submitted form of department A (2021). "owner" is department A's staff, "outsider"
# department B's staff, "admin" a superuser without membership: the administrator, who
# reads every department and reopens approved forms, but does not write or review
# (evaluations/permissions.py). Each cell is (GET status, POST status), each on a fresh
# form and a fresh client, so no request depends on another.

ROLES = {"owner": "staff_a", "outsider": "staff_b", "finance": "finance", "admin": "admin_user"}


def every(get: int, post: int) -> dict[str, tuple[int, int]]:
    return dict.fromkeys(ROLES, (get, post))


def cells(
    owner: tuple[int, int], outsider: tuple[int, int], finance: tuple[int, int], admin
) -> dict[str, tuple[int, int]]:
    return {"owner": owner, "outsider": outsider, "finance": finance, "admin": admin}


EXPECTED: dict[str, dict[str, tuple[int, int]]] = {
    "home": every(302, 302),
    "login": every(200, 200),
    "healthz": every(200, 405),
    "logout": every(405, 302),
    "password_change": every(200, 200),
    "password_change_done": every(200, 405),
    "evaluations:list": every(200, 405),
    # Writing forms: staff and finance (an invalid POST re-renders the page); not the admin.
    "evaluations:new": cells((200, 200), (200, 200), (200, 200), (403, 403)),
    "evaluations:score_preview": cells((405, 200), (405, 200), (405, 200), (405, 403)),
    "evaluations:import": cells((200, 200), (200, 200), (200, 200), (403, 403)),
    "evaluations:import_confirm": cells((405, 302), (405, 302), (405, 302), (405, 403)),
    # One form: invisible to the outsider; the admin reads it.
    "evaluations:detail": cells((200, 405), (404, 405), (200, 405), (200, 405)),
    "evaluations:history": cells((200, 200), (404, 404), (200, 200), (200, 200)),
    "evaluations:pdf": cells((200, 405), (404, 405), (200, 405), (200, 405)),
    "evaluations:xlsx": cells((200, 405), (404, 405), (200, 405), (200, 405)),
    # A submitted form is locked: the editors are sent to the detail page; the admin may not.
    "evaluations:edit": cells((302, 302), (404, 404), (302, 302), (403, 403)),
    # Submitting is the department's: the page does not exist for anyone else. (The
    # owner's POST is a harmless repeat: the form is submitted already.)
    "evaluations:submit": cells((200, 302), (404, 404), (404, 404), (404, 404)),
    # Reopening is the admin's; this form is not approved, so the POST is refused (400).
    "evaluations:reopen": cells((404, 404), (404, 404), (404, 404), (200, 400)),
    # Bulk downloads of 2021: the outsider's department has none (404).
    "evaluations:bulk_pdf": cells((200, 405), (404, 405), (200, 405), (200, 405)),
    "evaluations:bulk_zip": cells((200, 405), (404, 405), (200, 405), (200, 405)),
    "evaluations:bulk_xlsx": cells((200, 405), (404, 405), (200, 405), (200, 405)),
    # Finance only; 404 for everyone else, the admin included.
    "review:queue": cells((404, 404), (404, 404), (200, 200), (404, 404)),
    "review:detail": cells((404, 404), (404, 404), (200, 200), (404, 404)),
    "review:return": cells((405, 404), (405, 404), (405, 302), (405, 404)),
    "review:approve": cells((405, 404), (405, 404), (405, 302), (405, 404)),
    "dashboard:index": every(200, 405),
    "dashboard:export": every(200, 405),
}
# Query strings some routes need to answer at all.
PARAMS = {name: {"year": "2021"} for name in EXPECTED if name.startswith("evaluations:bulk_")}


def test_it_has_an_expectation_for_every_route_and_role():
    assert set(EXPECTED) == {name for _, name in routes()}
    assert all(set(by_role) == set(ROLES) for by_role in EXPECTED.values())


# POSTs that may change a form get a fresh one; every other request shares one form.
CHANGING = {
    "evaluations:edit",
    "evaluations:submit",
    "evaluations:reopen",
    "review:return",
    "review:approve",
}


@pytest.mark.parametrize("role", list(ROLES))
def test_it_answers_each_role_as_the_matrix_says(role, request, dept_a, staff_a, staff_b):
    user = request.getfixturevalue(ROLES[role])
    shared = make_evaluation(dept_a, staff_a, project_name="共用的表")
    evaluation_submit(evaluation=shared, user=staff_a)
    failures = []
    for route, name in routes():
        for method, expected in zip(("get", "post"), EXPECTED[name][role], strict=True):
            evaluation = shared
            if method == "post" and name in CHANGING:
                evaluation = make_evaluation(dept_a, staff_a, project_name=name)
                evaluation_submit(evaluation=evaluation, user=staff_a)
            client = Client()
            client.force_login(user)
            data = PARAMS.get(name, {}) if method == "get" else {"reason": "矩阵测试"}
            response = getattr(client, method)(url_of(route, evaluation.pk), data)
            if response.status_code != expected:
                failures.append((name, method, expected, response.status_code))
    assert failures == []
