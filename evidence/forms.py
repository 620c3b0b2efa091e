"""The upload form: a few files at once, each with its caption and row."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.utils.translation import gettext_lazy as _

from evidence.selectors import row_choices

if TYPE_CHECKING:
    from evaluations.models import Evaluation

UPLOAD_SLOTS = 3  # rows of the form without JavaScript
MAX_FILES_PER_REQUEST = 10


class EvidenceUploadForm(forms.Form):
    file = forms.FileField(label=_("文件"), required=False)
    caption = forms.CharField(label=_("说明"), max_length=200, required=False)
    row = forms.ChoiceField(label=_("所属行"), required=False)

    def __init__(self, *args: object, rows: list[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["row"].choices = rows


class BaseUploadFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        super().clean()
        if not any(f.cleaned_data.get("file") for f in self.forms if hasattr(f, "cleaned_data")):
            raise forms.ValidationError(_("请选择至少一个文件。"))


EvidenceUploadFormSet = forms.formset_factory(
    EvidenceUploadForm,
    formset=BaseUploadFormSet,
    extra=UPLOAD_SLOTS,
    max_num=MAX_FILES_PER_REQUEST,
    absolute_max=MAX_FILES_PER_REQUEST,
    validate_max=True,
)


def upload_formset(evaluation: Evaluation, data=None, files=None) -> forms.BaseFormSet:  # noqa: ANN001
    # The rows are read once for all the slots (row_choices() is a query).
    return EvidenceUploadFormSet(
        data, files, prefix="evidence", form_kwargs={"rows": row_choices(evaluation)}
    )
