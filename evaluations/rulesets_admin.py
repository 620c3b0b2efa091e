"""The scoring rule sets in /admin/: the administrator edits them; every edit is a new version."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from evaluations.core.categories import TEMPLATE_LABELS
from evaluations.core.rulesets import rules_from_dict, rules_problems, rules_to_dict
from evaluations.core.scoring import LESS_LINEAR, LESS_RATIO, ScoringRules
from evaluations.rulesets import ScoringRuleSet, ScoringRuleSetVersion, rule_set_save

_HUNDRED = Decimal(100)
LESS_IS_BETTER_LABELS = {
    LESS_RATIO: gettext_lazy("分值 × 指标值 ÷ 实际值（全国通用）"),
    LESS_LINEAR: gettext_lazy("分值 × (1 − (实际值 − 指标值) ÷ 指标值)，实际值为指标值两倍时得 0"),
}


def _points(label: str, **kwargs: Any) -> forms.DecimalField:
    return forms.DecimalField(label=label, max_digits=6, decimal_places=2, min_value=0, **kwargs)


def _pairs(text: str, what: str) -> list[tuple[str, Decimal]]:
    """Lines of "name number" (or "number number")."""
    pairs = []
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.replace("：", " ").replace(":", " ").replace("=", " ").split()
        if not parts:
            continue
        try:
            if len(parts) != 2:
                raise ValueError
            pairs.append((parts[0], Decimal(parts[1])))
        except (ValueError, ArithmeticError):
            raise forms.ValidationError(
                _("%(what)s第 %(n)d 行应为“名称 数字”两项：%(line)s")
                % {"what": what, "n": number, "line": line}
            ) from None
    return pairs


class ScoringRuleSetForm(forms.ModelForm):
    """The rules as fields; saving builds a ScoringRules and checks it."""

    execution_weight = _points(gettext_lazy("预算执行分值"))
    category_weights = forms.CharField(
        label=gettext_lazy("一级指标分值"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("每行一个：一级指标名称 分值，如“产出指标 50”。"),
    )
    total_weight = _points(gettext_lazy("总分值"))
    less_is_better = forms.ChoiceField(
        label=gettext_lazy("反向指标（≤）未达标时的得分"),
        choices=list(LESS_IS_BETTER_LABELS.items()),
    )
    band_achieved = _points(
        gettext_lazy("定性指标“实现”下限（%）"), help_text=gettext_lazy("如 80：实现得 80–100%")
    )
    band_partly = _points(
        gettext_lazy("定性指标“部分实现”下限（%）"),
        help_text=gettext_lazy("如 60：部分实现得 60–80%，未实现 0–60%"),
    )
    over_achievement_threshold = _points(gettext_lazy("超额完成提示比例（%）"))
    over_achievement_deduction = forms.BooleanField(
        label=gettext_lazy("超额完成扣分"), required=False
    )
    over_achievement_points = _points(gettext_lazy("超额完成扣分分数"))
    execution_rate_cap = forms.BooleanField(label=gettext_lazy("按执行率封顶总分"), required=False)
    execution_rate_caps = forms.CharField(
        label=gettext_lazy("执行率封顶"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("每行一个：执行率低于（%） 总分最高，如“50 59”，从低到高。"),
    )
    template = forms.ChoiceField(
        label=gettext_lazy("表样版本"), choices=list(TEMPLATE_LABELS.items())
    )
    note = forms.CharField(
        label=gettext_lazy("修改说明"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy(
            "记入规则的历史版本；修改规则后生成新版本，已按旧版本计分的表不变。"
        ),
    )

    class Meta:
        model = ScoringRuleSet
        fields = ["code", "name", "description"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rules = rules_from_dict(self.instance.rules) if self.instance.rules else ScoringRules()
        achieved, partly = rules.qualitative_bands
        self.initial.update(
            {
                "execution_weight": rules.execution_weight,
                "category_weights": "\n".join(
                    f"{name} {w.normalize():f}" for name, w in rules.category_weights.items()
                ),
                "total_weight": rules.total_weight,
                "less_is_better": rules.less_is_better,
                "band_achieved": achieved * _HUNDRED,
                "band_partly": partly * _HUNDRED,
                "over_achievement_threshold": rules.over_achievement_threshold * _HUNDRED,
                "over_achievement_deduction": rules.over_achievement_deduction,
                "over_achievement_points": rules.over_achievement_points,
                "execution_rate_cap": rules.execution_rate_cap,
                "execution_rate_caps": "\n".join(
                    f"{(bound * _HUNDRED).normalize():f} {cap.normalize():f}"
                    for bound, cap in rules.execution_rate_caps
                ),
                "template": rules.template,
            }
        )
        if self.instance.pk is not None:
            self.fields["code"].disabled = True

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        try:
            weights = _pairs(data["category_weights"], _("一级指标分值"))
            caps = _pairs(data["execution_rate_caps"], _("执行率封顶"))
            self.rules = ScoringRules(
                execution_weight=data["execution_weight"],
                category_weights=dict(weights),
                total_weight=data["total_weight"],
                less_is_better=data["less_is_better"],
                qualitative_bands=(
                    data["band_achieved"] / _HUNDRED,
                    data["band_partly"] / _HUNDRED,
                ),
                over_achievement_deduction=data["over_achievement_deduction"],
                over_achievement_threshold=data["over_achievement_threshold"] / _HUNDRED,
                over_achievement_points=data["over_achievement_points"],
                execution_rate_cap=data["execution_rate_cap"],
                execution_rate_caps=tuple((Decimal(bound) / _HUNDRED, cap) for bound, cap in caps),
                template=data["template"],
            )
        except forms.ValidationError as exc:
            self.add_error(None, exc)
            return data
        for problem in rules_problems(self.rules):
            self.add_error(None, problem)
        changed = self.instance.pk is not None and rules_to_dict(self.rules) != self.instance.rules
        if changed and not data.get("note", "").strip():
            self.add_error("note", _("修改了评分规则，请填写修改说明。"))
        return data


class VersionInline(admin.TabularInline):
    """The history: one row per version, newest first; never edited."""

    model = ScoringRuleSetVersion
    extra = 0
    can_delete = False
    fields = ["number", "created_at", "created_by", "note", "changed", "fingerprint"]
    readonly_fields = fields
    ordering = ["-number"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=gettext_lazy("变更内容"))
    def changed(self, version: ScoringRuleSetVersion) -> str:
        return "；".join(f"{c['key']}: {c['old']} → {c['new']}" for c in version.changes) or "—"


@admin.register(ScoringRuleSet)
class ScoringRuleSetAdmin(admin.ModelAdmin):
    """Edit a rule set; each change of its rules is saved as a new version."""

    form = ScoringRuleSetForm
    list_display = ["name", "code", "newest", "updated_at"]
    inlines = [VersionInline]
    fieldsets = [
        (None, {"fields": ["code", "name", "description"]}),
        (
            gettext_lazy("分值"),
            {"fields": ["execution_weight", "category_weights", "total_weight", "template"]},
        ),
        (
            gettext_lazy("计分"),
            {
                "fields": [
                    "less_is_better",
                    "band_achieved",
                    "band_partly",
                    "over_achievement_threshold",
                    "over_achievement_deduction",
                    "over_achievement_points",
                    "execution_rate_cap",
                    "execution_rate_caps",
                ]
            },
        ),
        (gettext_lazy("本次修改"), {"fields": ["note"]}),
    ]

    @admin.display(description=gettext_lazy("当前版本"))
    def newest(self, rule_set: ScoringRuleSet) -> str:
        version = rule_set.versions.order_by("-number").first()
        if version is None:
            return "—"
        return _("第 %(number)d 版") % {"number": version.number}

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Campaigns and forms point at rule sets and their versions: they are never deleted.
        return False

    def save_model(
        self, request: HttpRequest, obj: ScoringRuleSet, form: ScoringRuleSetForm, change: bool
    ) -> None:
        rule_set_save(
            rule_set=obj, rules=form.rules, user=request.user, note=form.cleaned_data["note"]
        )
