"""The re-check's figures, pure on FormData: finance's scores run through the same engine.

No second scoring code: the re-check total is ``evaluate()`` on a copy of the form whose
indicator scores (and stated execution score) are finance's. The execution score is the
engine's rule 2 whenever the execution rate can be computed from the funding figures (as
for the department); finance's figure counts only when it cannot.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from evaluations.core.evaluation_data import FormData
from evaluations.core.scoring import ScoringRules, evaluate, quantize2
from rechecks.models import RuleEffect

_ZERO = Decimal("0")
_HUNDRED = Decimal(100)


@dataclass(frozen=True)
class RuleChoice:
    """One way to score a row by a rule: the rule, with one of its percentages if it has any."""

    rule_id: int
    code: str
    wording: str
    effect: str
    percent: int | None = None

    @property
    def value(self) -> str:
        """The option's value on the page: "12" or "12:30"."""
        return f"{self.rule_id}:{self.percent}" if self.percent is not None else str(self.rule_id)

    @property
    def label(self) -> str:
        """As the page shows it: 第3条 扣分值的30%, 第1条 得0分, 第5条 不扣分."""
        return _("第%(code)s条 %(effect)s") % {"code": self.code, "effect": self.effect_text}

    @property
    def effect_text(self) -> str:
        if self.effect == RuleEffect.PERCENT:
            return _("扣分值的%(pct)d%%") % {"pct": self.percent or 0}
        if self.effect == RuleEffect.NONE:
            return _("不扣分")
        if self.effect == RuleEffect.ONCE:
            return _("重复只计一次，得0分")
        return _("得0分")

    def score(self, weight: Decimal | None, own: Decimal | None) -> Decimal:
        """The re-check score the rule gives a row of this weight and self score."""
        own = own or _ZERO
        if self.effect == RuleEffect.NONE:
            return own
        if self.effect == RuleEffect.PERCENT:
            cut = (weight or _ZERO) * Decimal(self.percent or 0) / _HUNDRED
            return quantize2(max(own - cut, _ZERO))
        return quantize2(_ZERO)


@dataclass(frozen=True)
class RowEntry:
    """What finance gave one row: the score, the reason, and the rule it was chosen by."""

    score: Decimal | None
    opinion: str
    rule: RuleChoice | None = None


@dataclass(frozen=True)
class RowFigures:
    """One indicator row: the department's score, finance's, and their difference."""

    key: str
    number: int  # 1-based, as printed
    level1: str
    level2: str
    name: str
    weight: Decimal | None
    own: Decimal | None
    recheck: Decimal | None
    opinion: str
    target: str = ""  # 年度指标值, beside the scores: what the score is judged against
    actual: str = ""  # 实际完成值
    rule: RuleChoice | None = None  # the rule the score was chosen by; None: typed

    @property
    def difference(self) -> Decimal:
        """Department's score minus finance's (blank = 0, as the engine counts it)."""
        return quantize2((self.own or _ZERO) - (self.recheck or _ZERO))

    @property
    def deducted(self) -> bool:
        """Finance scored the row below the department: a deduction, which needs a reason."""
        return self.recheck is not None and self.difference > 0

    @property
    def deduction_percent(self) -> Decimal | None:
        """The deduction as a share of the weight, in percent (30.00); None without one."""
        if not self.deducted or not self.weight:
            return None
        return quantize2(self.difference * _HUNDRED / self.weight)

    @property
    def reason_missing(self) -> bool:
        return self.deducted and not self.opinion.strip()


@dataclass(frozen=True)
class RecheckFigures:
    """Everything the re-check page, the PDF and the report show."""

    rows: list[RowFigures]
    execution_weight: Decimal | None
    own_execution: Decimal | None
    recheck_execution: Decimal | None
    execution_editable: bool  # False: rule 2 decides it from the funding figures
    own_total: Decimal
    total: Decimal
    threshold: Decimal

    @property
    def execution_difference(self) -> Decimal:
        return quantize2((self.own_execution or _ZERO) - (self.recheck_execution or _ZERO))

    @property
    def difference(self) -> Decimal:
        """Department's total minus the re-check total (positive: the department scored higher)."""
        return quantize2(self.own_total - self.total)

    @property
    def quality_poor(self) -> bool:
        """自评质量差: the totals differ by MORE than the threshold (exactly at it is not poor)."""
        return quality_poor(self.difference, self.threshold)

    @property
    def reasons_missing(self) -> list[RowFigures]:
        """Rows scored below the department's without a reason: completing is refused."""
        return [r for r in self.rows if r.reason_missing]


def quality_poor(difference: Decimal, threshold: Decimal) -> bool:
    """True when |difference| is strictly above ``threshold``."""
    return abs(difference) > threshold


def recheck_figures(
    form_data: FormData,
    *,
    scores: dict[str, Decimal | None],
    opinions: dict[str, str],
    execution_score: Decimal | None,
    threshold: Decimal,
    rules: ScoringRules | None = None,
    cited: dict[str, RuleChoice] | None = None,
) -> RecheckFigures:
    """The department's figures beside finance's ``scores`` (by row key), and both totals.

    ``cited``: by row key, the rule a score was chosen by.
    """
    cited = cited or {}
    own = evaluate(form_data, rules)
    again = copy.deepcopy(form_data)
    for ind in again.indicators:
        ind.score = scores.get(ind.key)
    again.execution_score = execution_score
    result = evaluate(again, rules)
    own_execution = (
        own.execution_score if own.execution_score is not None else form_data.execution_score
    )
    editable = result.execution_score is None
    rows = [
        RowFigures(
            key=ind.key,
            number=i + 1,
            level1=ind.level1,
            level2=ind.level2,
            name=ind.name,
            weight=ind.weight,
            own=ind.score,
            recheck=scores.get(ind.key),
            opinion=opinions.get(ind.key, ""),
            target=ind.target,
            actual=ind.actual,
            rule=cited.get(ind.key),
        )
        for i, ind in enumerate(form_data.indicators)
    ]
    return RecheckFigures(
        rows=rows,
        execution_weight=form_data.execution_weight,
        own_execution=own_execution,
        recheck_execution=execution_score if editable else result.execution_score,
        execution_editable=editable,
        own_total=own.computed_total,
        total=result.computed_total,
        threshold=threshold,
    )
