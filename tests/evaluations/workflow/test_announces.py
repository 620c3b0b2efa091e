"""The workflow announces each step after commit; the layers above it subscribe.

The form's workflow imports nothing above the form: an approval's PDF is queued by the
exports app, which subscribes to ``evaluations.signals.evaluation_transitioned``.
"""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import transaction

from evaluations.models import EventAction, Status
from evaluations.signals import evaluation_transitioned
from evaluations.workflow import evaluation_approve, evaluation_submit
from tests.conftest import PROJECT_DIR
from tests.factories import make_evaluation

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    """What the workflow announced: (evaluation id, action, from, to) per step."""
    steps: list[tuple[int, str, str, str]] = []

    def listen(sender, *, evaluation_id, action, from_status, to_status, **kwargs):
        steps.append((evaluation_id, action, from_status, to_status))

    evaluation_transitioned.connect(listen, dispatch_uid="test-listen")
    yield steps
    evaluation_transitioned.disconnect(dispatch_uid="test-listen")


@pytest.fixture
def queued_pdfs(monkeypatch) -> list[int]:
    """The evaluations whose PDF render the exports app queued."""
    queued: list[int] = []
    monkeypatch.setattr(
        "exports.tasks.render_pdf", SimpleNamespace(enqueue=lambda pk: queued.append(pk))
    )
    return queued


def test_a_step_is_announced_once_its_transaction_has_committed(
    dept_a, staff_a, finance, heard, django_capture_on_commit_callbacks
):
    evaluation = make_evaluation(dept_a, staff_a)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert evaluation_submit(evaluation=evaluation, user=staff_a)
    assert heard == []  # not before the commit
    for callback in callbacks:
        callback()
    assert heard == [(evaluation.pk, EventAction.SUBMITTED, Status.DRAFT, Status.SUBMITTED)]


def test_a_step_rolled_back_announces_nothing(
    dept_a, staff_a, heard, django_capture_on_commit_callbacks
):
    evaluation = make_evaluation(dept_a, staff_a)
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            evaluation_submit(evaluation=evaluation, user=staff_a)
            raise RuntimeError("the caller's transaction fails after the step")
    assert heard == []
    evaluation.refresh_from_db()
    assert evaluation.status == Status.DRAFT


def test_the_exports_app_queues_the_pdf_of_an_approved_form_only(
    dept_a, staff_a, finance, queued_pdfs, django_capture_on_commit_callbacks
):
    evaluation = make_evaluation(dept_a, staff_a)
    with django_capture_on_commit_callbacks(execute=True):
        evaluation_submit(evaluation=evaluation, user=staff_a)
    assert queued_pdfs == []
    with django_capture_on_commit_callbacks(execute=True):
        evaluation_approve(evaluation=evaluation, user=finance)
    assert queued_pdfs == [evaluation.pk]


def test_a_failing_subscriber_neither_undoes_the_approval_nor_stops_the_render(
    dept_a, staff_a, finance, queued_pdfs, django_capture_on_commit_callbacks
):
    evaluation = make_evaluation(dept_a, staff_a)
    evaluation_submit(evaluation=evaluation, user=staff_a)

    def broken(sender, **kwargs):
        raise ConnectionError("a subscriber's service is down")

    evaluation_transitioned.connect(broken, dispatch_uid="test-broken")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert evaluation_approve(evaluation=evaluation, user=finance)
    finally:
        evaluation_transitioned.disconnect(dispatch_uid="test-broken")
    evaluation.refresh_from_db()
    assert evaluation.status == Status.APPROVED
    assert queued_pdfs == [evaluation.pk]


def _imported(path: Path) -> set[str]:
    """Every module a file imports, at its top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_workflow_and_the_reads_point_down():
    """The workflow imports no exports; services does not re-export it; a re-check read
    calls no re-check write."""
    workflow = _imported(PROJECT_DIR / "evaluations" / "workflow.py")
    assert not {name for name in workflow if name.split(".")[0] == "exports"}
    assert "evaluations.workflow" not in _imported(PROJECT_DIR / "evaluations" / "services.py")
    assert "rechecks.services" not in _imported(PROJECT_DIR / "rechecks" / "selectors.py")
