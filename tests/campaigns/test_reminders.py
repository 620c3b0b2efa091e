"""send_reminders: who gets what on which day, extensions, idempotency, mail, the in-app list."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from campaigns.models import Campaign, DeadlineExtension, DueProject, Reminder, ReminderKind
from campaigns.reminders import Planned, _record, department_remind, send_reminders
from departments.models import Department, Role
from evaluations.models import Evaluation, MailStatus, OutgoingMail, Status
from tests.conftest import client_for, make_user
from tests.factories import make_evaluation
from tests.smtp import closed_port, smtp_server
from tests.tasks_helpers import run_worker

D = date(2022, 3, 31)  # the campaign's deadline


@pytest.fixture
def people(dept_a, dept_b):
    """A: a filler with mail, a head without, an inactive filler; B: a filler; C: a filler
    whose department has everything in; finance: one with mail, one without."""
    dept_c = Department.objects.create(name="昌吉州审计局")
    return {
        "staff_a": make_user("alice", Role.STAFF, dept_a, email="alice@example.com"),
        "head_a": make_user("hanna", Role.HEAD, dept_a),
        "gone_a": make_user("gone", Role.STAFF, dept_a, email="gone@example.com", is_active=False),
        "staff_b": make_user("bob", Role.STAFF, dept_b, email="bob@example.com"),
        "staff_c": make_user("cecil", Role.STAFF, dept_c, email="cecil@example.com"),
        "fin": make_user("fin", Role.FINANCE, None, email="fin@example.com"),
        "fin2": make_user("fin2", Role.FINANCE, None),
        "dept_c": dept_c,
    }


@pytest.fixture
def campaign(people, dept_a, dept_b):
    """A: 3 due, 2 not in (no form; draft), 1 submitted. B: 2 due, none in, deadline
    extended to D+3. C: 1 due, approved."""
    campaign = Campaign.objects.create(year=2021, title="2021年度自评", deadline=D)
    staff_a = people["staff_a"]
    DueProject.objects.create(campaign=campaign, department=dept_a, project_name="A1")
    for name, status in [("A2", Status.DRAFT), ("A3", Status.SUBMITTED)]:
        project = DueProject.objects.create(campaign=campaign, department=dept_a, project_name=name)
        form = make_evaluation(dept_a, staff_a, project_name=name)
        Evaluation.objects.filter(pk=form.pk).update(due_project=project, status=status)
    DueProject.objects.create(campaign=campaign, department=dept_b, project_name="B1")
    project = DueProject.objects.create(campaign=campaign, department=dept_b, project_name="B2")
    form = make_evaluation(dept_b, people["staff_b"], project_name="B2")
    Evaluation.objects.filter(pk=form.pk).update(due_project=project, status=Status.RETURNED)
    DeadlineExtension.objects.create(
        campaign=campaign, department=dept_b, deadline=D + timedelta(3)
    )
    project = DueProject.objects.create(
        campaign=campaign, department=people["dept_c"], project_name="C1"
    )
    form = make_evaluation(people["dept_c"], people["staff_c"], project_name="C1")
    Evaluation.objects.filter(pk=form.pk).update(due_project=project, status=Status.APPROVED)
    return campaign


def _run(day: date, capture, **kwargs):
    with capture(execute=True):
        return send_reminders(day=day, **kwargs)


def _received(day: date) -> dict[str, tuple[str, int]]:
    return {
        r.user.username: (r.kind, r.projects)
        for r in Reminder.objects.filter(day=day).select_related("user")
    }


@pytest.mark.parametrize(
    ("offset", "kind"),
    [
        (-7, ReminderKind.BEFORE_7),
        (-3, ReminderKind.BEFORE_3),
        (-1, ReminderKind.BEFORE_1),
        (1, ReminderKind.AFTER_1),
    ],
)
def test_it_reminds_staff_and_heads_on_the_days_of_the_schedule(
    campaign, people, offset, kind, django_capture_on_commit_callbacks
):
    day = D + timedelta(offset)
    _run(day, django_capture_on_commit_callbacks)
    received = _received(day)
    # A's filler and head, with A's 2 projects not in; not the inactive filler, not C
    # (everything in), not B (its deadline is later).
    department = {k: v for k, v in received.items() if not k.startswith("fin")}
    assert department == {"alice": (kind, 2), "hanna": (kind, 2)}
    finance = {k: v for k, v in received.items() if k.startswith("fin")}
    if offset < 0:  # the last week: finance's summary of all 4 projects not in
        assert finance == {
            "fin": (ReminderKind.FINANCE_SUMMARY, 4),
            "fin2": (ReminderKind.FINANCE_SUMMARY, 4),
        }
    else:
        assert finance == {}
    # Mail only to those with an address: alice (and fin in the last week).
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == (
        ["alice@example.com", "fin@example.com"] if offset < 0 else ["alice@example.com"]
    )


def test_it_sends_departments_nothing_on_other_days(
    campaign, people, django_capture_on_commit_callbacks
):
    for offset in (-8, -5, -2, 0, 2, 5):
        day = D + timedelta(offset)
        _run(day, django_capture_on_commit_callbacks)
        received = _received(day)
        assert not {"alice", "hanna", "gone", "cecil"} & set(received), offset
        if offset == -5:  # B's deadline is D+3: -5 is nobody's day either
            assert [u for u in received if not u.startswith("fin")] == []
    # Finance's summary runs from D-7 to D: -5, -2 and 0 of these days, not -8, 2 or 5.
    days = sorted(
        (r.day - D).days
        for r in Reminder.objects.filter(kind=ReminderKind.FINANCE_SUMMARY, user=people["fin"])
    )
    assert days == [-5, -2, 0]


def test_it_follows_the_department_s_extended_deadline(
    campaign, people, django_capture_on_commit_callbacks
):
    # B's deadline is D+3: reminded on D-4, D, D+2 and D+4, not on A's days.
    expected = {
        -4: ReminderKind.BEFORE_7,
        0: ReminderKind.BEFORE_3,
        2: ReminderKind.BEFORE_1,
        4: ReminderKind.AFTER_1,
    }
    for offset in range(-8, 6):
        day = D + timedelta(offset)
        _run(day, django_capture_on_commit_callbacks)
        got = _received(day).get("bob")
        assert got == ((expected[offset], 2) if offset in expected else None), offset


def test_it_is_idempotent_per_day(campaign, people, django_capture_on_commit_callbacks):
    day = D - timedelta(3)
    first = _run(day, django_capture_on_commit_callbacks)
    assert len(first.sent) == 4 and first.mails == 2
    second = _run(day, django_capture_on_commit_callbacks)
    assert second.sent == [] and len(second.skipped) == 4
    assert Reminder.objects.filter(day=day).count() == 4
    assert Reminder.objects.filter(day=day, user=people["staff_a"]).count() == 1
    assert len(mail.outbox) == 2  # alice and fin, once each


def test_a_racing_run_loses_quietly(campaign, people, django_capture_on_commit_callbacks):
    """The row another run inserted first wins: no second row, no second mail."""
    day = D - timedelta(1)
    Reminder.objects.create(
        campaign=campaign, user=people["staff_a"], day=day, kind=ReminderKind.BEFORE_1
    )
    item = Planned(campaign, people["staff_a"], ReminderKind.BEFORE_1, 2, "s", "b")
    with django_capture_on_commit_callbacks(execute=True):
        assert _record(item, day) is None
    assert mail.outbox == []
    assert Reminder.objects.filter(day=day, user=people["staff_a"]).count() == 1


def test_the_finance_summary_lists_each_department_s_projects_not_in(
    campaign, people, dept_a, dept_b, django_capture_on_commit_callbacks
):
    _run(D - timedelta(3), django_capture_on_commit_callbacks)
    [message] = [m for m in mail.outbox if m.to == ["fin@example.com"]]
    assert "2 个部门 4 个项目尚未提交" in message.subject
    lines = message.body.splitlines()
    assert f"{dept_a.name}：2 个（截止 2022-03-31）" in lines
    assert f"{dept_b.name}：2 个（截止 2022-04-03）" in lines
    assert not any("审计局" in line for line in lines)  # C has everything in
    [alice] = [m for m in mail.outbox if m.to == ["alice@example.com"]]
    assert "2 个应评项目尚未提交" in alice.subject and dept_a.name in alice.body


def test_a_dry_run_writes_and_sends_nothing(campaign, people, django_capture_on_commit_callbacks):
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_reminders", "--date", "2022-03-24", "--dry-run", stdout=out)
    assert Reminder.objects.count() == 0 and mail.outbox == []
    assert "将发送 4 条提醒、2 封邮件" in out.getvalue()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_reminders", "--date", "2022-03-24", stdout=StringIO())
    assert Reminder.objects.count() == 4 and len(mail.outbox) == 2


def test_the_command_refuses_a_bad_date(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("send_reminders", "--date", "31.03.2022")


def test_a_closed_campaign_sends_nothing(campaign, people, django_capture_on_commit_callbacks):
    Campaign.objects.filter(pk=campaign.pk).update(is_open=False)
    assert _run(D - timedelta(1), django_capture_on_commit_callbacks).sent == []
    assert Reminder.objects.count() == 0


# --- in the app -----------------------------------------------------------------------------


def test_the_in_app_list_shows_unread_reminders_and_marks_them_read(
    campaign, people, django_capture_on_commit_callbacks
):
    _run(D - timedelta(1), django_capture_on_commit_callbacks)
    fin = client_for(people["fin"])
    html = fin.get("/dashboard/?year=2021").content.decode()
    reminder = Reminder.objects.get(user=people["fin"])
    assert f'data-reminder="{reminder.pk}"' in html
    assert "全部门尚有 4 个应评项目未提交" in html
    # Someone else's reminder: 404, and it stays unread.
    alice_reminder = Reminder.objects.get(user=people["staff_a"])
    assert fin.post(f"/reminders/{alice_reminder.pk}/read/").status_code == 404
    assert fin.get(f"/reminders/{reminder.pk}/read/").status_code == 405
    response = fin.post(f"/reminders/{reminder.pk}/read/", {"next": "/dashboard/?year=2021"})
    assert response.status_code == 302 and response["Location"] == "/dashboard/?year=2021"
    reminder.refresh_from_db()
    alice_reminder.refresh_from_db()
    assert reminder.read_at is not None and alice_reminder.read_at is None
    assert f'data-reminder="{reminder.pk}"' not in fin.get("/dashboard/?year=2021").content.decode()
    # A foreign "next" is not followed.
    again = client_for(people["staff_a"]).post(
        f"/reminders/{alice_reminder.pk}/read/", {"next": "https://evil.example/"}
    )
    assert again.status_code == 302 and "evil" not in again["Location"]


# --- through a real SMTP server (tests/smtp.py) ---------------------------------------------


def _send(day: date) -> tuple[bool, str]:
    """Run the command for ``day``: (succeeded, what it wrote)."""
    out, err = StringIO(), StringIO()
    try:
        call_command("send_reminders", "--date", day.isoformat(), stdout=out, stderr=err)
    except CommandError as exc:
        return False, out.getvalue() + err.getvalue() + str(exc)
    return True, out.getvalue() + err.getvalue()


def test_a_refused_reminder_mail_is_not_recorded_as_sent_and_goes_out_on_the_next_run(
    campaign, people
):
    # A title with a line break: the subject is made one line, not refused by Django.
    Campaign.objects.filter(pk=campaign.pk).update(title="2021年度\r\n自评")
    day = D - timedelta(3)
    with smtp_server(refuse=True) as refusing:
        ok, output = _send(day)
    assert not ok and "2 封邮件发送失败" in output
    assert "邮件发送失败 2021 before_3 → alice（邮件服务器拒收：alice@example.com: 554" in output
    assert refusing.messages == []
    # The in-app reminders are there; no mail is recorded as sent; each mail is failed with
    # the server's reason (finance sees it on /mail/).
    assert Reminder.objects.filter(day=day).count() == 4
    assert not Reminder.objects.filter(mailed_at__isnull=False).exists()
    failed = OutgoingMail.objects.all()
    assert [m.status for m in failed] == [MailStatus.FAILED] * 2
    assert all("554 5.7.1 Relay refused" in m.last_error for m in failed)

    with smtp_server() as working:
        ok, output = _send(day)
    assert ok, output
    assert sorted(m["To"] for m in working.messages) == ["alice@example.com", "fin@example.com"]
    assert {m["Subject"].strip() for m in working.messages} == {
        "2021年度 自评：距截止还有 3 天，2 个应评项目尚未提交",
        "2021年度 自评 每日汇总（2022-03-28）：2 个部门 4 个项目尚未提交",
    }
    assert Reminder.objects.filter(day=day, mailed_at__isnull=False).count() == 2
    assert Reminder.objects.filter(day=day).count() == 4
    # The same two mails, now sent (not new ones beside the failed).
    assert [m.status for m in OutgoingMail.objects.all()] == [MailStatus.SENT] * 2

    # Sent once: a third run mails nobody.
    with smtp_server() as again:
        assert _send(day)[0]
    assert again.messages == []


def test_a_failed_reminder_mail_is_retried_by_the_next_day_s_run(campaign, people):
    with closed_port():
        assert not _send(D - timedelta(3))[0]
    # D-2 is nobody's department day: alice's failed D-3 reminder is mailed now; finance's
    # D-3 summary gave way to the D-2 one.
    with smtp_server() as server:
        ok, output = _send(D - timedelta(2))
    assert ok, output
    subjects = sorted((m["To"], m["Subject"].strip()) for m in server.messages)
    assert subjects == [
        ("alice@example.com", "2021年度自评：距截止还有 3 天，2 个应评项目尚未提交"),
        ("fin@example.com", "2021年度自评 每日汇总（2022-03-29）：2 个部门 4 个项目尚未提交"),
    ]
    alice = Reminder.objects.get(user=people["staff_a"])
    assert alice.day == D - timedelta(3) and alice.mailed_at is not None


# --- finance reminds an overdue department from the campaign page ---------------------------


@pytest.mark.jobs
@pytest.mark.django_db(transaction=True)
def test_finance_reminds_an_overdue_department_once_a_day(campaign, people, dept_a, dept_b):
    fin = client_for(people["fin"])
    page = fin.get("/campaigns/2021/").content.decode()
    # A and B are past their deadlines (D, D+3) with projects not in; C has everything in.
    assert page.count("发送催报提醒</button>") == 2
    assert "昌吉州审计局" not in page.split("逾期未提交的部门")[1].split("延长截止日期")[0]

    response = fin.post("/campaigns/2021/remind/", {"department": dept_a.pk}, follow=True)
    assert f"已向“{dept_a.name}”的 2 个账号发送催报提醒（邮件 1 封）。" in response.content.decode()
    rows = Reminder.objects.filter(kind=ReminderKind.BY_FINANCE)
    assert sorted((r.user.username, r.projects) for r in rows) == [("alice", 2), ("hanna", 2)]
    # The mail is queued in the request and sent by the worker.
    assert mail.outbox == [] and rows.get(user=people["staff_a"]).mailed_at is None
    run_worker()
    assert rows.get(user=people["staff_a"]).mailed_at is not None
    [message] = mail.outbox
    assert message.to == ["alice@example.com"]
    assert message.subject == "【逾期】2021年度自评：2 个应评项目尚未提交"

    # A second click the same day sends nothing and says why.
    again = fin.post("/campaigns/2021/remind/", {"department": dept_a.pk}, follow=True)
    html = again.content.decode()
    assert f"今天已向“{dept_a.name}”发送过催报提醒，每个部门每天最多发送一次。" in html
    run_worker()
    assert rows.count() == 2 and len(mail.outbox) == 1
    assert "今天已催报" in html and html.count("发送催报提醒</button>") == 1
    # The department sees it in the app like a scheduled reminder.
    alice_page = client_for(people["staff_a"]).get("/evaluations/").content.decode()
    assert "财政局催报，已过截止日期，本部门尚有 2 个应评项目未提交" in alice_page


def test_finance_cannot_remind_a_department_that_is_not_overdue(campaign, people):
    fin = client_for(people["fin"])
    response = fin.post("/campaigns/2021/remind/", {"department": people["dept_c"].pk}, follow=True)
    assert "“昌吉州审计局”没有逾期未提交的应评项目。" in response.content.decode()
    assert not Reminder.objects.exists() and mail.outbox == []


def test_only_finance_reminds_from_the_campaign_page(campaign, people, dept_a):
    staff = client_for(people["staff_a"])
    assert staff.post("/campaigns/2021/remind/", {"department": dept_a.pk}).status_code == 404
    assert client_for(people["fin"]).get("/campaigns/2021/remind/").status_code == 405
    assert not Reminder.objects.exists()


@pytest.mark.jobs
@pytest.mark.django_db(transaction=True)
def test_a_reminder_button_mail_the_server_refuses_is_failed_and_not_recorded_as_sent(
    campaign, people, dept_a
):
    with smtp_server(refuse=True) as server:
        response = client_for(people["fin"]).post(
            "/campaigns/2021/remind/", {"department": dept_a.pk}, follow=True
        )
        run_worker()
    assert "（邮件 1 封）" in response.content.decode()
    assert server.messages == []
    alice = Reminder.objects.get(user=people["staff_a"], kind=ReminderKind.BY_FINANCE)
    assert alice.mailed_at is None
    assert alice.mail.status == MailStatus.FAILED
    assert "554 5.7.1 Relay refused" in alice.mail.last_error
    # Finance finds it on the mail page; sent again, the reminder counts as mailed.
    fin = client_for(people["fin"])
    assert f'data-mail="{alice.mail.pk}"' in fin.get("/mail/").content.decode()
    fin.post(f"/mail/{alice.mail.pk}/resend/")
    with smtp_server() as working:
        run_worker()
    assert [m["To"] for m in working.messages] == ["alice@example.com"]
    alice.refresh_from_db()
    assert alice.mailed_at is not None


def test_a_member_limited_to_a_unit_is_reminded_of_that_units_projects_only(
    people, campaign, dept_a, django_capture_on_commit_callbacks
):
    from departments.models import Membership

    DueProject.objects.filter(campaign=campaign, project_name="A1").update(
        implementing_unit="实施单位 甲"
    )
    DueProject.objects.filter(campaign=campaign, project_name="A2").update(
        implementing_unit="实施单位乙"
    )
    limited = make_user("lim", Role.STAFF, dept_a, email="lim@example.com")
    Membership.objects.filter(user=limited).update(implementing_unit="实施单位甲")
    done = make_user("done", Role.STAFF, dept_a, email="done@example.com")
    Membership.objects.filter(user=done).update(implementing_unit="实施单位丙")
    _run(D - timedelta(7), django_capture_on_commit_callbacks)
    received = _received(D - timedelta(7))
    assert received["alice"] == (ReminderKind.BEFORE_7, 2)  # the whole department
    assert received["lim"] == (ReminderKind.BEFORE_7, 1)  # A1 only
    assert "done" not in received  # its unit has nothing pending

    # Finance's reminder to the overdue department counts the same way.
    report = department_remind(campaign=campaign, department=dept_a, day=D + timedelta(2))
    by_user = {item.user.username: item.projects for item in report.sent}
    assert by_user["lim"] == 1 and by_user["alice"] == 2 and "done" not in by_user
