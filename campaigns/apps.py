from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = _("自评任务")

    def ready(self) -> None:
        # A reminder counts as mailed when its mail is sent, whoever sent it (the worker, the
        # sweep or send_reminders).
        from campaigns.reminders import record_mailed  # apps are loaded only now
        from evaluations.mail import mail_sent

        mail_sent.connect(record_mailed, dispatch_uid="campaigns.record_mailed")
