"""Third-party apps in Chinese where their texts are not marked for translation.

Their app names (``verbose_name``: English, untranslated) are set the documented way, by an
AppConfig subclass in INSTALLED_APPS. Their rows' titles (``__str__``: English f-strings, shown
in the admin's headings, breadcrumbs and history) and the task table's ``id`` label are set
when the app is ready. Everything they do mark for translation is in locale/zh_Hans; column
headers named after methods are in departments/admin_chinese.py. tests/pages/test_admin_chinese.py
reads every admin page and fails on English left over, for example after an upgrade.
"""

from __future__ import annotations

from axes.apps import AppConfig as AxesAppConfig
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_tasks_db.apps import TasksAppConfig


class AxesConfig(AxesAppConfig):
    verbose_name = _("登录保护")

    def ready(self) -> None:
        super().ready()
        from axes.models import AccessAttempt, AccessFailureLog, AccessLog  # models: now ready

        AccessAttempt.__str__ = lambda self: (
            gettext("登录尝试：%(user)s（%(ip)s）")
            % {  # type: ignore[method-assign]
                "user": self.username,
                "ip": self.ip_address or "—",
            }
        )
        AccessLog.__str__ = lambda self: (
            gettext("登录日志：%(user)s（%(ip)s）")
            % {  # type: ignore[method-assign]
                "user": self.username,
                "ip": self.ip_address or "—",
            }
        )
        AccessFailureLog.__str__ = lambda self: (
            gettext("登录失败：%(user)s（%(ip)s）")
            % {  # type: ignore[method-assign]
                "user": self.username,
                "ip": self.ip_address or "—",
            }
        )


class TasksDatabaseConfig(TasksAppConfig):
    verbose_name = _("后台任务")

    def ready(self) -> None:
        super().ready()
        from django_tasks_db.models import DBTaskResult  # models: now ready

        DBTaskResult._meta.get_field("id").verbose_name = _("编号")
        DBTaskResult.__str__ = lambda self: gettext("后台任务 %(id)s") % {"id": self.id}  # type: ignore[method-assign]
