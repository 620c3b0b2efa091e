"""Mail through Django's SMTP backend and a real SMTP server on loopback (tests/smtp.py).

A step stores its mail (``OutgoingMail``) and the task worker sends it: no request waits on
a mail server, even one that never answers. A mail that cannot be sent — a server that
refuses or is away — never breaks the step, nor the after-commit work behind it (the
approved form's PDF); it is recorded as failed with the reason, retried with backoff, and
listed for finance on /mail/, where it can be queued again.
"""

from __future__ import annotations

import datetime
import time
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.utils import timezone

from departments.models import Role
from evaluations.mail import BACKOFF, MAX_ATTEMPTS, mail_deliver, mail_queue
from evaluations.models import Evaluation, MailStatus, OutgoingMail, Status
from tests.conftest import client_for, make_user
from tests.evaluations.workflow.test_transitions import due_evaluation, require_sign_off
from tests.smtp import black_hole, closed_port, smtp_server
from tests.tasks_helpers import run_worker

BROKEN_NAME = "城市道路\r\n维修项目\t二期"


@pytest.fixture
def queued_pdfs(monkeypatch) -> list[int]:
    """The evaluations whose PDF rendering was queued (the exports app, told of the approval)."""
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
SUBJECTS = {
    "hank@example.com": "绩效自评表“城市道路 维修项目 二期”：提交部门审核",
    "fin@example.com": "绩效自评表“城市道路 维修项目 二期”：部门审核通过",
    "alice@example.com": "绩效自评表“城市道路 维修项目 二期”：审核通过",
}


def _due_now() -> None:
    """Let the backoff pass: every failed mail's next attempt is now."""
    OutgoingMail.objects.filter(next_attempt_at__isnull=False).update(
        next_attempt_at=timezone.now() - datetime.timedelta(seconds=1)
    )


@pytest.mark.django_db(transaction=True)
def test_a_submit_returns_at_once_while_the_mail_server_never_answers(broken, people):
    """The mail is queued, not sent in the request: the relay's 30 s wait is the worker's."""
    with black_hole(timeout=30):
        started = time.monotonic()
        response = client_for(people["staff"]).post(f"/evaluations/{broken.pk}/submit/")
        elapsed = time.monotonic() - started
    assert response.status_code == 302
    broken.refresh_from_db()
    assert broken.status == Status.DEPARTMENT_REVIEW
    # Sending in the request would have waited the full 30 s timeout on the silent server.
    assert elapsed < 30
    [queued] = OutgoingMail.objects.all()
    assert (queued.status, queued.recipients, queued.attempts) == (
        MailStatus.QUEUED,
        ["hank@example.com"],
        0,
    )


@pytest.mark.jobs
@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_the_queued_mail_on_one_line(broken, people, queued_pdfs):
    with smtp_server() as server:
        assert _walk_to_approval(broken, people) == FLOW
        assert server.messages == []  # nothing was sent in a request
        run_worker()
    assert queued_pdfs == [broken.pk]
    assert {m["To"]: m["Subject"].strip() for m in server.messages} == SUBJECTS
    assert set(OutgoingMail.objects.values_list("status", "attempts")) == {(MailStatus.SENT, 1)}


@pytest.mark.jobs
@pytest.mark.django_db(transaction=True)
def test_a_refused_mail_is_failed_with_the_reason_and_retried_later(broken, people, queued_pdfs):
    with smtp_server(refuse=True) as server:
        assert _walk_to_approval(broken, people) == FLOW
        run_worker()
    assert server.messages == []
    assert queued_pdfs == [broken.pk]
    mails = list(OutgoingMail.objects.all())
    assert len(mails) == 3
    for m in mails:
        assert (m.status, m.attempts) == (MailStatus.FAILED, 1)
        assert (
            m.last_error.startswith("邮件服务器拒收：")
            and "554 5.7.1 Relay refused" in m.last_error
        )
        # Retried after the first backoff, not before.
        assert m.next_attempt_at > timezone.now() + BACKOFF[0] - datetime.timedelta(seconds=30)
    with smtp_server() as server:
        call_command("send_queued_mail", stdout=StringIO())  # not due yet: nothing is sent
        assert server.messages == []
        _due_now()
        out = StringIO()
        call_command("send_queued_mail", stdout=out)
    assert "已发送 3 封邮件" in out.getvalue()
    assert {m["To"]: m["Subject"].strip() for m in server.messages} == SUBJECTS
    assert set(OutgoingMail.objects.values_list("status", "attempts")) == {(MailStatus.SENT, 2)}


@pytest.mark.jobs
@pytest.mark.django_db(transaction=True)
def test_an_unreachable_mail_server_breaks_no_step(broken, people, queued_pdfs):
    with closed_port():
        assert _walk_to_approval(broken, people) == FLOW
        run_worker()
    assert queued_pdfs == [broken.pk]
    reasons = set(OutgoingMail.objects.values_list("status", "last_error"))
    assert len(reasons) == 1
    [(status, reason)] = reasons
    assert status == MailStatus.FAILED and reason.startswith("无法连接邮件服务器：")


@pytest.mark.django_db(transaction=True)
def test_a_task_queue_that_fails_breaks_no_step_and_the_sweep_sends_the_mail(
    broken, people, monkeypatch
):
    """Queueing after commit never raises into the request; ``send_queued_mail`` sends."""
    queued: list[int] = []

    def explode(*args, **kwargs):
        raise ConnectionError("queue is down")

    monkeypatch.setattr("evaluations.mail.deliver_mail", SimpleNamespace(enqueue=explode))
    monkeypatch.setattr(
        "exports.tasks.render_pdf", SimpleNamespace(enqueue=lambda pk: queued.append(pk))
    )
    assert _walk_to_approval(broken, people) == FLOW
    assert queued == [broken.pk]
    assert set(OutgoingMail.objects.values_list("status", flat=True)) == {MailStatus.QUEUED}
    with smtp_server() as server:
        call_command("send_queued_mail", stdout=StringIO())
    assert {m["To"]: m["Subject"].strip() for m in server.messages} == SUBJECTS


@pytest.mark.django_db(transaction=True)
def test_a_mail_is_given_up_after_its_last_attempt_and_sent_once(monkeypatch):
    monkeypatch.setattr("evaluations.mail._enqueue", lambda *a, **k: None)
    queued = mail_queue(subject="a\r\nb", body="x", recipients=["a@example.com"])
    assert queued.subject == "a b"
    with smtp_server(refuse=True):
        for attempt in range(1, MAX_ATTEMPTS + 1):
            assert mail_deliver(queued.pk) == MailStatus.FAILED
            queued.refresh_from_db()
            assert queued.attempts == attempt
            if attempt < MAX_ATTEMPTS:
                assert mail_deliver(queued.pk) is None  # not due before its backoff
                _due_now()
    assert queued.next_attempt_at is None  # given up: no more automatic attempts
    with smtp_server() as server:
        assert mail_deliver(queued.pk) is None
        assert mail_deliver(queued.pk, force=True) == MailStatus.SENT
        assert mail_deliver(queued.pk, force=True) is None  # sent once
    assert [m["Subject"].strip() for m in server.messages] == ["a b"]


# --- finance sees undelivered mail (/mail/) ----------------------------------------------


@pytest.mark.jobs
@pytest.mark.django_db(transaction=True)
def test_finance_sees_a_failed_mail_and_sends_it_again(people):
    old = mail_queue(subject="审核通过", body="x", recipients=["alice@example.com"])
    fresh = mail_queue(subject="刚排队", body="x", recipients=["hank@example.com"])
    sent = mail_queue(subject="已送达", body="x", recipients=["fin@example.com"])
    OutgoingMail.objects.filter(pk=sent.pk).update(status=MailStatus.SENT)
    with closed_port():
        mail_deliver(old.pk)
    # A mail still queued after a few minutes is listed too; one just queued is not.
    stuck = mail_queue(subject="排队很久", body="x", recipients=["hank@example.com"])
    OutgoingMail.objects.filter(pk=stuck.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=10)
    )
    OutgoingMail.objects.filter(pk=fresh.pk).update(created_at=timezone.now())
    finance = client_for(people["finance"])
    html = finance.get("/mail/").content.decode()
    assert 'href="/mail/"' in html  # in finance's navigation
    assert f'data-mail="{old.pk}"' in html and f'data-mail="{stuck.pk}"' in html
    assert f'data-mail="{fresh.pk}"' not in html and f'data-mail="{sent.pk}"' not in html
    row = html.split(f'data-mail="{old.pk}"')[1].split("</tr>")[0]
    assert "alice@example.com" in row and "审核通过" in row and "发送失败" in row
    assert "无法连接邮件服务器" in row and "重新发送" in row

    response = finance.post(f"/mail/{old.pk}/resend/", follow=True)
    assert "邮件“审核通过”已重新排队发送。" in response.content.decode()
    old.refresh_from_db()
    assert (old.status, old.attempts) == (MailStatus.QUEUED, 0)
    with smtp_server() as server:
        run_worker()
    assert "alice@example.com" in {m["To"] for m in server.messages}
    old.refresh_from_db()
    assert old.status == MailStatus.SENT
    assert f'data-mail="{old.pk}"' not in finance.get("/mail/").content.decode()


def test_only_finance_and_the_administrator_see_undelivered_mail(people, admin_user):
    failed = OutgoingMail.objects.create(
        recipients=["alice@example.com"], subject="s", body="b", status=MailStatus.FAILED
    )
    for user in (people["staff"], people["head"]):
        client = client_for(user)
        assert client.get("/mail/").status_code == 404
        assert client.post(f"/mail/{failed.pk}/resend/").status_code == 404
        assert 'href="/mail/"' not in client.get("/evaluations/").content.decode()
    assert client_for(admin_user).get("/mail/").status_code == 200
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (MailStatus.FAILED, 0)


@pytest.mark.django_db(transaction=True)
def test_the_worker_gives_up_on_a_silent_server_after_the_timeout(monkeypatch):
    """The wait the request no longer has is the worker's, bounded by EMAIL_TIMEOUT."""
    monkeypatch.setattr("evaluations.mail._enqueue", lambda *a, **k: None)
    queued = mail_queue(subject="s", body="x", recipients=["a@example.com"])
    with black_hole(timeout=1):
        assert mail_deliver(queued.pk) == MailStatus.FAILED
    queued.refresh_from_db()
    assert queued.last_error == "邮件服务器无响应（超时）"
    assert queued.next_attempt_at is not None


def test_a_mail_task_queued_under_its_old_path_still_finds_its_task():
    """Rows queued before the task moved beside its work name ``evaluations.tasks``."""
    from django.utils.module_loading import import_string

    from evaluations.mail import deliver_mail

    assert deliver_mail.module_path == "evaluations.mail.deliver_mail"
    assert import_string("evaluations.tasks.deliver_mail") is deliver_mail
