"""Load the sample forms and create the demo accounts (development only)."""

from __future__ import annotations

import datetime
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from campaigns.due_list import import_due_list
from campaigns.models import Campaign
from departments.demo import (
    DEMO_ADMIN,
    DEMO_FINANCE,
    DEMO_HEADS,
    DEMO_NAMES,
    DEMO_PASSWORD,
    DEMO_STAFF,
)
from departments.models import Department, Membership, Role
from evaluations.importer.service import import_paths

SAMPLE_DIR = Path(settings.BASE_DIR) / "sample_data"


class Command(BaseCommand):
    help = "导入示例自评表并创建演示账号（仅限 DEBUG 模式）"

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            # Signing in is refused too (departments.demo): accounts made under debug stay out.
            raise CommandError("演示账号只能在 DEBUG 模式下创建（请设置 DJANGO_DEBUG=1）。")
        # The campaign and its due list first, so the sample forms find their due projects.
        self._campaign()
        files = sorted(SAMPLE_DIR.glob("*.txt"))
        reports = import_paths(files)
        for report in reports:
            self.stdout.write(
                f"示例文件 {Path(report.path).name}：新建 {report.count('created')}，"
                f"更新 {report.count('updated')}，无变化 {report.count('unchanged')}"
            )
        with transaction.atomic():
            self._account(DEMO_FINANCE, Role.FINANCE, None)
            for username, prefix in DEMO_STAFF:
                report = next((r for r in reports if Path(r.path).name.startswith(prefix)), None)
                if report is None or not report.forms:
                    continue
                department = Department.objects.get(name=report.forms[0].form.department.strip())
                self._account(username, Role.STAFF, department)
                self._account(DEMO_HEADS[username], Role.HEAD, department)
            self._admin()
        self.stdout.write(self.style.SUCCESS(f"演示账号（密码均为 {DEMO_PASSWORD}）："))
        for m in Membership.objects.select_related("user", "department").order_by("user__username"):
            dept = f" · {m.department.name}" if m.department else ""
            self.stdout.write(
                f"  {m.user.username:10} {m.user.first_name} · {m.get_role_display()}{dept}"
            )
        self.stdout.write("  admin      系统管理员（/admin/）")

    def _account(self, username: str, role: str, department: Department | None) -> None:
        user, _ = get_user_model().objects.get_or_create(username=username)
        user.first_name = DEMO_NAMES[username]
        user.set_password(DEMO_PASSWORD)
        user.save()
        Membership.objects.update_or_create(
            user=user, defaults={"role": role, "department": department}
        )

    def _campaign(self) -> None:
        """An open 2021 campaign, due in 30 days, with the sample due list."""
        campaign, _ = Campaign.objects.get_or_create(
            year=2021,
            defaults={
                "title": "2021年度项目支出绩效自评",
                "deadline": timezone.localdate() + datetime.timedelta(days=30),
                "notice": "请各部门对照应评项目清单，于截止日期前完成2021年度项目支出绩效自评并提交。",
                "is_open": True,
                # The demo shows the department heads' sign-off (head1-head3).
                "requires_sign_off": True,
            },
        )
        path = SAMPLE_DIR / "due_list_2021.xlsx"
        report = import_due_list(campaign=campaign, data=path.read_bytes(), name=path.name)
        self.stdout.write(
            f"应评项目清单 {path.name}：新建 {report.count('created')}，"
            f"更新 {report.count('updated')}，无变化 {report.count('unchanged')}"
        )

    def _admin(self) -> None:
        user, _ = get_user_model().objects.get_or_create(username=DEMO_ADMIN)
        user.is_staff = True
        user.is_superuser = True
        user.first_name = DEMO_NAMES[DEMO_ADMIN]
        user.set_password(DEMO_PASSWORD)
        user.save()
