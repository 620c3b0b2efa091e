"""Files in the default storage: out-of-space errors, and saves that leave nothing behind."""

from __future__ import annotations

import contextlib
import errno
import shutil
from datetime import datetime
from pathlib import Path

from django.core.files import File
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _

# A full disk, or the quota of the application's user used up.
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}


def out_of_space(error: BaseException | None) -> bool:
    """Whether the error, or one it was raised from, says the disk or the quota is full."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, OSError) and error.errno in _NO_SPACE:
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False


def out_of_space_message() -> str:
    return _("存储空间不足，请联系管理员")


def save_whole(name: str, content: File) -> str:
    """Save ``content`` under ``name`` (or the free name storage picks); on any failure delete
    what was written before raising, so that a full disk leaves no partial file behind.

    Django's FileSystemStorage leaves the part it wrote when a write fails.
    """
    name = default_storage.get_available_name(name)
    try:
        return default_storage.save(name, content)
    except BaseException:
        # The name is random or unique to its caller: what is there is this save's part.
        with contextlib.suppress(OSError):
            default_storage.delete(name)
        raise


def modified_at(name: str) -> datetime | None:
    """When the stored file was last written; None when there is no such file."""
    try:
        return default_storage.get_modified_time(name)
    except FileNotFoundError:
        return None
    except Exception as error:
        # S3 (django-storages) raises botocore's ClientError for a missing object.
        if _status_of(error) == 404:
            return None
        raise


def _status_of(error: Exception) -> int | None:
    """The HTTP status an object storage answered with, when the error carries one."""
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return None
    return response.get("ResponseMetadata", {}).get("HTTPStatusCode")


def free_bytes() -> int | None:
    """Free bytes (for the application's user) of the file system holding the stored files;
    None on object storage (S3), which has no disk of ours to fill."""
    try:
        folder = Path(default_storage.path(""))
    except NotImplementedError:
        return None
    while not folder.exists() and folder != folder.parent:  # not created before the first file
        folder = folder.parent
    return shutil.disk_usage(folder).free
