"""Uploaded files kept in the database between an import preview and its confirmation.

What one user may hold is bounded. A preview lives ``IMPORT_PREVIEW_LIFETIME`` seconds;
the previews of one user hold at most ``IMPORT_PREVIEW_QUOTA`` bytes at once: a new one
first drops that user's oldest previews until it fits (confirming a dropped preview then
says it has expired), and files larger than the quota by themselves are refused by the
upload form before anything is stored (:class:`PreviewTooLarge` here, as a backstop).
Expired previews of every user are deleted on each new upload and by
``manage.py purge_import_previews`` (for cron).

A confirmation claims its batch in one transaction: the rows are locked, their files
read and their data emptied. An emptied row marks a batch being confirmed, so a second
confirmation of the same preview (a double click, two tabs) learns that instead of
importing twice or reporting a failure; the confirming request deletes the rows once
its import is done.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Min, Sum
from django.db.models.functions import Length
from django.utils import timezone

from evaluations.models import ImportUpload

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def upload_lifetime() -> timedelta:
    """How long a preview may be confirmed."""
    return timedelta(seconds=settings.IMPORT_PREVIEW_LIFETIME)


class PreviewTooLarge(Exception):
    """The files of one preview alone are larger than IMPORT_PREVIEW_QUOTA."""


@dataclass(frozen=True)
class StoredPreview:
    """A stored preview: the batch id its confirmation refers to, and what made room."""

    batch: uuid.UUID
    dropped: int = 0  # earlier previews of the user deleted to stay within the quota


class ClaimState(Enum):
    CLAIMED = "claimed"  # the files are yours to import
    CONFIRMED = "confirmed"  # another request is confirming (or has confirmed) this batch
    MISSING = "missing"  # unknown, someone else's, or expired


@dataclass(frozen=True)
class Claim:
    state: ClaimState
    files: list[tuple[str, bytes]] = field(default_factory=list)


def upload_purge_expired() -> int:
    """Delete uploads nobody confirmed in time; returns how many files were dropped."""
    deleted, _ = ImportUpload.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted


@transaction.atomic
def upload_store(*, owner: AbstractBaseUser, files: list[tuple[str, bytes]]) -> StoredPreview:
    """Keep the files of one preview within the owner's quota, dropping their oldest previews."""
    size = sum(len(data) for _name, data in files)
    quota = settings.IMPORT_PREVIEW_QUOTA
    if size > quota:
        raise PreviewTooLarge
    upload_purge_expired()
    # One upload of a user at a time, so two at once cannot both fit in the same room.
    list(get_user_model().objects.select_for_update().filter(pk=owner.pk).values_list("pk"))
    held = list(
        ImportUpload.objects.filter(owner=owner)
        .values("batch")
        .annotate(size=Sum(Length("data")), since=Min("created_at"))
        .filter(size__gt=0)  # batches being confirmed hold nothing
        .order_by("since", "batch")
    )
    total = sum(row["size"] for row in held)
    dropped = []
    for row in held:
        if total + size <= quota:
            break
        dropped.append(row["batch"])
        total -= row["size"]
    if dropped:
        ImportUpload.objects.filter(owner=owner, batch__in=dropped).delete()
    batch = uuid.uuid4()
    expires = timezone.now() + upload_lifetime()
    ImportUpload.objects.bulk_create(
        ImportUpload(batch=batch, owner=owner, name=name[:255], data=data, expires_at=expires)
        for name, data in files
    )
    return StoredPreview(batch=batch, dropped=len(dropped))


@transaction.atomic
def upload_claim(*, owner: AbstractBaseUser, batch: uuid.UUID) -> Claim:
    """Take the owner's files of a batch for import, once: a second claim is told so."""
    rows = list(
        ImportUpload.objects.select_for_update()
        .filter(owner=owner, batch=batch, expires_at__gte=timezone.now())
        .order_by("id")
    )
    if not rows:
        return Claim(ClaimState.MISSING)
    files = [(row.name, bytes(row.data)) for row in rows]
    if not any(data for _name, data in files):
        return Claim(ClaimState.CONFIRMED)
    ImportUpload.objects.filter(pk__in=[row.pk for row in rows]).update(data=b"")
    return Claim(ClaimState.CLAIMED, files)


def upload_discard(*, owner: AbstractBaseUser, batch: uuid.UUID) -> None:
    """Forget a batch once it was imported."""
    ImportUpload.objects.filter(owner=owner, batch=batch).delete()
