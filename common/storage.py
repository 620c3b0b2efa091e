"""The local-disk storage of one machine: Django's, with files that appear whole."""

from __future__ import annotations

import contextlib
import os
import secrets
from typing import Any

from django.core.files.storage import FileSystemStorage


class WholeFileSystemStorage(FileSystemStorage):
    """Django's FileSystemStorage whose saved files appear whole under their name.

    Django writes a file in place, chunk by chunk: a process that finds the name (the PDF
    cache is looked up by name) could read half of it. Here the file is written under a
    hidden temporary name and then hard-linked to its name, which never replaces a file
    that is there (another free name is taken, as Django does). Object storage (S3) gives
    the same by itself: an object is visible only once its upload is complete.
    """

    def _save(self, name: str, content: Any) -> str:
        folder, base = os.path.split(name)
        temporary = os.path.join(folder, f".{base}.{secrets.token_hex(4)}.tmp")
        try:
            temporary = super()._save(temporary, content)
            while True:
                try:
                    os.link(self.path(temporary), self.path(name))
                    return name
                except FileExistsError:
                    name = self.get_available_name(name)
        finally:
            # Written or not (a full disk), the temporary name goes.
            with contextlib.suppress(OSError):
                os.unlink(self.path(temporary))
