"""Files nothing refers to: evidence without its row, exports without their job, the PDF
cache's leftovers. A process killed between writing a file and committing its row (or a
render killed mid-write) leaves them; ``cleanup_storage`` deletes those older than a day.

Only files older than the cutoff go: a younger one may belong to an upload or an export
whose row is not committed yet.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.files.storage import default_storage
from django.utils import timezone

from evaluations.models import Evaluation
from evaluations.storage import modified_at
from evidence.models import EvidenceFile
from exports.models import ExportJob
from exports.pdfcache import CACHE_DIR

# The PDF cache's working files: a write in progress (common/storage.py), a render asked of
# the worker (exports/pdfcache.py), a render's lock (kept there by earlier versions). None
# lives for more than minutes.
_CACHE_WORKING = (".tmp", ".lock", ".queued")


@dataclass
class Removed:
    """What one kind of leftover came to: files and bytes."""

    files: int = 0
    bytes: int = 0


@dataclass
class Cleanup:
    """Removed (or, in a dry run, to remove) leftovers by kind."""

    evidence: Removed = field(default_factory=Removed)
    exports: Removed = field(default_factory=Removed)
    cache_working: Removed = field(default_factory=Removed)
    cache_of_deleted_forms: Removed = field(default_factory=Removed)


def _walk(folder: str) -> Iterator[str]:
    """Every file's storage name under ``folder`` (none when it does not exist)."""
    try:
        dirs, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in files:
        yield f"{folder}/{name}"
    for name in dirs:
        yield from _walk(f"{folder}/{name}")


def _old(name: str, cutoff: datetime) -> bool:
    written = modified_at(name)
    return written is not None and written < cutoff  # None: gone since it was listed


def _remove(name: str, tally: Removed, *, dry_run: bool) -> None:
    try:
        size = default_storage.size(name)
    except FileNotFoundError:
        return
    if not dry_run:
        default_storage.delete(name)
    tally.files += 1
    tally.bytes += size


def cleanup_storage(*, dry_run: bool = False, age: timedelta = timedelta(days=1)) -> Cleanup:
    """Delete leftovers older than ``age``; with ``dry_run`` only count them."""
    cutoff = timezone.now() - age
    done = Cleanup()
    evidence = set(EvidenceFile.objects.values_list("stored_name", flat=True))
    for name in _walk("evidence"):
        if name not in evidence and _old(name, cutoff):
            _remove(name, done.evidence, dry_run=dry_run)
    exports = set(ExportJob.objects.exclude(file="").values_list("file", flat=True))
    for name in _walk("exports"):
        if name not in exports and _old(name, cutoff):
            _remove(name, done.exports, dry_run=dry_run)
    forms = {str(pk) for pk in Evaluation.objects.values_list("pk", flat=True)}
    for name in _walk(CACHE_DIR):
        folder, _slash, base = name[len(CACHE_DIR) + 1 :].rpartition("/")
        if folder not in forms:
            tally = done.cache_of_deleted_forms
        elif base.startswith(".") and base.endswith(_CACHE_WORKING):
            tally = done.cache_working
        else:
            continue
        if _old(name, cutoff):
            _remove(name, tally, dry_run=dry_run)
    return done
