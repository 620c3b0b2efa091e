"""Project-level views: the health checks and the error pages (in Chinese, in the site's layout)."""

from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from evaluations.storage import free_bytes
from exports.workers import worker_last_seen

# Messages the application writes for users are Chinese; Django's own (English, naming
# models: "No Evaluation matches the given query.") are not shown.
_CHINESE = re.compile("[\u4e00-\u9fff]")


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when the database is reachable, 503 otherwise (``?detail=1``: also when the
    media storage is low on space)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    query = HealthQuery(request.GET)
    if query.is_valid() and query.cleaned_data["detail"]:
        # For monitoring, not load balancers: a full disk does not stop reading the forms.
        storage = storage_health()
        if storage["low"]:
            return JsonResponse({"status": "error", "storage": storage}, status=503)
        return JsonResponse({"status": "ok", "storage": storage})
    return JsonResponse({"status": "ok"})


class HealthQuery(forms.Form):
    """``?detail=1``: the answer for monitoring, with the free space of the media storage."""

    detail = forms.BooleanField(required=False)


def storage_health() -> dict:
    """Free bytes of the stored files' file system, and ``low`` under STORAGE_MIN_FREE_BYTES.

    On object storage ``free_bytes`` is null and never low: its quota is the provider's.
    """
    free = free_bytes()
    minimum = settings.STORAGE_MIN_FREE_BYTES
    return {
        "free_bytes": free,
        "min_free_bytes": minimum,
        "low": free is not None and free < minimum,
    }


@login_not_required
@require_GET
def healthz_worker(request: HttpRequest) -> JsonResponse:
    """For monitoring: 200 when a background-task worker was seen lately, 503 otherwise."""
    if settings.TASKS_BACKEND == "immediate":
        return JsonResponse({"status": "ok", "worker": "not needed"})
    try:
        seen = worker_last_seen()
    except Exception:  # noqa: BLE001 - the database (or Redis) is down: no worker can be seen
        return JsonResponse({"status": "error", "worker": "queue unreachable"}, status=503)
    if seen is None:
        return JsonResponse({"status": "error", "worker": "never seen"}, status=503)
    age = int((timezone.now() - seen).total_seconds())
    if age > settings.WORKER_LOST_SECONDS:
        return JsonResponse(
            {"status": "error", "worker": f"not seen for {age} s", "last_seen": seen.isoformat()},
            status=503,
        )
    return JsonResponse({"status": "ok", "last_seen": seen.isoformat()})


def _user_message(exception: Exception | None) -> str:
    """The exception's message when the application wrote it for the user, else ""."""
    args = getattr(exception, "args", ())
    message = args[0] if args else ""
    return str(message) if _CHINESE.search(str(message)) else ""


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """400: a request the application cannot read (a malformed parameter)."""
    context = {"message": _user_message(exception)}
    return render(request, "400.html", context, status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403: signed in, but not allowed."""
    context = {"message": _user_message(exception)}
    return render(request, "403.html", context, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404: no such page, or one the user may not see (other departments' forms)."""
    context = {"message": _user_message(exception)}
    return render(request, "404.html", context, status=404)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """403 on a POST without a valid CSRF token: mostly a page left open past a sign-out."""
    return render(request, "403_csrf.html", status=403)
