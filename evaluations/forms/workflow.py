"""Forms of the review workflow and of every query string: nothing a user sends is read raw.

Each view reads its GET and POST parameters through one of these forms. A field that does
not validate is ignored (filters) or answered with 400 (required parameters), never with
a 500: numbers are ASCII digits within the range the database can hold, so "²" (which
``str.isdigit()`` accepts and ``int()`` refuses) or a 5,000-digit year never reaches
``int()`` or a query.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from common.http import StrictIntegerField, id_field, parse_integer, year_field
from common.safetext import clean_text
from evaluations.core.fields import FUNDING_ORDER
from evaluations.core.layout import funding_label
from evaluations.core.limits import COMMENT_MAX_LENGTH, REASON_MAX_LENGTH
from evaluations.models import Status

MAX_PAGE = 10**9


def page_field(**kwargs: Any) -> StrictIntegerField:
    """A page number (the paginator shows the last page for one past the end)."""
    return StrictIntegerField(min_value=1, max_value=MAX_PAGE, **kwargs)


def parse_revision(value: Any) -> int | None:
    """The edit page's hidden revision, or None when missing or malformed (a stale copy)."""
    return parse_integer(StrictIntegerField(min_value=0, max_value=2**31 - 1), value)


class WorkflowTextField(forms.CharField):
    """A reason, comment or explanation: control characters removed, at most ``max_length``.

    The length is checked on the server only (no ``maxlength`` attribute), so a browser
    never cuts pasted text silently: the page comes back with the text and the limit.
    """

    def __init__(self, *, max_length: int, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        error_messages = {
            "max_length": _("最多 %(limit_value)d 字（现有 %(show_value)d 字），请删减后再提交。"),
            **kwargs.pop("error_messages", {}),
        }
        super().__init__(max_length=max_length, error_messages=error_messages, **kwargs)

    def to_python(self, value: Any) -> str:
        if isinstance(value, str):
            # Browsers post a textarea's line breaks as CRLF but count them as one character.
            value = clean_text(value.replace("\r\n", "\n"))
        return super().to_python(value)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs.pop("maxlength", None)
        attrs["data-maxlength"] = str(self.max_length)
        return attrs


def _comment_widget(label: str) -> forms.Textarea:
    return forms.Textarea(
        attrs={"class": "form-control form-control-sm", "rows": 1, "aria-label": label}
    )


# --- query strings --------------------------------------------------------------------------


class DashboardFilterForm(forms.Form):
    """The dashboard's ?year= (none: the latest year with data)."""

    year = year_field()


class BulkExportForm(forms.Form):
    """What a bulk download covers: a year, optionally one department and one status."""

    year = year_field(required=True, error_messages={"required": _("请选择要导出的年度。")})
    department = id_field(error_messages={"invalid": _("主管部门参数无效。")})
    status = forms.ChoiceField(
        required=False,
        choices=[("", ""), *Status.choices],
        error_messages={"invalid_choice": _("状态参数无效。")},
    )

    def first_error(self) -> str:
        """The first problem, for a 400 answer."""
        for name in ("year", "department", "status"):
            if name in self.errors:
                return str(self.errors[name][0])
        return gettext("参数无效。")


# --- workflow POSTs ---------------------------------------------------------------------------


class SubmitForm(forms.Form):
    """The submission page: for each warning an acknowledgement box and an explanation.

    ``carried`` (warning_key → explanation) are warnings acknowledged at the previous
    submission and unchanged since: they start ticked, with that explanation, and can
    still be changed.
    """

    def __init__(
        self,
        *args: Any,
        warning_keys: Iterable[str],
        carried: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.warning_keys = list(warning_keys)
        carried = carried or {}
        for key in self.warning_keys:
            self.fields[f"ack-{key}"] = forms.BooleanField(required=False, initial=key in carried)
            self.fields[f"comment-{key}"] = WorkflowTextField(
                max_length=COMMENT_MAX_LENGTH, label=_("说明"), initial=carried.get(key, "")
            )

    def acknowledgements(self) -> dict[str, str]:
        """warning_key → explanation, for every warning ticked or explained."""
        acks = {}
        for key in self.warning_keys:
            comment = self.cleaned_data.get(f"comment-{key}", "").strip()
            if self.cleaned_data.get(f"ack-{key}") or comment:
                acks[key] = comment
        return acks


class ReturnForm(forms.Form):
    """A return: the reason and a comment per indicator row and per funding row.

    Only rows the form has are fields; anything else posted (``comment-indicator-²``,
    a row that does not exist) is ignored.
    """

    reason = WorkflowTextField(
        max_length=REASON_MAX_LENGTH,
        required=True,
        label=_("退回原因"),
        error_messages={"required": _("退回时必须填写退回原因。")},
        widget=forms.Textarea(attrs={"class": "form-control mb-2", "rows": 3}),
    )

    def __init__(
        self, *args: Any, indicator_count: int, evidence_ids: Iterable[int] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.indicator_count = indicator_count
        self.evidence_ids = list(evidence_ids)
        for pk in self.evidence_ids:
            label = gettext("对此佐证材料的意见")
            self.fields[f"comment-evidence-{pk}"] = WorkflowTextField(
                max_length=COMMENT_MAX_LENGTH, label=label, widget=_comment_widget(label)
            )
        for number in range(1, indicator_count + 1):
            label = gettext("第%(n)s行意见") % {"n": number}
            self.fields[f"comment-indicator-{number}"] = WorkflowTextField(
                max_length=COMMENT_MAX_LENGTH, label=label, widget=_comment_widget(label)
            )
        for kind in FUNDING_ORDER:
            # Each funding row's box is named by its row: four boxes of one name would be
            # four "资金行意见" to a screen reader.
            label = gettext("%(row)s意见") % {"row": funding_label(kind)}
            self.fields[f"comment-funding-{kind}"] = WorkflowTextField(
                max_length=COMMENT_MAX_LENGTH, label=label, widget=_comment_widget(label)
            )

    def comments(self) -> list[dict[str, Any]]:
        """The row comments in the shape ``workflow.evaluation_return`` takes."""
        comments: list[dict[str, Any]] = []
        for number in range(1, self.indicator_count + 1):
            text = self.cleaned_data.get(f"comment-indicator-{number}", "")
            if text.strip():
                comments.append({"target": "indicator", "position": number, "text": text})
        for kind in FUNDING_ORDER:
            text = self.cleaned_data.get(f"comment-funding-{kind}", "")
            if text.strip():
                comments.append({"target": "funding", "funding_kind": kind, "text": text})
        for pk in self.evidence_ids:
            text = self.cleaned_data.get(f"comment-evidence-{pk}", "")
            if text.strip():
                comments.append({"target": "evidence", "evidence": pk, "text": text})
        return comments


class ApproveForm(forms.Form):
    """The bureau's approval, confirmed on its own page, with an optional comment.

    Without ``confirm`` (a POST from anywhere but the confirmation page) nothing is approved.
    """

    reason = WorkflowTextField(
        max_length=REASON_MAX_LENGTH,
        label=_("审核意见（可选，部门可见）"),
        widget=forms.Textarea(attrs={"class": "form-control mb-3", "rows": 3}),
    )
    confirm = forms.BooleanField(
        required=True,
        widget=forms.HiddenInput,
        error_messages={"required": _("请在确认页面上确认审核通过。")},
    )


class ReopenForm(forms.Form):
    """Reopening an approved form: the reason, recorded in the history."""

    reason = WorkflowTextField(
        max_length=REASON_MAX_LENGTH,
        required=True,
        label=_("原因"),
        error_messages={"required": _("重新开放时必须填写原因。")},
        widget=forms.Textarea(attrs={"class": "form-control mb-3", "rows": 3}),
    )
