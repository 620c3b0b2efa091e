"""Reading a file named on the command line (or by a script) for an import.

Every importer that takes a path reads it here: only a regular file is opened for reading
(never a device such as ``/dev/zero``, a FIFO that would wait for a writer forever, a
socket or a folder), and never more than the import limit plus one byte, whatever the
file claims or does while it is read (a file that grows is refused too). The check is
made on the opened descriptor, not on the name, so the file cannot be swapped between
the check and the read; the open itself does not block (``O_NONBLOCK``), so a FIFO is
refused at once instead of hanging.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from common.archive import megabytes


class LocalFileRefused(Exception):
    """The path cannot be imported; the message says why, in Chinese."""


def read_local_file(path: str | Path, *, limit: int | None = None) -> bytes:
    """The bytes of the regular file at ``path``, refused when over ``limit`` bytes."""
    limit = settings.IMPORT_MAX_FILE_SIZE if limit is None else limit
    too_large = _("文件超过 %(limit)s（单个文件的上限），未读取。") % {"limit": megabytes(limit)}
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as error:
        raise LocalFileRefused(
            _("无法打开文件：%(error)s") % {"error": error.strerror or error}
        ) from error
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise LocalFileRefused(
                _(
                    "不是普通文件（设备、管道、套接字或文件夹），未读取：请给出 .txt、.xlsx 或 .docx 文件。"
                )
            )
        if info.st_size > limit:
            raise LocalFileRefused(too_large)
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb", buffering=0) as file:
        os.set_blocking(file.fileno(), True)
        chunks = []
        remaining = limit + 1
        while remaining > 0:
            chunk = file.read(min(remaining, 1024 * 1024))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        if remaining <= 0:  # the file grew past the limit while it was read
            raise LocalFileRefused(too_large)
        return b"".join(chunks)
