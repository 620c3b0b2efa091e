"""Forms of the accounts import (/people/import/): the upload, its confirmation, the passwords."""

from __future__ import annotations

from pathlib import Path

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# A key of departments.sealed: 32 bytes, URL-safe base64.
_KEY_LENGTH = 44


class AccountsUploadForm(forms.Form):
    """One .xlsx file laid out like the accounts template."""

    file = forms.FileField(
        label=gettext_lazy("账号工作簿（.xlsx）"),
        error_messages={"required": gettext_lazy("请选择文件。")},
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        name = Path(upload.name or "").name
        if Path(name).suffix.lower() != ".xlsx":
            raise forms.ValidationError(_("只能导入 .xlsx 文件。"))
        limit = min(settings.IMPORT_MAX_FILE_SIZE, settings.IMPORT_PREVIEW_QUOTA)
        if not upload.size:
            raise forms.ValidationError(_("“%(name)s”是空文件。") % {"name": name})
        if upload.size > limit:
            raise forms.ValidationError(
                _("文件太大（%(size)s），不能超过 %(limit)s。")
                % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)}
            )
        return upload


class ConfirmForm(forms.Form):
    """The previewed upload to import: its batch and the key it is sealed with."""

    batch = forms.UUIDField()
    key = forms.CharField(min_length=_KEY_LENGTH, max_length=_KEY_LENGTH)


class PasswordsForm(forms.Form):
    """The one download of the initial passwords: the key they are sealed with."""

    key = forms.CharField(min_length=_KEY_LENGTH, max_length=_KEY_LENGTH)
