"""The direction of the code: every module has its layer, plumbing and models point down only.

The layers themselves are checked by ``lint-imports`` (``make lint``); these tests keep the
contract whole (a new module must be given a layer) and the cycles it cannot see gone.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.import_graph import measure

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture(scope="module")
def figures():
    return measure(ROOT)


def test_every_module_of_the_application_is_in_a_layer_of_the_contract(figures):
    assert figures.unplaced == []


def test_plumbing_imports_no_project_code(figures):
    upward = {
        f"{module} -> {imported}"
        for module, imported_modules in figures.edges.items()
        if module.split(".")[0] == "common"
        for imported in imported_modules
        if imported.split(".")[0] != "common"
    }
    assert upward == set()


@pytest.mark.parametrize(
    "module",
    [
        "evaluations.models",
        "evaluations.mapping",
        "campaigns.models",
        "departments.access",
        "evaluations.permissions",
    ],
)
def test_the_models_and_the_roles_are_in_no_import_cycle(figures, module):
    assert [cycle for cycle in figures.cycles if module in cycle] == []


def test_departments_import_nothing_of_the_apps_built_on_them(figures):
    upward = {
        f"{module} -> {imported}"
        for module, imported_modules in figures.edges.items()
        if module in ("departments.models", "departments.roles", "departments.access")
        for imported in imported_modules
        if imported.split(".")[0] not in ("departments", "common")
        and not imported.startswith("evaluations.core")
    }
    assert upward == set()
