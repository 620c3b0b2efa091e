from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RechecksConfig(AppConfig):
    name = "rechecks"
    verbose_name = _("财政复核")
