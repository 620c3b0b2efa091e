"""Forms every import shares: one uploaded .xlsx workbook, checked before it is read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class XlsxUploadForm(forms.Form):
    """One .xlsx file within the import limits; a subclass names it with ``label``."""

    label: str | Promise = gettext_lazy("Excel 工作簿（.xlsx）")

    file = forms.FileField(
        error_messages={"required": gettext_lazy("请选择文件。")},
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].label = self.label

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
