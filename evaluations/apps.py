from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationsConfig(AppConfig):
    name = "evaluations"
    verbose_name = _("绩效自评")

    def ready(self) -> None:
        # Register the rules (evaluations.permissions) before any template asks them:
        # an unregistered rule would quietly answer False in {% test_rule %}.
        from evaluations import permissions  # noqa: F401
