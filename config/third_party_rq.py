"""django_rq (installed with TASKS_BACKEND=rq only) in Chinese, as config/third_party_apps.py does.

Apart from that module so that the database queue, the default, never imports RQ. The
dashboard's own pages (queues, jobs, workers) are English templates of django_rq's, which no
catalogue reaches.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django_rq.apps import DjangoRqAdminConfig


class RQConfig(DjangoRqAdminConfig):
    """django_rq: its admin entry (the RQ dashboard) under Chinese names."""

    verbose_name = _("任务队列（RQ）")

    def ready(self) -> None:
        super().ready()
        from django_rq.models import Dashboard  # models: now ready

        # Migrations are made from the Meta as written (Options.original_attrs): no new one.
        Dashboard._meta.verbose_name = _("队列状态")
        Dashboard._meta.verbose_name_plural = _("队列状态")
        # The permission's name is stored when migrate first creates it (on a new database).
        Dashboard._meta.permissions = (("admin", _("进入队列状态页")),)
