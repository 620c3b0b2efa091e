"""The operator's documents name tests that exist: a renamed test cannot leave them stale."""

from __future__ import annotations

import re

from tests.conftest import PROJECT_DIR


def test_it_names_only_tests_that_exist_in_the_security_document():
    text = (PROJECT_DIR / "docs" / "security.md").read_text(encoding="utf-8")
    defined = set()
    for path in (PROJECT_DIR / "tests").glob("test_*.py"):
        defined |= set(re.findall(r"^def (test_\w+)", path.read_text(encoding="utf-8"), re.M))
    named = set(re.findall(r"::(test_\w+)", text))
    # "::…_on_create" abbreviates a name given in full just before it.
    assert len(named) > 60
    assert sorted(named - defined) == []


def test_it_names_only_tests_that_exist_in_the_accessibility_document():
    text = (PROJECT_DIR / "docs" / "accessibility.md").read_text(encoding="utf-8")
    named = re.findall(r"`tests/(test_\w+)\.py::(test_\w+)`", text)
    assert len(named) >= 10
    for module, name in named:
        source = (PROJECT_DIR / "tests" / f"{module}.py").read_text(encoding="utf-8")
        assert re.search(rf"^def {name}\(", source, re.M), (module, name)
