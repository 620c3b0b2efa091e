"""Evidence pages: upload, download (the only way to a stored file) and delete."""

from __future__ import annotations

from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from evaluations import permissions, selectors
from evaluations.views.exports import content_disposition
from evidence import services
from evidence.forms import upload_formset
from evidence.selectors import evidence_get
from evidence.sniff import FileRefused

# A file shown in the page runs nothing and loads nothing, whatever it holds.
INLINE_POLICY = (
    "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"
)


def _back(request: HttpRequest, pk: int) -> HttpResponse:
    """Back to the page; the upload script (no redirect to follow) gets the address instead.

    An XMLHttpRequest follows a redirect itself, and the page it fetched would consume the
    messages meant for the page the browser then shows.
    """
    target = "evaluations:edit" if request.POST.get("back") == "edit" else "evaluations:detail"
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        return JsonResponse({"location": reverse(target, kwargs={"pk": pk})})
    return redirect(target, pk=pk)


@require_POST
def evidence_upload_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Add the posted files to a draft or returned form."""
    evaluation = selectors.evaluation_get(user=request.user, pk=pk, with_rows=True)
    permissions.require_or_403(permissions.EDIT, request.user, evaluation)
    if not evaluation.is_editable:
        messages.error(request, services.locked_message(evaluation))
        return _back(request, pk)
    formset = upload_formset(evaluation, request.POST, request.FILES)
    if not formset.is_valid():
        for error in formset.non_form_errors():
            messages.error(request, error)
        for form in formset.forms:
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
        return _back(request, pk)
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
            messages.error(request, refused.message)
        else:
            messages.success(request, _("已上传“%(name)s”。") % {"name": evidence.original_name})
    return _back(request, pk)


@require_POST
def evidence_delete_view(request: HttpRequest, pk: int, file_pk: int) -> HttpResponse:
    """Remove a file from a draft or returned form."""
    evidence = evidence_get(user=request.user, pk=pk, file_pk=file_pk)
    permissions.require_or_403(permissions.EDIT, request.user, evidence.evaluation)
    try:
        services.evidence_delete(evidence=evidence, user=request.user)
    except FileRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("已删除“%(name)s”。") % {"name": evidence.original_name})
    return _back(request, pk)


@require_GET
@xframe_options_sameorigin
def evidence_download_view(request: HttpRequest, pk: int, file_pk: int) -> HttpResponse:
    """The stored file, to whoever may see the form; inline only for PDF and images."""
    evidence = evidence_get(user=request.user, pk=pk, file_pk=file_pk)
    inline = request.GET.get("inline") == "1" and evidence.previewable
    response = FileResponse(
        default_storage.open(evidence.stored_name, "rb"), content_type=evidence.content_type
    )
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
