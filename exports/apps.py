from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "exports"
    verbose_name = _("导出")

    def ready(self) -> None:
        """Subscribe to the workflow's announcements (the approved form's PDF)."""
        # Imported here: the receivers import models, which exist only once apps are ready.
        from evaluations.signals import evaluation_transitioned
        from exports.receivers import render_approved

        evaluation_transitioned.connect(render_approved, dispatch_uid="exports.render_approved")
