"""The upload form: a few files at once, each with its caption and row."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from evaluations.models import Evaluation
from evidence.models import FUNDING_ROW

UPLOAD_SLOTS = 3  # rows of the form without JavaScript
MAX_FILES_PER_REQUEST = 10


def row_choices(evaluation: Evaluation) -> list[tuple[str, str]]:
    """Where a file may belong: the whole form, the funding block, or one indicator row."""
    choices = [("", str(_("整张表"))), (FUNDING_ROW, str(_("资金情况")))]
    for position, indicator in enumerate(evaluation.indicators.order_by("position"), start=1):
        choices.append(
            (
                indicator.key,
                str(_("第%(position)s行指标：%(name)s"))
                % {"position": position, "name": indicator.name},
            )
        )
    return choices


def row_labels(evaluation: Evaluation) -> dict[str, str]:
    return dict(row_choices(evaluation))


class EvidenceUploadForm(forms.Form):
    file = forms.FileField(label=_("文件"), required=False)
    caption = forms.CharField(label=_("说明"), max_length=200, required=False)
    row = forms.ChoiceField(label=_("所属行"), required=False)

    def __init__(self, *args: object, evaluation: Evaluation, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["row"].choices = row_choices(evaluation)


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
    return EvidenceUploadFormSet(
        data, files, prefix="evidence", form_kwargs={"evaluation": evaluation}
    )
