"""Uploaded files kept in the database between an import preview and its confirmation."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from evaluations.models import ImportUpload

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

# How long a preview may be confirmed.
UPLOAD_LIFETIME = timedelta(hours=2)


def upload_purge_expired() -> int:
    """Delete uploads nobody confirmed in time; returns how many files were dropped."""
    deleted, _ = ImportUpload.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted


@transaction.atomic
def upload_store(*, owner: AbstractBaseUser, files: list[tuple[str, bytes]]) -> uuid.UUID:
    """Keep the files of one preview; returns the batch id the confirmation refers to."""
    upload_purge_expired()
    batch = uuid.uuid4()
    expires = timezone.now() + UPLOAD_LIFETIME
    ImportUpload.objects.bulk_create(
        ImportUpload(batch=batch, owner=owner, name=name[:255], data=data, expires_at=expires)
        for name, data in files
    )
    return batch


def upload_load(*, owner: AbstractBaseUser, batch: uuid.UUID) -> list[tuple[str, bytes]]:
    """The owner's files of a batch that has not expired (empty when unknown or expired)."""
    rows = ImportUpload.objects.filter(
        owner=owner, batch=batch, expires_at__gte=timezone.now()
    ).order_by("id")
    return [(row.name, bytes(row.data)) for row in rows]


def upload_discard(*, owner: AbstractBaseUser, batch: uuid.UUID) -> None:
    """Forget a batch once it was imported."""
    ImportUpload.objects.filter(owner=owner, batch=batch).delete()
