"""Column headers of third-party admin pages that no catalogue can translate.

Django names a column after its method when the method has no description ("status" →
"Status", "task_name" → "Task name"), and some carry an English one; these ModelAdmins are
re-registered as subclasses whose methods carry a Chinese one. Models, fields and messages of the same apps are translated by
locale/zh_Hans, their app names by config/third_party_apps.py.
"""

from __future__ import annotations

from typing import Any

# Imported first so that their own registrations exist to be replaced (autodiscovery would
# import them after this module for the apps listed after departments).
import django_tasks_db.admin
from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django_tasks_db.models import DBTaskResult


class ChineseAccessAttemptAdmin(AccessAttemptAdmin):
    @admin.display(description=_("状态"))
    def status(self, obj: AccessAttempt) -> Any:
        return super().status(obj)

    @admin.display(description=_("失效时间"))
    def expiration(self, obj: AccessAttempt) -> Any:
        return super().expiration(obj)


class ChineseTaskResultAdmin(django_tasks_db.admin.DBTaskResultAdmin):
    # task_name is a property of the model; the other two have English descriptions.
    @admin.display(description=_("任务名称"))
    def task_name(self, obj: DBTaskResult) -> Any:
        return obj.task_name

    @admin.display(description=_("错误堆栈"))
    def formatted_traceback(self, obj: DBTaskResult) -> Any:
        return super().formatted_traceback(obj)

    @admin.display(description=_("最早运行时间"))
    def display_run_after(self, obj: DBTaskResult) -> Any:
        return super().display_run_after(obj)


for _model, _model_admin in (
    (AccessAttempt, ChineseAccessAttemptAdmin),
    (DBTaskResult, ChineseTaskResultAdmin),
):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
        admin.site.register(_model, _model_admin)
