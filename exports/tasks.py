"""The background tasks (django-tasks: the same API as ``django.tasks`` in Django 6).

Each task is defined beside the work it runs and queues (so that no module of the exports
has to import this one back): ``render_chunk`` and ``assemble_export`` in exports/jobs.py,
``render_pdf`` in exports/pdfcache.py. This module names them all for the workers and the
queue (tasks queued under these names before they moved still resolve), and holds the one
task nothing else queues. Arguments are ids and numbers only (they travel through the
database or Redis as JSON).
"""

from __future__ import annotations

from django_tasks import task

from exports import jobs
from exports.jobs import assemble_export, render_chunk
from exports.pdfcache import render_pdf

__all__ = ["assemble_export", "cleanup_exports", "render_chunk", "render_pdf"]


@task()
def cleanup_exports() -> dict[str, int]:
    """Expire old export files and restart parts that killed workers left behind."""
    return jobs.cleanup_exports()
