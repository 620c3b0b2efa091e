"""Forms of the campaign pages: the campaign, a deadline extension, the due list upload."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaigns.deadlines import today
from campaigns.models import Campaign, DeadlineExtension
from common.forms import XlsxUploadForm
from departments.models import Department
from evaluations.models import Evaluation
from evaluations.rulesets import national_rule_set

PDF_MAGIC = b"%PDF-"


class DateInput(forms.DateInput):
    input_type = "date"


def _not_past(deadline: Any, message: str) -> None:
    """Refuse a deadline before today (the site's local day): nobody could meet it."""
    if deadline is not None and deadline < today():
        raise forms.ValidationError(message % {"today": today().isoformat()})


class CampaignForm(forms.ModelForm):
    """The year's campaign; the notice file must be a PDF within CAMPAIGN_NOTICE_MAX_BYTES.

    A new or changed deadline may not lie in the past (an unchanged one may: last year's
    campaign stays editable); the year is fixed once the campaign has due projects or the
    year has forms, whose sign-off rule and deadlines it decides.
    """

    class Meta:
        model = Campaign
        fields = [
            "year",
            "title",
            "deadline",
            "notice",
            "notice_file",
            "requires_sign_off",
            "allow_unlisted",
            "is_open",
            "scoring_rules",
            "recheck_rules",
        ]
        widgets = {
            "deadline": DateInput(format="%Y-%m-%d"),
            "notice": forms.Textarea(attrs={"rows": 6}),
            "notice_file": forms.ClearableFileInput(attrs={"accept": ".pdf,application/pdf"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Left out (a page or script that does not know the field): the national rule set.
        self.fields["scoring_rules"].required = False
        self.fields["scoring_rules"].empty_label = None

    def clean_scoring_rules(self) -> Any:
        return self.cleaned_data.get("scoring_rules") or (
            self.instance.scoring_rules if self.instance.pk is not None else national_rule_set()
        )

    def clean_year(self) -> Any:
        year = self.cleaned_data.get("year")
        old = self.instance.year if self.instance.pk else None
        if old is not None and year != old:
            if self.instance.projects.exists() or Evaluation.objects.filter(year=old).exists():
                raise forms.ValidationError(
                    _("%(year)s 年度已有应评项目或自评表，不能再修改任务的年度。") % {"year": old}
                )
        return year

    def clean_deadline(self) -> Any:
        deadline = self.cleaned_data.get("deadline")
        if not self.instance.pk or deadline != self.instance.deadline:
            _not_past(deadline, _("截止日期不能早于今天（%(today)s）。"))
        return deadline

    def clean_notice_file(self) -> Any:
        upload = self.cleaned_data.get("notice_file")
        if not isinstance(upload, UploadedFile):
            return upload  # unchanged, or cleared
        limit = settings.CAMPAIGN_NOTICE_MAX_BYTES
        if upload.size is None or upload.size > limit:
            raise forms.ValidationError(
                _("通知文件不能超过 %(limit)s。") % {"limit": filesizeformat(limit)}
            )
        upload.seek(0)
        head = upload.read(len(PDF_MAGIC))
        upload.seek(0)
        if head != PDF_MAGIC:
            raise forms.ValidationError(_("通知文件必须是 PDF 文件。"))
        # The stored name is never the uploader's: it is served only through a view.
        upload.name = f"notice-{uuid.uuid4().hex}.pdf"
        return upload


class ExtensionForm(forms.ModelForm):
    """A later deadline for one department of the campaign."""

    class Meta:
        model = DeadlineExtension
        fields = ["department", "deadline", "reason"]
        widgets = {
            "deadline": DateInput(format="%Y-%m-%d"),
            "reason": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, campaign: Campaign, departments: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        field = self.fields["department"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = departments
        self.fields["reason"].required = True

    def clean_deadline(self) -> Any:
        deadline = self.cleaned_data["deadline"]
        _not_past(deadline, _("延长后的截止日期不能早于今天（%(today)s）。"))
        if deadline <= self.campaign.deadline:
            raise forms.ValidationError(
                _("延长后的截止日期须晚于任务的截止日期（%(deadline)s）。")
                % {"deadline": self.campaign.deadline.isoformat()}
            )
        return deadline


class DueListUploadForm(XlsxUploadForm):
    """One .xlsx file laid out like the due list template."""

    label = gettext_lazy("应评项目清单（.xlsx）")


class ProjectFilterForm(forms.Form):
    """Filters of the due list on the campaign page."""

    department = forms.ModelChoiceField(queryset=Department.objects.none(), required=False)
    q = forms.CharField(required=False, max_length=100)
    page = forms.IntegerField(required=False, min_value=1)

    def __init__(self, *args: Any, departments: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["department"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = departments

    def filters(self) -> dict[str, Any]:
        if not self.is_valid():
            return {"department": None, "q": "", "page": 1}
        department = self.cleaned_data["department"]
        return {
            "department": department.pk if department else None,
            "q": self.cleaned_data["q"] or "",
            "page": self.cleaned_data["page"] or 1,
        }


class RemindForm(forms.Form):
    """The overdue department finance reminds from the campaign page."""

    department = forms.ModelChoiceField(queryset=Department.objects.none())

    def __init__(self, *args: Any, departments: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["department"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = departments
