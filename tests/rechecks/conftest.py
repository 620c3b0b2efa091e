from __future__ import annotations

import pytest

from tests.rechecks.national import national_rule_set


@pytest.fixture(autouse=True)
def _national_rules(request) -> None:
    """Every re-check test with a database starts with the national rules, as migrated."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        return
    transactional = marker.kwargs.get("transaction", False)
    request.getfixturevalue("transactional_db" if transactional else "db")
    national_rule_set()
