"""Tasks for the worker's own tests (tests/exports/test_worker.py): small, with an outcome to see."""

from __future__ import annotations

from pathlib import Path

from django_tasks import task


@task()
def write_marker(path: str, text: str) -> str:
    """Write ``text`` to the file at ``path`` (the test reads it back)."""
    Path(path).write_text(text, encoding="utf-8")
    return text
