"""What the pages of every import share: the words of a row's action, the .xlsx content type."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The actions of a row in every import's report (each import adds its own, and its "failed").
IMPORT_ACTION_LABELS = {
    "would-create": gettext_lazy("将新建"),
    "would-update": gettext_lazy("将更新"),
    "created": gettext_lazy("已新建"),
    "updated": gettext_lazy("已更新"),
    "unchanged": gettext_lazy("无变化"),
}
