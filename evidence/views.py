"""Evidence pages: upload, download (the only way to a stored file) and delete."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from common.http import content_disposition
from evaluations import permissions, selectors
from evaluations.models import Evaluation
from evidence import services
from evidence.forms import upload_formset
from evidence.selectors import evidence_get
from evidence.sniff import FileRefused

logger = logging.getLogger(__name__)

# A message for the user: (messages level, text).
Note = tuple[int, str]

# A file shown in the page runs nothing and loads nothing, whatever it holds.
INLINE_POLICY = (
    "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"
)


def _from_script(request: HttpRequest) -> bool:
    """True for the upload script (static/js/evidence-upload.js), which stays on its page."""
    return request.headers.get("X-Requested-With") == "XMLHttpRequest"


def _answer(request: HttpRequest, evaluation: Evaluation, notes: list[Note]) -> HttpResponse:
    """Back to the page with ``notes`` as messages; the script gets the section instead.

    The script replaces the page's 佐证材料 section in place, so an edit page keeps what was
    typed and not yet saved; its notes are shown there, not left for the next page.
    """
    back = "edit" if request.POST.get("back") == "edit" else "detail"
    if _from_script(request):
        section = render_to_string(
            "evidence/_section_alone.html",
            {"evaluation": evaluation, "back": back},
            request=request,
        )
        return JsonResponse(
            {
                "section": section,
                "messages": [
                    {"level": "danger" if level == messages.ERROR else "success", "text": text}
                    for level, text in notes
                ],
            }
        )
    for level, text in notes:
        messages.add_message(request, level, text)
    return redirect(f"evaluations:{back}", pk=evaluation.pk)


@require_POST
def evidence_upload_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Add the posted files to a draft or returned form."""
    evaluation = selectors.evaluation_get(user=request.user, pk=pk, with_rows=True)
    permissions.require_or_403(permissions.EDIT, request.user, evaluation)
    if not evaluation.is_editable:
        return _answer(request, evaluation, [(messages.ERROR, services.locked_message(evaluation))])
    formset = upload_formset(evaluation, request.POST, request.FILES)
    notes: list[Note] = []
    if not formset.is_valid():
        notes += [(messages.ERROR, str(error)) for error in formset.non_form_errors()]
        for form in formset.forms:
            for errors in form.errors.values():
                notes += [(messages.ERROR, str(error)) for error in errors]
        return _answer(request, evaluation, notes)
    for form in formset.forms:
        upload = form.cleaned_data.get("file")
        if not upload:
            continue
        try:
            evidence = services.evidence_add(
                evaluation=evaluation,
                user=request.user,
                upload=upload,
                caption=form.cleaned_data.get("caption", ""),
                row=form.cleaned_data.get("row", ""),
            )
        except FileRefused as refused:
            notes.append((messages.ERROR, refused.message))
        else:
            notes.append(
                (messages.SUCCESS, _("已上传“%(name)s”。") % {"name": evidence.original_name})
            )
    return _answer(request, evaluation, notes)


@require_POST
def evidence_delete_view(request: HttpRequest, pk: int, file_pk: int) -> HttpResponse:
    """Remove a file from a draft or returned form."""
    evidence = evidence_get(user=request.user, pk=pk, file_pk=file_pk)
    permissions.require_or_403(permissions.EDIT, request.user, evidence.evaluation)
    try:
        services.evidence_delete(evidence=evidence, user=request.user)
    except FileRefused as refused:
        note = (messages.ERROR, refused.message)
    else:
        note = (messages.SUCCESS, _("已删除“%(name)s”。") % {"name": evidence.original_name})
    return _answer(request, evidence.evaluation, [note])


@require_GET
@xframe_options_sameorigin
def evidence_download_view(request: HttpRequest, pk: int, file_pk: int) -> HttpResponse:
    """The stored file, to whoever may see the form; inline only for PDF and images."""
    evidence = evidence_get(user=request.user, pk=pk, file_pk=file_pk)
    inline = request.GET.get("inline") == "1" and evidence.previewable
    try:
        handle = default_storage.open(evidence.stored_name, "rb")
    except FileNotFoundError as error:
        # The row outlived its file (restored from a database backup alone): the path is
        # for the administrator's log, the user reads which file of which form.
        logger.error("evidence %s: stored file %s is missing", evidence.pk, evidence.stored_name)
        raise Http404(evidence.missing_message()) from error
    response = FileResponse(handle, content_type=evidence.content_type)
    response["Content-Length"] = str(evidence.size)
    disposition = content_disposition(
        evidence.original_name, f"evidence-{evidence.pk}.{evidence.kind}"
    )
    if inline:
        disposition = disposition.replace("attachment;", "inline;", 1)
    response["Content-Disposition"] = disposition
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = INLINE_POLICY
    response["Cache-Control"] = "private, no-store"
    if not inline:
        response["X-Frame-Options"] = "DENY"
    return response
