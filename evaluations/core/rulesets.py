"""Scoring rule sets as data: the shipped rule sets, and ScoringRules to and from JSON."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from evaluations.core.categories import TEMPLATES
from evaluations.core.scoring import LESS_IS_BETTER_FORMULAS, LESS_LINEAR, ScoringRules

NATIONAL = "national"
EXECUTION_20 = "execution-20"
BANDS_50 = "bands-50"


@dataclass(frozen=True)
class RuleSetPreset:
    """A rule set that ships with the application (created by a data migration)."""

    code: str
    name: str
    description: str
    rules: ScoringRules


# The shipped rule sets. The data migration writes a copy of these figures; changing one
# here changes neither the stored rule sets nor the forms scored with them.
PRESETS: dict[str, RuleSetPreset] = {
    preset.code: preset
    for preset in (
        RuleSetPreset(
            code=NATIONAL,
            name="全国通用规则",
            description=(
                "预算执行率 10 分；产出 50、效益 30、满意度 10；反向指标（≤）得分 = 分值 × "
                "指标值 ÷ 实际值；定性指标 80–100% / 60–80% / 0–60%。"
                "超额扣分与执行率封顶两项本地规则由服务器设置开启（见部署文档）。"
            ),
            rules=ScoringRules(),
        ),
        RuleSetPreset(
            code=EXECUTION_20,
            name="执行率 20 分（一级指标 70/20/10）",
            description=(
                "预算执行率 20 分；其余 80 分按产出 70%、效益 20%、满意度 10% 分配"
                "（56 / 16 / 8 分）；反向指标（≤）得分 = 分值 × (1 − (实际值 − 指标值) ÷ 指标值)，"
                "实际值达到指标值两倍时为 0。"
            ),
            rules=ScoringRules(
                execution_weight=Decimal(20),
                category_weights={
                    "产出指标": Decimal(56),
                    "效益指标": Decimal(16),
                    "满意度指标": Decimal(8),
                },
                less_is_better=LESS_LINEAR,
            ),
        ),
        RuleSetPreset(
            code=BANDS_50,
            name="定性指标 50 分档",
            description=(
                "同全国通用规则，定性指标分档为 80–100% / 50–80% / 0–50%；"
                "实际值超出指标值 30% 以上扣 2 分；按执行率封顶总分。"
            ),
            rules=ScoringRules(
                qualitative_bands=(Decimal("0.8"), Decimal("0.5")),
                over_achievement_deduction=True,
                execution_rate_cap=True,
            ),
        ),
    )
}


def rules_to_dict(rules: ScoringRules) -> dict[str, Any]:
    """A JSON-ready form of the rules: decimals as strings, pairs as lists."""
    return {
        "execution_weight": str(rules.execution_weight),
        "category_weights": {name: str(w) for name, w in rules.category_weights.items()},
        "total_weight": str(rules.total_weight),
        "less_is_better": rules.less_is_better,
        "qualitative_bands": [str(b) for b in rules.qualitative_bands],
        "over_achievement_deduction": rules.over_achievement_deduction,
        "over_achievement_threshold": str(rules.over_achievement_threshold),
        "over_achievement_points": str(rules.over_achievement_points),
        "execution_rate_cap": rules.execution_rate_cap,
        "execution_rate_caps": [[str(bound), str(cap)] for bound, cap in rules.execution_rate_caps],
        "tolerance": str(rules.tolerance),
        "template": rules.template,
    }


def _decimal(value: Any, what: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(_("%(what)s不是数字：%(value)s") % {"what": what, "value": value}) from exc
    if not number.is_finite():
        raise ValueError(_("%(what)s不是数字：%(value)s") % {"what": what, "value": value})
    return number


def rules_from_dict(data: dict[str, Any]) -> ScoringRules:
    """The rules a dict of ``rules_to_dict`` describes; ValueError (Chinese) when invalid.

    Keys left out keep the national default, so a rule set stored before a rule existed
    reads as it scored.
    """
    base = rules_to_dict(ScoringRules())
    data = {**base, **data}
    try:
        bands = tuple(_decimal(b, _("定性指标分档")) for b in data["qualitative_bands"])
        caps = tuple(
            (_decimal(bound, _("执行率封顶")), _decimal(cap, _("执行率封顶")))
            for bound, cap in data["execution_rate_caps"]
        )
        weights = {
            str(name): _decimal(w, _("一级指标分值"))
            for name, w in data["category_weights"].items()
        }
    except (TypeError, AttributeError) as exc:
        raise ValueError(_("规则格式不正确：%(error)s") % {"error": exc}) from exc
    if len(bands) != 2:
        raise ValueError(_("定性指标分档应为两个下限（如 0.8 和 0.6）。"))
    rules = ScoringRules(
        execution_weight=_decimal(data["execution_weight"], _("预算执行分值")),
        category_weights=weights,
        total_weight=_decimal(data["total_weight"], _("总分值")),
        less_is_better=str(data["less_is_better"]),
        qualitative_bands=(bands[0], bands[1]),
        over_achievement_deduction=bool(data["over_achievement_deduction"]),
        over_achievement_threshold=_decimal(data["over_achievement_threshold"], _("超额比例")),
        over_achievement_points=_decimal(data["over_achievement_points"], _("超额扣分")),
        execution_rate_cap=bool(data["execution_rate_cap"]),
        execution_rate_caps=caps,
        tolerance=_decimal(data["tolerance"], _("容差")),
        template=str(data["template"]),
    )
    problems = rules_problems(rules)
    if problems:
        raise ValueError("；".join(problems))
    return rules


def rules_problems(rules: ScoringRules) -> list[str]:
    """What makes a rule set unusable, in Chinese (empty when it is usable)."""
    problems = []
    weights = rules.execution_weight + sum(rules.category_weights.values(), Decimal(0))
    if weights != rules.total_weight:
        problems.append(
            _("预算执行分值与一级指标分值合计为 %(sum)s，应为总分值 %(total)s。")
            % {"sum": f"{weights.normalize():f}", "total": f"{rules.total_weight.normalize():f}"}
        )
    if any(w < 0 for w in (rules.execution_weight, *rules.category_weights.values())):
        problems.append(_("分值不能为负数。"))
    if rules.template not in TEMPLATES:
        problems.append(_("表样版本“%(template)s”不存在。") % {"template": rules.template})
    else:
        unknown = [n for n in rules.category_weights if n not in TEMPLATES[rules.template]]
        if unknown:
            problems.append(
                _("一级指标“%(names)s”不在该表样版本中。") % {"names": "、".join(unknown)}
            )
    if rules.less_is_better not in LESS_IS_BETTER_FORMULAS:
        problems.append(_("反向指标计分公式不正确。"))
    achieved, partly = rules.qualitative_bands
    if not (0 < partly < achieved < 1):
        problems.append(_("定性指标分档应满足 0 < 部分实现下限 < 实现下限 < 1。"))
    if rules.over_achievement_threshold <= 0 or rules.over_achievement_points < 0:
        problems.append(_("超额比例应大于 0，超额扣分不能为负数。"))
    bounds = [bound for bound, _cap in rules.execution_rate_caps]
    if bounds != sorted(bounds) or any(not 0 < b <= 1 for b in bounds):
        problems.append(_("执行率封顶的执行率应在 0 到 1 之间，从低到高排列。"))
    return problems


def with_local_switches(
    rules: ScoringRules, *, over_achievement_deduction: bool, execution_rate_cap: bool
) -> ScoringRules:
    """The rules with the two local rules switched on where a switch says so."""
    return replace(
        rules,
        over_achievement_deduction=rules.over_achievement_deduction or over_achievement_deduction,
        execution_rate_cap=rules.execution_rate_cap or execution_rate_cap,
    )


def rules_fingerprint(rules: ScoringRules) -> str:
    """A short hash of everything the rules decide: equal fingerprints score alike."""
    text = json.dumps(rules_to_dict(rules), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
