"""Reminders (催报) for due projects not yet submitted, run once a day by ``send_reminders``.

Department staff and heads of a department with due projects not handed in get a reminder
7, 3 and 1 days before their department's deadline (extensions included) and on the day
after it; finance users get a daily summary in the last week before the campaign's deadline
(days −7 to 0). A reminder is a ``Reminder`` row (shown in the app until read) and, for
users with an address, an e-mail (an ``OutgoingMail``, evaluations/mail.py) sent by the run
itself; ``mailed_at`` records that the mail went out. A mail that fails is reported (the
command exits non-zero), retried by the task worker, and sent again by the next run if it is
still not out.

Finance may also remind one overdue department from the campaign page
(``department_remind``: kind "财政局催报", at most once per department and day); those rows
are recorded the same way, their mails queued for the task worker (never sent in the request).

The ``Reminder`` unique constraint (campaign, user, day, kind) makes a day's run idempotent:
a row is inserted in its own savepoint and a conflict (an earlier run, or one racing this
one) means "already recorded"; a reminder has one mail, claimed by one sender at a time, so no
user gets a day's reminder or its mail twice.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.utils.translation import gettext as _

from campaigns.deadlines import NOT_HANDED_IN, department_deadlines
from campaigns.models import Campaign, DueProject, Reminder, ReminderKind
from departments.access import membership_unit, unit_key
from departments.models import Department, Role
from evaluations import permissions
from evaluations.mail import mail_deliver, mail_queue
from evaluations.models import MailStatus, OutgoingMail

logger = logging.getLogger(__name__)

# Days before (positive) or after (negative) the department's deadline → the reminder.
DEPARTMENT_SCHEDULE: dict[int, str] = {
    7: ReminderKind.BEFORE_7,
    3: ReminderKind.BEFORE_3,
    1: ReminderKind.BEFORE_1,
    -1: ReminderKind.AFTER_1,
}
# Finance's daily summary: from 7 days before the campaign's deadline to the day itself.
FINANCE_SUMMARY_DAYS = range(0, 8)
# The kinds send_reminders writes (finance's reminders from the campaign page are others).
SCHEDULED = (*DEPARTMENT_SCHEDULE.values(), ReminderKind.FINANCE_SUMMARY)
# How many days back a reminder whose mail failed is mailed again.
RETRY_DAYS = 7
# Roles inside a department that are reminded: the fillers and the department's head.
REMINDED_ROLES = (Role.STAFF, Role.HEAD)


@dataclass
class Planned:
    """One reminder to send: to whom, why, and the text of its mail."""

    campaign: Campaign
    user: Any
    kind: str
    projects: int
    subject: str
    body: str
    error: str = ""  # why its mail failed (send_reminders prints it)


@dataclass
class Report:
    """What a run did (or, dry, would do)."""

    day: datetime.date
    dry_run: bool
    sent: list[Planned] = field(default_factory=list)
    skipped: list[Planned] = field(default_factory=list)  # already sent that day
    failed: list[Planned] = field(default_factory=list)  # recorded, but the mail failed
    mails: int = 0


def pending_by_department(campaign: Campaign) -> dict[int, int]:
    """Due projects not handed in (no form, 草稿, 部门审核, 已退回) per department id."""
    return dict(
        DueProject.objects.filter(campaign=campaign)
        .filter(Q(evaluation__isnull=True) | Q(evaluation__status__in=NOT_HANDED_IN))
        .order_by()
        .values("department_id")
        .annotate(n=Count("id"))
        .values_list("department_id", "n")
    )


def pending_units(campaign: Campaign, departments: list[int]) -> dict[int, list[str]]:
    """The ``unit_key`` of each due project not handed in, per department id."""
    rows = (
        DueProject.objects.filter(campaign=campaign, department_id__in=departments)
        .filter(Q(evaluation__isnull=True) | Q(evaluation__status__in=NOT_HANDED_IN))
        .values_list("department_id", "implementing_unit")
    )
    units: dict[int, list[str]] = {}
    for department_id, unit in rows:
        units.setdefault(department_id, []).append(unit_key(unit))
    return units


def pending_for(user: Any, total: int, units: list[str]) -> int:
    """The projects a reminder tells ``user`` of: a member limited to one 实施单位 (限填实施单位)
    hears of that unit's only; everyone else of the department's ``total``."""
    limit = membership_unit(user.membership)
    return sum(1 for unit in units if unit == limit) if limit else total


def department_kind(deadline: datetime.date, day: datetime.date) -> str | None:
    """The reminder due on ``day`` for a department whose deadline is ``deadline``, if any."""
    return DEPARTMENT_SCHEDULE.get((deadline - day).days)


def plan(campaign: Campaign, day: datetime.date) -> list[Planned]:
    """Every reminder the campaign calls for on ``day`` (nothing is written)."""
    pending = pending_by_department(campaign)
    if not pending:
        return []
    extended = department_deadlines(campaign)
    deadlines = {pk: extended.get(pk, campaign.deadline) for pk in pending}
    planned: list[Planned] = []
    kinds = {pk: department_kind(deadlines[pk], day) for pk in pending}
    reminded = [pk for pk, kind in kinds.items() if kind]
    if reminded:
        User = get_user_model()
        users = (
            User.objects.filter(
                is_active=True,
                membership__role__in=REMINDED_ROLES,
                membership__department_id__in=reminded,
            )
            .select_related("membership__department")
            .order_by("pk")
        )
        units = pending_units(campaign, reminded)
        for user in users:
            department = user.membership.department
            n = pending_for(user, pending[department.pk], units.get(department.pk, []))
            if not n:
                continue  # limited to a unit that has everything in
            deadline = deadlines[department.pk]
            kind = kinds[department.pk]
            subject, body = _department_text(campaign, department, kind, n, deadline)
            planned.append(Planned(campaign, user, kind, n, subject, body))
    if (campaign.deadline - day).days in FINANCE_SUMMARY_DAYS:
        names = dict(Department.objects.filter(pk__in=pending).values_list("pk", "name"))
        lines = sorted((names[pk], n, deadlines[pk]) for pk, n in pending.items())
        total = sum(pending.values())
        subject, body = _finance_text(campaign, day, lines, total)
        for user in permissions.finance_users():
            planned.append(
                Planned(campaign, user, ReminderKind.FINANCE_SUMMARY, total, subject, body)
            )
    return planned


def _department_text(
    campaign: Campaign, department: Department, kind: str, n: int, deadline: datetime.date
) -> tuple[str, str]:
    values = {"title": campaign.title, "n": n, "day": deadline.isoformat()}
    if kind == ReminderKind.AFTER_1:
        subject = _("【逾期】%(title)s：%(n)s 个应评项目尚未提交") % values
        lead = (
            _("截止日期 %(day)s 已过，本部门尚有 %(n)s 个应评项目的自评表未提交财政局。") % values
        )
    else:
        values["left"] = {
            ReminderKind.BEFORE_7: 7,
            ReminderKind.BEFORE_3: 3,
            ReminderKind.BEFORE_1: 1,
        }[kind]
        subject = _("%(title)s：距截止还有 %(left)s 天，%(n)s 个应评项目尚未提交") % values
        lead = _("截止日期为 %(day)s，本部门尚有 %(n)s 个应评项目的自评表未提交财政局。") % values
    body = "\n\n".join(
        [department.name, lead, _("请登录绩效自评系统，在“待填报”列表中查看并提交。")]
    )
    return subject, body


def _finance_text(
    campaign: Campaign,
    day: datetime.date,
    lines: list[tuple[str, int, datetime.date]],
    total: int,
) -> tuple[str, str]:
    values = {
        "title": campaign.title,
        "date": day.isoformat(),
        "n": total,
        "departments": len(lines),
        "deadline": campaign.deadline.isoformat(),
    }
    subject = (
        _("%(title)s 每日汇总（%(date)s）：%(departments)s 个部门 %(n)s 个项目尚未提交") % values
    )
    rows = [
        _("%(name)s：%(n)s 个（截止 %(day)s）")
        % {"name": name, "n": n, "day": deadline.isoformat()}
        for name, n, deadline in lines
    ]
    body = "\n".join([_("截止日期 %(deadline)s。尚未提交的应评项目：") % values, "", *rows])
    return subject, body


def send_reminders(*, day: datetime.date, dry_run: bool = False) -> Report:
    """Send the reminders of ``day`` for every open campaign; never one twice for a day.

    A reminder whose mail failed (on this or an earlier run within ``RETRY_DAYS``) is mailed
    again, unless a newer reminder to the same user took its place.
    """
    report = Report(day=day, dry_run=dry_run)
    for campaign in Campaign.objects.filter(is_open=True).order_by("year"):
        planned = plan(campaign, day)
        done = {
            r.user_id: r
            for r in Reminder.objects.filter(campaign=campaign, day=day, kind__in=SCHEDULED)
        }
        for item in planned:
            row = done.get(item.user.pk)
            if row is not None and not (item.user.email and row.mailed_at is None):
                report.skipped.append(item)
                continue
            if dry_run:
                report.sent.append(item)
                report.mails += bool(item.user.email)
                continue
            if row is None:
                row = _record(item, day)
                if row is None:
                    report.skipped.append(item)
                    continue
            _deliver(item, row, report)
        if not dry_run:
            for item, row in _unmailed_before(campaign, day):
                _deliver(item, row, report)
    return report


def _record(item: Planned, day: datetime.date) -> Reminder | None:
    """Insert the day's reminder (the in-app side); None if the day's row exists already."""
    try:
        with transaction.atomic():
            return Reminder.objects.create(
                campaign=item.campaign,
                user=item.user,
                day=day,
                kind=item.kind,
                projects=item.projects,
            )
    except IntegrityError:
        return None


def _deliver(item: Planned, row: Reminder, report: Report, *, now: bool = True) -> None:
    """Mail a recorded reminder, once: ``mailed_at`` is set when its mail is sent.

    ``now`` (send_reminders, a cron job): sent here, so that the run reports a failure; a
    failed mail is also retried by the worker, and the next run sends it again if it is
    still not out. Otherwise (a request) the mail is queued for the worker.
    """
    if not item.user.email:
        report.sent.append(item)
        return
    with transaction.atomic():
        mail = _mail_of(item, row, enqueue=not now)
    if mail is None:
        report.skipped.append(item)
        return
    if not now:
        report.sent.append(item)
        report.mails += 1
        return
    outcome = mail_deliver(mail.pk, force=True)
    if outcome is None:  # sent already, or a racing run is sending it
        report.skipped.append(item)
    elif outcome == MailStatus.SENT:
        report.sent.append(item)
        report.mails += 1
    else:
        item.error = OutgoingMail.objects.values_list("last_error", flat=True).get(pk=mail.pk)
        report.failed.append(item)


def _mail_of(item: Planned, row: Reminder, *, enqueue: bool) -> OutgoingMail | None:
    """The reminder's mail, stored with it the first time; None when it was mailed."""
    current = Reminder.objects.filter(pk=row.pk).values_list("mailed_at", "mail_id").first()
    if current is None or current[0] is not None:
        return None
    if current[1] is not None:
        return OutgoingMail.objects.get(pk=current[1])
    mail = mail_queue(
        subject=item.subject, body=item.body, recipients=[item.user.email], enqueue=enqueue
    )
    # A run racing this one may have stored its mail first: that one is the reminder's.
    if not Reminder.objects.filter(pk=row.pk, mail__isnull=True).update(mail=mail):
        OutgoingMail.objects.filter(pk=mail.pk).delete()
        return None
    return mail


def record_mailed(sender: Any, mail: OutgoingMail, **kwargs: Any) -> None:
    """A reminder's mail went out: the reminder is mailed (the ``mail_sent`` receiver)."""
    Reminder.objects.filter(mail=mail, mailed_at__isnull=True).update(mailed_at=mail.sent_at)


def _unmailed_before(campaign: Campaign, day: datetime.date) -> list[tuple[Planned, Reminder]]:
    """Earlier reminders whose mail failed and that are still the user's latest, with their mail.

    The mail is planned again for the reminder's own day (the projects not in as of now);
    a user whose department has since handed everything in is not mailed.
    """
    rows = Reminder.objects.filter(
        campaign=campaign,
        kind__in=SCHEDULED,
        mailed_at__isnull=True,
        day__lt=day,
        day__gte=day - datetime.timedelta(days=RETRY_DAYS),
    ).exclude(user__email="")
    latest: dict[int, Reminder] = {}
    for row in rows.order_by("day", "pk"):
        latest[row.user_id] = row
    newest = dict(
        Reminder.objects.filter(campaign=campaign, user_id__in=latest, kind__in=SCHEDULED)
        .order_by()
        .values("user_id")
        .annotate(last=Max("day"))
        .values_list("user_id", "last")
    )
    out = []
    plans: dict[datetime.date, dict[int, Planned]] = {}
    for user_id, row in latest.items():
        if newest.get(user_id, row.day) > row.day:
            continue  # a newer reminder took its place
        if row.day not in plans:
            plans[row.day] = {p.user.pk: p for p in plan(campaign, row.day)}
        item = plans[row.day].get(user_id)
        if item is not None:
            out.append((item, row))
    return out


# --- from the campaign page: finance reminds one overdue department -------------------------


class ReminderRefused(Exception):
    """A reminder finance may not send now; the message is for the user."""


@dataclass
class Overdue:
    """A department past its deadline with due projects not handed in."""

    department: Department
    deadline: datetime.date
    projects: int
    reminded_today: bool


def overdue_departments(campaign: Campaign, day: datetime.date) -> list[Overdue]:
    """The campaign's overdue departments on ``day``, by name, and whether finance reminded
    each one that day."""
    pending = pending_by_department(campaign)
    extended = department_deadlines(campaign)
    late = {
        pk: extended.get(pk, campaign.deadline)
        for pk in pending
        if extended.get(pk, campaign.deadline) < day
    }
    reminded = set(
        Reminder.objects.filter(
            campaign=campaign, day=day, kind=ReminderKind.BY_FINANCE
        ).values_list("user__membership__department_id", flat=True)
    )
    return [
        Overdue(department, late[department.pk], pending[department.pk], department.pk in reminded)
        for department in Department.objects.filter(pk__in=late).order_by("name")
    ]


def department_remind(*, campaign: Campaign, department: Department, day: datetime.date) -> Report:
    """Remind an overdue department's fillers and head now (in the app and by mail).

    At most once per department and day: refused (ReminderRefused) when finance did so
    already, when the department is not overdue, or when it has nobody to remind.
    """
    overdue = {o.department.pk: o for o in overdue_departments(campaign, day)}
    found = overdue.get(department.pk)
    if found is None:
        raise ReminderRefused(_("“%(name)s”没有逾期未提交的应评项目。") % {"name": department.name})
    if found.reminded_today:
        raise ReminderRefused(
            _("今天已向“%(name)s”发送过催报提醒，每个部门每天最多发送一次。")
            % {"name": department.name}
        )
    User = get_user_model()
    units = pending_units(campaign, [department.pk]).get(department.pk, [])
    users = [
        user
        for user in User.objects.filter(
            is_active=True,
            membership__role__in=REMINDED_ROLES,
            membership__department=department,
        )
        .select_related("membership")
        .order_by("pk")
        if pending_for(user, found.projects, units)
    ]
    if not users:
        raise ReminderRefused(_("“%(name)s”没有可接收提醒的账号。") % {"name": department.name})
    report = Report(day=day, dry_run=False)
    for user in users:
        n = pending_for(user, found.projects, units)
        subject, body = _department_text(
            campaign, department, ReminderKind.AFTER_1, n, found.deadline
        )
        item = Planned(campaign, user, ReminderKind.BY_FINANCE, n, subject, body)
        row = _record(item, day)
        if row is None:  # a second click racing the first: that one sends
            report.skipped.append(item)
            continue
        _deliver(item, row, report, now=False)
    if not report.sent and not report.failed:
        raise ReminderRefused(
            _("今天已向“%(name)s”发送过催报提醒，每个部门每天最多发送一次。")
            % {"name": department.name}
        )
    return report


def unread_reminders(user: Any) -> list[Reminder]:
    """The user's unread reminders, newest first (shown until marked read)."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        Reminder.objects.filter(user=user, read_at__isnull=True)
        .select_related("campaign")
        .order_by("-day", "-id")[:20]
    )


def reminder_text(reminder: Reminder) -> str:
    """The in-app line of a reminder."""
    values = {"title": reminder.campaign.title, "n": reminder.projects}
    if reminder.kind == ReminderKind.FINANCE_SUMMARY:
        return _("%(title)s：全部门尚有 %(n)s 个应评项目未提交。") % values
    if reminder.kind == ReminderKind.AFTER_1:
        return _("%(title)s：已过截止日期，本部门尚有 %(n)s 个应评项目未提交。") % values
    if reminder.kind == ReminderKind.BY_FINANCE:
        return (
            _("%(title)s：财政局催报，已过截止日期，本部门尚有 %(n)s 个应评项目未提交。") % values
        )
    values["kind"] = reminder.get_kind_display()
    return _("%(title)s（%(kind)s）：本部门尚有 %(n)s 个应评项目未提交。") % values
