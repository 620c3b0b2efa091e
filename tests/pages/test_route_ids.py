"""Ids beyond what the database holds: every route answers 404 (or 403/405/302), never 500.

The routes are read from the URL configuration (as tests/pages/test_access_matrix.py does), so a
route added later is crawled too. Each id parameter of a route, and each id in a query
string, gets a number the database's 64-bit integers cannot hold.
"""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import IntConverter
from django.urls.resolvers import RoutePattern

from tests.conftest import client_for
from tests.factories import make_evaluation

pytestmark = pytest.mark.django_db

HUGE = (2**63, 2**64, 10**30)
# Every parameter of a route stands for a number (an id or a year), except these, which
# name a thing by text.
TEXT_PARAMETERS = {"url"}
# Query-string ids and numbers the views read (through evaluations/forms/workflow.py).
QUERY_NAMES = ("pk", "id", "year", "department", "page", "copy_from", "evaluation", "due")
PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def patterns() -> list[tuple[str, URLPattern]]:
    """(route, pattern) of every URL pattern, the admin's included."""

    def walk(items, prefix=""):
        for p in items:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                yield prefix + str(p.pattern), p

    return list(walk(get_resolver().url_patterns))


def urls_with(number: int) -> list[str]:
    """Every route with ``number`` for each of its parameters; each other route once."""
    urls = []
    for route, pattern in patterns():
        if not isinstance(pattern.pattern, RoutePattern) or "^" in route:
            continue  # the admin's app index and catch-all: no id in them
        names = [m["name"] for m in PARAMETER.finditer(route)]
        if any(name in TEXT_PARAMETERS for name in names) or pattern.name == "logout":
            continue  # signing out would leave the rest of the crawl signed out
        urls.append("/" + PARAMETER.sub(str(number), route))
    return urls


def query_with(number: int) -> str:
    return "&".join(f"{name}={number}" for name in QUERY_NAMES)


@pytest.mark.slow
@pytest.mark.parametrize("role", ["finance", "staff_a", "admin_user"])
def test_no_route_answers_500_to_an_id_beyond_the_database(role, request, dept_a, staff_a):
    # One form, so the pages of a real form exist beside the huge ids.
    make_evaluation(dept_a, staff_a)
    client = client_for(request.getfixturevalue(role))
    client.raise_request_exception = False
    failures = []
    for number in HUGE:
        for url in urls_with(number):
            for method in ("get", "post"):
                response = getattr(client, method)(f"{url}?{query_with(number)}")
                # 503 is the monitoring endpoints' answer when a worker or disk is missing.
                if response.status_code >= 500 and not (
                    response.status_code == 503 and url.startswith("/healthz")
                ):
                    failures.append((method.upper(), url, response.status_code))
    assert failures == []


def test_every_route_reads_its_ids_with_the_bounded_converter():
    # Django's <int:...> lets any number of digits through to the database (OverflowError).
    unbounded = [
        route
        for route, pattern in patterns()
        if isinstance(pattern.pattern, RoutePattern)
        and any(type(c) is IntConverter for c in pattern.pattern.converters.values())
    ]
    assert unbounded == []
