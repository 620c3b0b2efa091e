"""The re-check's forms: the draw, and finance's scores beside the department's."""

from __future__ import annotations

import secrets
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from evaluations.core.fields import HEADER, INDICATOR
from evaluations.core.limits import COMMENT_MAX_LENGTH, REASON_MAX_LENGTH
from rechecks.models import RecheckRule, RecheckRuleSet, RuleEffect
from rechecks.scoring import RecheckFigures, RowEntry, RuleChoice

SCORE = {"max_digits": 7, "decimal_places": 2, "min_value": Decimal("0"), "required": False}


def new_seed() -> int:
    """A fresh seed offered on the draw form (shown, stored, so the draw can be repeated)."""
    return secrets.randbelow(10**9)


class DrawForm(forms.Form):
    year = forms.IntegerField(label=HEADER["year"].label, min_value=2000, max_value=2100)
    share = forms.IntegerField(label=_("抽取比例（%）"), min_value=1, max_value=100, initial=20)
    seed = forms.IntegerField(label=_("随机种子"), min_value=0, max_value=2**62)
    weighted = forms.BooleanField(label=_("按年度资金总额加权"), required=False)


class RecheckForm(forms.Form):
    """Per indicator row (by key) a score, the rule it was chosen by, and an opinion.

    A row scored by a rule takes the score the rule gives its weight and self score (the
    page fills it in; a different score posted with the rule is replaced): the rule decides.
    """

    opinion = forms.CharField(
        label=_("总体复核意见"),
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(
        self, *args, figures: RecheckFigures, choices: list[RuleChoice] = (), **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.figures = figures
        self.choices = {c.value: c for c in choices}
        options = [("", _("手工评分"))] + [(c.value, c.label) for c in choices]
        for row in figures.rows:
            self.fields[f"score_{row.key}"] = forms.DecimalField(
                label=INDICATOR["score"].label, max_value=row.weight, **SCORE
            )
            self.fields[f"rule_{row.key}"] = forms.ChoiceField(
                label=_("复核口径"), required=False, choices=options
            )
            self.fields[f"opinion_{row.key}"] = forms.CharField(
                label=_("复核意见"), required=False, max_length=COMMENT_MAX_LENGTH
            )
        self.fields["execution_score"] = forms.DecimalField(
            label=_("预算执行率得分"),
            max_value=figures.execution_weight,
            disabled=not figures.execution_editable,
            **SCORE,
        )

    def clean(self) -> dict:
        data = super().clean()
        for row in self.figures.rows:
            choice = self.choices.get(data.get(f"rule_{row.key}") or "")
            if choice is not None:
                data[f"score_{row.key}"] = choice.score(row.weight, row.own)
                self.errors.pop(f"score_{row.key}", None)
        return data

    def rows(self) -> dict[str, RowEntry]:
        data = self.cleaned_data
        return {
            r.key: RowEntry(
                score=data[f"score_{r.key}"],
                opinion=data[f"opinion_{r.key}"],
                rule=self.choices.get(data[f"rule_{r.key}"] or ""),
            )
            for r in self.figures.rows
        }

    def typed_scores(self) -> tuple[dict[str, Decimal | None], Decimal | None]:
        """After is_valid(): the scores by row key and the execution score, a wrong one blank."""
        data = self.cleaned_data
        scores = {r.key: data.get(f"score_{r.key}") for r in self.figures.rows}
        return scores, data.get("execution_score")

    def rule_texts(self) -> list[tuple[str, str]]:
        """Each rule of the selects once, as (code, wording): the page's legend of 第N条."""
        seen: dict[str, str] = {}
        for choice in self.choices.values():
            seen.setdefault(choice.code, choice.wording)
        return list(seen.items())

    def typed_opinions(self) -> dict[str, str]:
        """After is_valid(): the row opinions as typed (for the reasons still missing)."""
        return {r.key: self.cleaned_data.get(f"opinion_{r.key}") or "" for r in self.figures.rows}

    def mark_missing_reasons(self, keys: list[str]) -> None:
        """Mark each row's opinion that must state the reason for its deduction."""
        for key in keys:
            self.add_error(f"opinion_{key}", _("扣分须说明理由（注明依据的复核口径）。"))

    def row_fields(self):
        """(figures, score field, rule field, opinion field, rule options) per row."""
        return [
            (
                r,
                self[f"score_{r.key}"],
                self[f"rule_{r.key}"],
                self[f"opinion_{r.key}"],
                [(c, c.score(r.weight, r.own)) for c in self.choices.values()],
            )
            for r in self.figures.rows
        ]


def initial_for(figures: RecheckFigures, opinion: str) -> dict:
    initial: dict = {"opinion": opinion, "execution_score": figures.recheck_execution}
    for r in figures.rows:
        initial[f"score_{r.key}"] = r.recheck
        initial[f"opinion_{r.key}"] = r.opinion
        initial[f"rule_{r.key}"] = r.rule.value if r.rule is not None else ""
    return initial


# Bounds of the free texts finance types on the rule pages (the model's TextFields have none).
RULE_SET_DESCRIPTION_MAX_LENGTH = 2000
RULE_WORDING_MAX_LENGTH = 500


class RuleSetForm(forms.ModelForm):
    """A rule set's name and what its checks ask for."""

    description = forms.CharField(
        label=_("说明"),
        required=False,
        max_length=RULE_SET_DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    class Meta:
        model = RecheckRuleSet
        fields = ["name", "description", "requires_evidence", "execution_threshold"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class RuleForm(forms.ModelForm):
    """One rule of a set; the code is unique within the set."""

    wording = forms.CharField(
        label=_("内容"),
        max_length=RULE_WORDING_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    class Meta:
        model = RecheckRule
        fields = ["code", "wording", "effect", "percentages", "position", "active", "blocks"]
        widgets = {"wording": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, rule_set: RecheckRuleSet, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.instance.rule_set = rule_set

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        taken = RecheckRule.objects.filter(rule_set=self.instance.rule_set, code=code)
        if taken.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("本口径中已有此编号。"))
        return code

    def clean(self) -> dict:
        data = super().clean()
        if data.get("effect") == RuleEffect.PERCENT and not (data.get("percentages") or "").strip():
            self.add_error("percentages", _("按分值比例扣分的口径须填写扣分比例。"))
        return data


class RuleSetCopyForm(forms.Form):
    name = forms.CharField(label=_("新口径名称"), max_length=100)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if RecheckRuleSet.objects.filter(name=name).exists():
            raise forms.ValidationError(_("已有同名的复核口径。"))
        return name
