"""Stored files in tests through the storage API only, and a storage without local paths
(TEST_STORAGE=memory) to run them on."""

from __future__ import annotations

import os

from django.core.files.storage import InMemoryStorage, default_storage
from django.utils._os import safe_join


class NoPathInMemoryStorage(InMemoryStorage):
    """Django's in-memory storage whose ``path()`` raises, as S3's does.

    Django's own answers a path under MEDIA_ROOT where nothing is: code that writes there
    would seem to work. Inside, names are still checked and mapped as Django does.
    """

    def path(self, name: str) -> str:
        raise NotImplementedError("This backend doesn't support absolute paths.")

    def _relative_path(self, name: str) -> str:
        return os.path.relpath(safe_join(self.location, name), self.location)


def stored_names(folder: str) -> list[str]:
    """Every stored file's name under ``folder``, in any storage (none when it is absent)."""
    try:
        dirs, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return []
    names = [f"{folder}/{name}" for name in files]
    for name in dirs:
        names += stored_names(f"{folder}/{name}")
    return sorted(names)


def stored_bytes(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        return handle.read()
