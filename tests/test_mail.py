"""Mail through Django's SMTP backend and a real SMTP server on loopback (tests/smtp.py).

A mail that cannot be sent — a subject Django refuses, a server that refuses or is away —
never breaks the step that sent it, nor the after-commit work behind it (the approved
form's PDF); a reminder is recorded as mailed only when its mail went out.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from departments.models import Role
from evaluations.mail import mail_send
from evaluations.models import Evaluation, Status
from tests.conftest import client_for, make_user
from tests.smtp import closed_port, smtp_server
from tests.test_transitions import due_evaluation, require_sign_off

BROKEN_NAME = "城市道路\r\n维修项目\t二期"


@pytest.fixture
def queued_pdfs(monkeypatch) -> list[int]:
    """The evaluations whose PDF rendering was queued (the approval's after-commit hook)."""
    queued: list[int] = []
    monkeypatch.setattr(
        "exports.tasks.render_pdf", SimpleNamespace(enqueue=lambda pk: queued.append(pk))
    )
    return queued


@pytest.fixture
def people(dept_a):
    return {
        "staff": make_user("alice", Role.STAFF, dept_a, email="alice@example.com"),
        "head": make_user("hank", Role.HEAD, dept_a, email="hank@example.com"),
        "finance": make_user("fin", Role.FINANCE, None, email="fin@example.com"),
    }


@pytest.fixture
def broken(people, dept_a) -> Evaluation:
    """A form whose project name holds a line break and a tab (stored before names were
    single-line), on a campaign that requires the department's sign-off."""
    require_sign_off(2021)
    evaluation = due_evaluation(dept_a, people["staff"])
    Evaluation.objects.filter(pk=evaluation.pk).update(project_name=BROKEN_NAME)
    return evaluation


def _walk_to_approval(evaluation: Evaluation, people) -> list[str]:
    """Submit, sign off and approve through the pages; the state after each step."""
    pk = evaluation.pk
    steps = [
        (people["staff"], f"/evaluations/{pk}/submit/", {}),
        (people["head"], f"/evaluations/{pk}/sign-off/pass/", {}),
        (people["finance"], f"/review/{pk}/approve/", {"confirm": "1"}),
    ]
    states = []
    for user, url, data in steps:
        response = client_for(user).post(url, data)
        assert response.status_code == 302, url
        evaluation.refresh_from_db()
        states.append(evaluation.status)
    return states


FLOW = [Status.DEPARTMENT_REVIEW, Status.SUBMITTED, Status.APPROVED]


@pytest.mark.django_db(transaction=True)
def test_a_line_break_in_a_project_name_is_mailed_on_one_line(broken, people, queued_pdfs):
    with smtp_server() as server:
        assert _walk_to_approval(broken, people) == FLOW
    assert queued_pdfs == [broken.pk]
    subjects = {m["To"]: m["Subject"].strip() for m in server.messages}
    assert subjects == {
        "hank@example.com": "绩效自评表“城市道路 维修项目 二期”：提交部门审核",
        "fin@example.com": "绩效自评表“城市道路 维修项目 二期”：部门审核通过",
        "alice@example.com": "绩效自评表“城市道路 维修项目 二期”：审核通过",
    }


@pytest.mark.django_db(transaction=True)
def test_a_refusing_mail_server_breaks_no_step_and_the_pdf_is_still_queued(
    broken, people, queued_pdfs
):
    logged: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = logged.append  # type: ignore[method-assign]
    logger = logging.getLogger("evaluations.mail")
    logger.addHandler(handler)
    try:
        with smtp_server(refuse=True) as server:
            assert _walk_to_approval(broken, people) == FLOW
    finally:
        logger.removeHandler(handler)
    assert server.messages == []
    assert queued_pdfs == [broken.pk]
    # Each of the three mails is logged as failed, with the server's refusal.
    assert len(logged) == 3 and all(r.exc_info for r in logged)


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_mail_server_breaks_no_step(broken, people, queued_pdfs):
    with closed_port():
        assert _walk_to_approval(broken, people) == FLOW
    assert queued_pdfs == [broken.pk]


@pytest.mark.django_db(transaction=True)
def test_a_hook_that_raises_does_not_stop_the_hooks_after_it(broken, people, monkeypatch):
    """Each after-commit hook runs on its own: the PDF is queued although the mail raised."""
    queued: list[int] = []

    def explode(*args, **kwargs):
        raise RuntimeError("mail backend crashed")

    monkeypatch.setattr("evaluations.workflow.mail_send", explode)
    monkeypatch.setattr(
        "exports.tasks.render_pdf", SimpleNamespace(enqueue=lambda pk: queued.append(pk))
    )
    assert _walk_to_approval(broken, people) == FLOW
    assert queued == [broken.pk]


def test_mail_send_says_whether_the_mail_went_out(db):
    with smtp_server() as server:
        assert mail_send(subject="a\r\nb", body="x", recipients=["a@example.com"]) is True
    assert [m["Subject"].strip() for m in server.messages] == ["a b"]
    with smtp_server(refuse=True):
        assert mail_send(subject="a", body="x", recipients=["a@example.com"]) is False
    with closed_port():
        assert mail_send(subject="a", body="x", recipients=["a@example.com"]) is False
