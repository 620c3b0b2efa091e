"""Reminders (催报) for due projects not yet submitted, run once a day by ``send_reminders``.

Department staff and heads of a department with due projects not handed in get a reminder
7, 3 and 1 days before their department's deadline (extensions included) and on the day
after it; finance users get a daily summary in the last week before the campaign's deadline
(days −7 to 0). A reminder is a ``Reminder`` row (shown in the app until read) and, for
users with an address, an e-mail sent after the row is committed.

The ``Reminder`` unique constraint (campaign, user, day) makes a day's run idempotent: a row
is inserted in its own savepoint and a conflict (an earlier run, or one racing this one)
means "already sent", so no user gets a day's reminder or its mail twice.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from campaigns.deadlines import NOT_HANDED_IN, department_deadlines
from campaigns.models import Campaign, DueProject, Reminder, ReminderKind
from departments.models import Department, Role
from evaluations import permissions

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


@dataclass
class Report:
    """What a run did (or, dry, would do)."""

    day: datetime.date
    dry_run: bool
    sent: list[Planned] = field(default_factory=list)
    skipped: list[Planned] = field(default_factory=list)  # already sent that day
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
        for user in users:
            department = user.membership.department
            n = pending[department.pk]
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
    """Send the reminders of ``day`` for every open campaign; never one twice for a day."""
    report = Report(day=day, dry_run=dry_run)
    for campaign in Campaign.objects.filter(is_open=True).order_by("year"):
        planned = plan(campaign, day)
        done = set(
            Reminder.objects.filter(campaign=campaign, day=day).values_list("user_id", flat=True)
        )
        for item in planned:
            if item.user.pk in done:
                report.skipped.append(item)
                continue
            if dry_run:
                report.sent.append(item)
                report.mails += bool(item.user.email)
                continue
            if _record(item, day):
                report.sent.append(item)
                report.mails += bool(item.user.email)
            else:
                report.skipped.append(item)
    return report


def _record(item: Planned, day: datetime.date) -> bool:
    """Insert the day's reminder and queue its mail; False if the day's row exists already."""
    try:
        with transaction.atomic():
            Reminder.objects.create(
                campaign=item.campaign,
                user=item.user,
                day=day,
                kind=item.kind,
                projects=item.projects,
            )
            if item.user.email:
                # After commit: a row rolled back (or lost to a racing run) sends nothing.
                transaction.on_commit(lambda: _mail(item))
    except IntegrityError:
        return False
    return True


def _mail(item: Planned) -> None:
    try:
        send_mail(item.subject, item.body, None, [item.user.email])
    except Exception:  # noqa: BLE001 - a mail server problem must not stop the other reminders
        logger.exception("reminder mail to user %s failed", item.user.pk)


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
    values["kind"] = reminder.get_kind_display()
    return _("%(title)s（%(kind)s）：本部门尚有 %(n)s 个应评项目未提交。") % values
