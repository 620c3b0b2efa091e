"""Views of the self-evaluations."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from departments.access import visible_evaluations


def evaluation_list(request: HttpRequest) -> HttpResponse:
    """List the evaluations the user may see."""
    evaluations = visible_evaluations(request.user).select_related("department")[:200]
    return render(request, "evaluations/list.html", {"evaluations": evaluations})
