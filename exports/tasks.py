"""The background tasks (django-tasks: the same API as ``django.tasks`` in Django 6).

Thin wrappers: the work and its bookkeeping are in exports/jobs.py and exports/pdfcache.py,
so that a test, a management command or a task runs the same code. Arguments are ids and
numbers only (they travel through the database or Redis as JSON).
"""

from __future__ import annotations

import logging

from django_tasks import task

from exports import jobs

logger = logging.getLogger(__name__)


@task()
def render_chunk(chunk_id: int, attempt: int) -> None:
    """Render one chunk of an export's forms into the PDF cache."""
    jobs.run_chunk(chunk_id, attempt)


@task()
def assemble_export(job_id: int, attempt: int, assemble_try: int) -> None:
    """Write an export's file from the PDF cache (or the Excel workbook)."""
    jobs.run_assemble(job_id, attempt, assemble_try)


@task()
def render_pdf(evaluation_id: int) -> None:
    """Render one form's PDF into the cache: an approved form right after approval, or a
    long form whose download page waits for it (exports/pdfcache.py ``download_pdf``)."""
    from evaluations.models import Evaluation
    from exports.pdfcache import render_queued

    evaluation = Evaluation.objects.select_related("department").filter(pk=evaluation_id).first()
    if evaluation is None:
        return
    try:
        render_queued(evaluation)
    except Exception:
        # Not fatal: the download page says so and offers to try again.
        logger.exception("background render of evaluation %s failed", evaluation_id)


@task()
def cleanup_exports() -> dict[str, int]:
    """Expire old export files and restart parts that killed workers left behind."""
    return jobs.cleanup_exports()
