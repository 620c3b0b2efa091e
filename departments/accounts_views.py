"""The accounts import (/people/import/): the administrator uploads, previews, confirms.

Every page is the administrator's (``permissions.MANAGE_PEOPLE``) and answers 404 to
everyone else, as the campaign pages do to all but finance.

What is never kept in clear (``departments.sealed``): the uploaded workbook waiting for its
confirmation (it may hold 初始密码) is stored sealed in the preview table, and the new
accounts' initial passwords, made at confirmation, are kept sealed in the session until
their one download. Each key is sent to the browser only, in the hidden field of the page
that asks for the file back; the database (or a backup of it) alone reveals nothing.
"""

from __future__ import annotations

import base64
import uuid
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.http import XLSX_CONTENT_TYPE
from common.imports import IMPORT_ACTION_LABELS
from departments.accounts_forms import AccountsUploadForm, ConfirmForm, PasswordsForm
from departments.accounts_import import (
    AccountsReport,
    accounts_workbook,
    import_accounts,
    passwords_workbook,
)
from departments.sealed import seal, unseal
from evaluations import permissions
from evaluations.importer.uploads import (
    ClaimState,
    PreviewTooLarge,
    upload_claim,
    upload_discard,
    upload_store,
)

# Stored previews share the form importer's table; their names say which import they are.
UPLOAD_PREFIX = "accounts/"
# The session key of the sealed initial passwords awaiting their one download.
PASSWORDS_SESSION_KEY = "accounts_import_passwords"

ACTION_LABELS = {**IMPORT_ACTION_LABELS, "failed": gettext_lazy("未导入")}


def _require_admin(request: HttpRequest) -> None:
    permissions.require_or_404(permissions.MANAGE_PEOPLE, request.user)


def _report_context(report: AccountsReport) -> dict[str, Any]:
    for row in report.rows:
        row.action_label = ACTION_LABELS.get(row.action, row.action)  # type: ignore[attr-defined]
    counts = {key.replace("-", "_"): report.count(key) for key in ACTION_LABELS}
    return {"report": report, "counts": counts}


@require_GET
def accounts_template(request: HttpRequest) -> HttpResponse:
    """The empty accounts workbook to fill in."""
    _require_admin(request)
    response = HttpResponse(accounts_workbook(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = "attachment; filename*=UTF-8''accounts_template.xlsx"
    return response


@require_http_methods(["GET", "POST"])
def accounts_import(request: HttpRequest) -> HttpResponse:
    """Upload an accounts workbook and preview (dry run) what importing it would do."""
    _require_admin(request)
    form = AccountsUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        name = Path(upload.name or "").name
        data = upload.read()
        key, sealed = seal(data)
        try:
            stored = upload_store(owner=request.user, files=[(UPLOAD_PREFIX + name, sealed)])
        except PreviewTooLarge:
            form.add_error("file", _("文件太大，无法暂存预览。"))
        else:
            report = import_accounts(data=data, name=name, dry_run=True)
            context = _report_context(report)
            context.update({"batch": stored.batch, "key": key, "dry_run": True})
            return render(request, "departments/accounts_import_preview.html", context)
    return render(request, "departments/accounts_import.html", {"form": form})


@require_POST
def accounts_import_confirm(request: HttpRequest) -> HttpResponse:
    """Import the previewed file for real, once however often it is confirmed."""
    _require_admin(request)
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("导入预览已过期或不存在，请重新上传文件。"))
        return redirect("accounts_import:upload")
    batch: uuid.UUID = form.cleaned_data["batch"]
    claim = upload_claim(owner=request.user, batch=batch)
    if claim.state is ClaimState.CONFIRMED:
        messages.info(request, _("此导入已确认过。"))
        return redirect("accounts_import:upload")
    files = claim.files if claim.state is ClaimState.CLAIMED else []
    data = (
        unseal(form.cleaned_data["key"], files[0][1])
        if len(files) == 1 and files[0][0].startswith(UPLOAD_PREFIX)
        else None
    )
    if data is None:
        upload_discard(owner=request.user, batch=batch)
        messages.error(request, _("导入预览已过期或不存在，请重新上传文件。"))
        return redirect("accounts_import:upload")
    try:
        report = import_accounts(data=data, name=files[0][0].removeprefix(UPLOAD_PREFIX))
    finally:
        upload_discard(owner=request.user, batch=batch)
    context = _report_context(report)
    context["dry_run"] = False
    if report.failed:
        messages.error(request, _("导入失败，未写入任何数据：请按下列问题修改文件后重新上传。"))
    else:
        messages.success(
            request,
            _("账号已导入：新建 %(created)s 个，更新 %(updated)s 个，无变化 %(unchanged)s 个。")
            % {
                "created": report.count("created"),
                "updated": report.count("updated"),
                "unchanged": report.count("unchanged"),
            },
        )
    if report.passwords:
        key, sealed = seal(passwords_workbook(report.passwords))
        # The session replaces an earlier import's passwords not yet downloaded: one at a time.
        request.session[PASSWORDS_SESSION_KEY] = base64.b64encode(sealed).decode("ascii")
        context.update({"passwords_key": key, "passwords_count": len(report.passwords)})
    return render(request, "departments/accounts_import_preview.html", context)


@require_POST
def accounts_passwords(request: HttpRequest) -> HttpResponse:
    """The new accounts' initial passwords as a workbook: one download, then they are gone."""
    _require_admin(request)
    form = PasswordsForm(request.POST)
    stored = request.session.get(PASSWORDS_SESSION_KEY)
    data = None
    if form.is_valid() and isinstance(stored, str):
        data = unseal(form.cleaned_data["key"], base64.b64decode(stored))
    if data is None:
        messages.error(
            request,
            _("初始密码已下载过或已失效：请在人员页面为需要的账号重置密码。"),
        )
        return redirect("accounts_import:upload")
    del request.session[PASSWORDS_SESSION_KEY]
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(data, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''initial_passwords_{stamp}.xlsx"
    return response
