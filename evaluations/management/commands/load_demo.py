"""Load the sample forms and create the demo accounts (development only)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "导入示例自评表并创建演示账号（仅限 DEBUG 模式）"

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("演示账号只能在 DEBUG 模式下创建（设置 DJANGO_DEBUG=1）。")
        self.stdout.write("TODO")
