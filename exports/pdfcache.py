"""The PDF cache: a form's printed PDF is rendered once per printed state and then reused.

A PDF depends on the form (its content, state, dates and signatures, all of which bump
``revision`` or ``updated_at`` when written), on what is printed beside it (the evidence
list, the published re-check, whether its year has a campaign, the approved targets of its
due project, the department's name, the approver's name), on the settings it prints by
(the scoring rules the form is scored with, the re-check's quality threshold, the bureau's
name PDF_AUTHOR), and on the print templates, stylesheet, fonts, WeasyPrint and how its
fonts are embedded (``common.pdffonts.VERSION``).
``print_key`` hashes all of it; the file is stored under ``pdf-cache/<form id>/<key>.pdf``
in Django's default storage (never served directly: downloads go through views that check
the user). Any write therefore makes the next download render again, without a list of
writers to keep up to date: a write that changes none of these inputs does not change the
printed page either. Older files of the same form are deleted when a new one is stored.

The templates and the stylesheet are fingerprinted automatically (their bytes); bump
``LAYOUT_VERSION`` when something else that shapes the page changes (fonts installed on the
machine, a template of another app the PDF includes).

Single downloads (evaluations/views/exports.py) and bulk exports (exports/jobs.py) both go
through ``cached_pdf_name``; an approved form is rendered in the background when approved
(``render_pdf`` task below, queued by exports/receivers.py when the workflow announces the
approval), so its first download is already cached.

A printed state is rendered once however many processes of one machine ask for it at the
same time: the render holds a lock file on that machine (``VAR_DIR/locks/pdf-<form
id>-<key>.lock``, an ``flock`` that a killed process releases); the others wait for it and
read its file. Processes on different machines are not held back by each other: at worst
two render the same PDF at once, and one copy is kept. Everything else lives in the default
storage only (a local folder or an S3 bucket), so that every machine sees it: the PDFs, and
the marks of renders asked of the task worker (``pdf-cache/<form id>/.<key>.queued``).
A download (``download_pdf``) renders only a form that prints quickly and waits only a few
seconds for another render; anything longer is rendered by the task worker while the page
waits (``pdf_ready``), so a web worker is never held for long by one PDF.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import CharField, Count, Exists, Max, OuterRef, Subquery, Sum
from django.db.models.expressions import RawSQL
from django.template.loader import get_template
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from campaigns.models import Campaign
from common import pdf as printing
from common import pdffonts
from evaluations.core.rulesets import rules_to_dict
from evaluations.mapping import approved_targets
from evaluations.models import Evaluation, EvaluationEvent, EventAction, Status
from evaluations.rules import rules_for
from evaluations.storage import modified_at, save_whole
from exports import compose
from exports.pdf import prints_quickly
from exports.queueing import enqueue
from rechecks.models import Recheck, RecheckStatus
from rechecks.selectors import quality_threshold

logger = logging.getLogger(__name__)

LAYOUT_VERSION = 2  # 2: forms not handed in print no grade
CACHE_DIR = "pdf-cache"
# A download waits at most this long (seconds) for another process's render of the same
# PDF; then the page waits for it instead (a quick form renders in well under a second).
DOWNLOAD_WAIT = 5.0
# How often a waiting process tries the lock again (seconds).
LOCK_POLL = 0.05
# A render asked of the task worker that has not finished after this long (seconds) is
# asked for again: its worker was killed, or the queue lost it.
QUEUED_STALE = 15 * 60
# Everything the printed page is drawn from, besides the form itself.
PRINT_TEMPLATES = (
    "evaluations/pdf/form.html",
    "evidence/pdf/_list.html",
    "rechecks/_pdf_section.html",
)


@lru_cache(maxsize=1)
def layout_fingerprint() -> str:
    """LAYOUT_VERSION, the templates, the stylesheet, WeasyPrint's version, the font embedding."""
    digest = hashlib.sha256(f"{LAYOUT_VERSION}|{version('weasyprint')}|{pdffonts.VERSION}".encode())
    paths: list[Path] = [printing.stylesheet_path()]
    for name in PRINT_TEMPLATES:
        origin = get_template(name).origin.name
        paths.append(Path(origin))
    # Included templates of the form (evaluations/pdf/*.html) count too.
    paths += sorted(Path(paths[1]).parent.glob("*.html"))
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _approver_sql() -> RawSQL:
    """The names of the latest approval's approver, printed in the signature block.

    Raw SQL: the same subquery through the ORM takes about 3 ms more to compile, on every
    cached download (evaluations/signature.py prints the 姓名, ``User.first_name``; the key
    also covers the last name and username, which only renders a file again).
    """
    users = get_user_model()._meta.db_table
    events = EvaluationEvent._meta.db_table
    forms = Evaluation._meta.db_table
    return RawSQL(
        f"(SELECT u.first_name || %s || u.last_name || %s || u.username FROM {events} e"
        f" JOIN {users} u ON u.id = e.actor_id WHERE e.evaluation_id = {forms}.id"
        " AND e.action = %s ORDER BY e.created_at DESC, e.id DESC LIMIT 1)",
        ("|", "|", EventAction.APPROVED.value),
        output_field=CharField(),
    )


def _stamp(evaluation: Evaluation) -> dict:
    """The printed inputs that live outside the form's own row, in one query."""
    done = Recheck.objects.filter(evaluation=OuterRef("pk"), status=RecheckStatus.DONE)
    row = (
        Evaluation.objects.filter(pk=evaluation.pk)
        .annotate(
            evidence_count=Count("evidence"),
            evidence_max=Max("evidence__id"),
            evidence_sum=Sum("evidence__id"),
            recheck_done=Subquery(done.values("completed_at")[:1]),
            year_campaign=Exists(Campaign.objects.filter(year=OuterRef("year"))),
            approver=_approver_sql(),
        )
        .values(
            "revision",
            "updated_at",
            "status",
            "submitted_at",
            "approved_at",
            "department__name",
            "evidence_count",
            "evidence_max",
            "evidence_sum",
            "recheck_done",
            "year_campaign",
            "approver",
        )
        .first()
    )
    if row is None:
        raise Evaluation.DoesNotExist
    return row


def _printed_settings() -> dict:
    """The settings the printed page shows besides the scoring rules."""
    return {
        # The re-check section marks 自评质量差 against the threshold in force.
        "recheck_quality_threshold": str(quality_threshold()),
        # The signature block's review unit (审核单位).
        "pdf_author": settings.PDF_AUTHOR,
    }


def print_key(evaluation: Evaluation) -> str:
    """A name for the form's printed state: equal keys print the same pages."""
    # The rules it is scored with: its campaign's rule set, or the version it recorded.
    rules = rules_for(evaluation)
    stamp = _stamp(evaluation)
    parts = [
        layout_fingerprint(),
        evaluation.pk,
        rules_to_dict(rules),
        _printed_settings(),
        {key: str(value) for key, value in stamp.items()},
        # The due list's approved targets the rows are compared with (批复 notes, warnings).
        [dataclasses.asdict(t) for t in approved_targets(evaluation) or []],
    ]
    text = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def cache_name(evaluation: Evaluation, key: str) -> str:
    return f"{CACHE_DIR}/{evaluation.pk}/{key}.pdf"


def _store(name: str, data: bytes) -> None:
    """Store the file; no reader ever sees half of it (a save appears whole: an upload on
    S3, a hard link of a finished file on disk, common/storage.py)."""
    if not default_storage.exists(name):
        # Rendered on another machine meanwhile: this copy is stored under another name,
        # which _drop_older deletes.
        save_whole(name, ContentFile(data))


def _drop_older(evaluation: Evaluation, keep: str) -> None:
    folder = f"{CACHE_DIR}/{evaluation.pk}"
    try:
        _dirs, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in files:
        if name != keep.rsplit("/", 1)[-1] and not name.startswith("."):
            default_storage.delete(f"{folder}/{name}")


class RenderBusy(Exception):
    """Another process is rendering this PDF and did not finish within the wait."""


class CacheWriteFailed(Exception):
    """The PDF was rendered but could not be stored (a full disk); ``data`` is the PDF."""

    def __init__(self, data: bytes) -> None:
        super().__init__("the rendered PDF could not be stored in the cache")
        self.data = data


class KeptChanging(Exception):
    """The form was written during each of three renders; rendering it later may succeed."""

    def __init__(self, evaluation: Evaluation) -> None:
        super().__init__(
            _("自评表“%(name)s”在生成期间被多次修改，请稍后重试。")
            % {"name": evaluation.project_name}
        )
        self.message = self.args[0]


def _lock_path(evaluation: Evaluation, key: str) -> Path:
    """This machine's lock file of one printed state (never in the default storage, which
    may be an S3 bucket: a lock is a local file)."""
    return Path(settings.VAR_DIR) / "locks" / f"pdf-{evaluation.pk}-{key}.lock"


@contextmanager
def _render_lock(evaluation: Evaluation, key: str, wait: float | None) -> Iterator[None]:
    """Hold the lock of one printed state; RenderBusy after ``wait`` seconds (None: no limit).

    The holder removes the lock file when done, so that files do not pile up; a process
    that waited on the removed file sees that its file is no longer the one at the path and
    locks the path again.
    """
    path = _lock_path(evaluation, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = None if wait is None else time.monotonic() + wait
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if deadline is not None and time.monotonic() >= deadline:
                raise RenderBusy(evaluation.pk) from None
            time.sleep(LOCK_POLL)
            continue
        try:
            current = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            current = False
        if not current:  # removed by the previous holder: lock the file now at the path
            os.close(fd)
            continue
        try:
            yield
        finally:
            path.unlink(missing_ok=True)
            os.close(fd)
        return


def cached_pdf_name(
    evaluation: Evaluation, *, render: bool = True, wait: float | None = None
) -> str | None:
    """The storage name of the form's current PDF, rendered and stored first if missing.

    With ``render=False``, None when the current PDF is not stored yet. When another process
    is rendering the same PDF, waits for it (at most ``wait`` seconds, then RenderBusy) and
    returns its file.
    """
    for _attempt in range(3):
        key = print_key(evaluation)
        name = cache_name(evaluation, key)
        if default_storage.exists(name):
            return name
        if not render:
            return None
        with _render_lock(evaluation, key, wait):
            if default_storage.exists(name):  # rendered by the process we waited for
                return name
            # Rendered from the stored form, whatever copy the caller holds; stored under
            # the key it was rendered from only if that is still the current one (a form
            # written while it rendered is rendered again).
            current = Evaluation.objects.select_related("department").get(pk=evaluation.pk)
            current.year_has_campaign = getattr(  # type: ignore[attr-defined]
                evaluation, "year_has_campaign", None
            )
            data = compose.evaluation_pdf(current)
            if print_key(evaluation) == key:
                try:
                    _store(name, data)
                except OSError as error:
                    logger.exception("the PDF of evaluation %s was not cached", evaluation.pk)
                    raise CacheWriteFailed(data) from error
                _drop_older(evaluation, name)
                return name
    raise KeptChanging(current)


def cached_pdf_bytes(evaluation: Evaluation, *, wait: float | None = None) -> bytes:
    """The form's PDF, from the cache or rendered (and stored) now.

    Prefer it to opening ``cached_pdf_name``'s file: a write to the form and a render by
    another process can delete that file between the lookup and the read; then the PDF is
    looked up (or rendered) again. ``wait`` as for ``cached_pdf_name``.
    """
    for _attempt in range(3):
        try:
            name = cached_pdf_name(evaluation, wait=wait)
        except CacheWriteFailed as failed:
            return failed.data  # rendered: served, though not kept (the failure is logged)
        assert name is not None
        try:
            with default_storage.open(name, "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            continue
    raise RuntimeError(f"the PDF of evaluation {evaluation.pk} kept disappearing")


# --------------------------------------------------------------------------- downloads


def _queued_mark(evaluation: Evaluation, key: str) -> str:
    """The storage name of the mark of a render asked of the task worker: in the default
    storage, so that the worker (on another machine) clears what a web server set."""
    return f"{CACHE_DIR}/{evaluation.pk}/.{key}.queued"


def _queued_lately(mark: str) -> bool:
    written = modified_at(mark)
    return written is not None and timezone.now() - written < timedelta(seconds=QUEUED_STALE)


def _queue_render(evaluation: Evaluation, key: str) -> None:
    """Ask the task worker to render the PDF, unless it was asked already and is at it."""
    mark = _queued_mark(evaluation, key)
    if _queued_lately(mark):
        return
    default_storage.delete(mark)  # a stale mark: written anew, not under another name
    default_storage.save(mark, ContentFile(b""))
    if enqueue(render_pdf, evaluation.pk) is None:
        # Not asked after all: the next download asks again.
        default_storage.delete(mark)


def queue_missing_renders(*, since: datetime) -> int:
    """Queue the render of every form approved since ``since`` whose PDF is not stored.

    The approval queues its form's render after commit; a queue that was down then lost
    that request (exports/queueing.py logs it). Run by ``cleanup_exports``. Returns how many
    renders were queued.
    """
    approved = Evaluation.objects.select_related("department").filter(
        status=Status.APPROVED, approved_at__gte=since
    )
    queued = 0
    for evaluation in approved.iterator(chunk_size=200):
        if cached_pdf_name(evaluation, render=False) is None:
            queued += enqueue(render_pdf, evaluation.pk) is not None
    return queued


def download_pdf(evaluation: Evaluation) -> bytes | None:
    """The form's PDF for a download, or None when the task worker renders it (asked now).

    A web request renders only a form that prints quickly (``prints_quickly``), and waits
    at most DOWNLOAD_WAIT for another process rendering the same PDF.
    """
    key = print_key(evaluation)
    if not default_storage.exists(cache_name(evaluation, key)) and not prints_quickly(evaluation):
        _queue_render(evaluation, key)
        return None
    try:
        return cached_pdf_bytes(evaluation, wait=DOWNLOAD_WAIT)
    except RenderBusy:
        _queue_render(evaluation, key)
        return None
    except KeptChanging:
        # Written during every render (someone saving again and again): the worker renders
        # it later, under the state the waiting page asks about.
        _queue_render(evaluation, print_key(evaluation))
        return None


def pdf_ready(evaluation: Evaluation) -> dict[str, bool]:
    """Whether the form's current PDF is stored, and whether the task worker is asked for it."""
    key = print_key(evaluation)
    if default_storage.exists(cache_name(evaluation, key)):
        return {"ready": True, "queued": False}
    return {"ready": False, "queued": _queued_lately(_queued_mark(evaluation, key))}


@task()
def render_pdf(evaluation_id: int) -> None:
    """Render one form's PDF into the cache: an approved form right after approval, or a
    long form whose download page waits for it (``download_pdf``)."""
    evaluation = Evaluation.objects.select_related("department").filter(pk=evaluation_id).first()
    if evaluation is None:
        return
    try:
        render_queued(evaluation)
    except Exception:
        # Not fatal: the download page says so and offers to try again.
        logger.exception("background render of evaluation %s failed", evaluation_id)


def render_queued(evaluation: Evaluation) -> None:
    """The task worker's render: the form's current PDF (once), then its queue marks cleared.

    A failed render clears them too, so that the waiting page says so instead of waiting.
    """
    try:
        cached_pdf_name(evaluation)
    finally:
        folder = f"{CACHE_DIR}/{evaluation.pk}"
        try:
            _dirs, files = default_storage.listdir(folder)
        except FileNotFoundError:
            files = []
        for name in files:
            if name.startswith(".") and name.endswith(".queued"):
                default_storage.delete(f"{folder}/{name}")
