"""What imports share: one transaction per file and the words of a row's action."""

from __future__ import annotations

from collections.abc import Callable

from django.db import DatabaseError, IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# The actions of a row in every import's report (each import adds its own, and its "failed").
IMPORT_ACTION_LABELS = {
    "would-create": gettext_lazy("将新建"),
    "would-update": gettext_lazy("将更新"),
    "created": gettext_lazy("已新建"),
    "updated": gettext_lazy("已更新"),
    "unchanged": gettext_lazy("无变化"),
}


class _Rollback(Exception):
    """Undo everything a dry run (or a file with problems) wrote."""


def write_in_one_transaction(write: Callable[[], bool]) -> str | None:
    """Run ``write`` in one transaction, undone when it returns True; a database error in words.

    The contract of every import: a file is written whole or not at all, and a dry run is
    the same run rolled back.
    """
    try:
        with transaction.atomic():
            if write():
                raise _Rollback
    except _Rollback:
        pass
    except (IntegrityError, DatabaseError) as error:
        return _("导入失败，本文件未写入任何数据：%(error)s") % {"error": error}
    return None
