"""Scoring engine: rule-based scores and validation findings for one FormData (no database)."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Context, Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from evaluations.core import formats
from evaluations.core.approvals import missing_targets, with_approved_targets
from evaluations.core.categories import DEFAULT_TEMPLATE
from evaluations.core.evaluation_data import FormData, FundingData, IndicatorData, RecheckContext
from evaluations.core.fields import FUNDING_PART_OF
from evaluations.core.recheck_checks import HINTS, recheck_checks
from evaluations.core.values import (
    LESS_IS_BETTER,
    ParsedValue,
    compare_dates,
    parse_value,
    unit_factor,
)

ERROR = "error"
WARNING = "warning"
# Shown beside the row, asks for nothing at submission (the re-check rules' judgements).
HINT = "hint"

WEIGHTS_NOT_100 = "WEIGHTS_NOT_100"
SCORE_EXCEEDS_WEIGHT = "SCORE_EXCEEDS_WEIGHT"
FUNDING_SCORE_MISMATCH = "FUNDING_SCORE_MISMATCH"
TOTAL_MISMATCH = "TOTAL_MISMATCH"
TOTAL_MISSING = "TOTAL_MISSING"
DEVIATION_MISSING = "DEVIATION_MISSING"
CATEGORY_MISSING = "CATEGORY_MISSING"
CATEGORY_WEIGHTS_NOT_STANDARD = "CATEGORY_WEIGHTS_NOT_STANDARD"
SCORE_DIFFERS_FROM_RULE = "SCORE_DIFFERS_FROM_RULE"
FUNDS_NOT_SUMMED = "FUNDS_NOT_SUMMED"
OVER_ACHIEVEMENT = "OVER_ACHIEVEMENT"
EXECUTION_OVER_100 = "EXECUTION_OVER_100"
EXECUTION_UNEXPLAINED = "EXECUTION_UNEXPLAINED"
TARGET_CHANGED = "TARGET_CHANGED"
TARGET_MISSING = "TARGET_MISSING"
NOT_IN_DUE_LIST = "NOT_IN_DUE_LIST"

# Warnings that need a written reason at submission, not only a tick: what auditors look for.
EXPLANATION_REQUIRED = frozenset({TARGET_CHANGED, TARGET_MISSING})

FUNDING_TOTAL = "total"
COST_CATEGORY = "成本指标"
OUTPUT_CATEGORY = "产出指标"

_ZERO = Decimal(0)
_ONE = Decimal(1)
_TWO_PLACES = Decimal("0.01")
_FOUR_PLACES = Decimal("0.0001")
# Deviation cells that say nothing ("/", "无") do not explain anything.
_BLANK_DEVIATIONS = {"", "/", "-", "—", "——", "无", "无。"}


# Wide enough that quantizing an absurd imported figure cannot raise InvalidOperation.
_WIDE = Context(prec=100)


def quantize2(value: Decimal) -> Decimal:
    """Round to two decimals, half up, as the printed form does."""
    return value.quantize(_TWO_PLACES, rounding=ROUND_HALF_UP, context=_WIDE)


def _quantize4(value: Decimal) -> Decimal:
    return value.quantize(_FOUR_PLACES, rounding=ROUND_HALF_UP, context=_WIDE)


def format_percent(rate: Decimal | None) -> str:
    """Show a fraction as a percentage with two decimals: 0.822142 -> "82.21%"."""
    return formats.format_percent(rate)


# Values typed on a page that could not be read ("十分" as a weight) are "not given": not
# blank (which counts as 0) but unknown, so no finding is drawn from them. They are named
# by these paths in ``evaluate(..., unreadable=...)``.


def header_path(name: str) -> str:
    """Path of a header value ("execution_weight")."""
    return name


def funding_path(kind: str, name: str) -> str:
    """Path of a funding row's amount ("funding.total.executed")."""
    return f"funding.{kind}.{name}"


def indicator_path(index: int, name: str) -> str:
    """Path of an indicator row's value; ``index`` as in ``FormData.indicators``."""
    return f"indicators.{index}.{name}"


def _fmt(value: Decimal | None) -> str:
    return "—" if value is None else str(quantize2(value))


def _fmt_plain(value: Decimal) -> str:
    """Show a rule constant without trailing zeros: 100, 50, 2."""
    return f"{value.normalize():f}"


@dataclass(frozen=True)
class Finding:
    """One validation result with its location (indicator row index or funding kind)."""

    code: str
    severity: str
    message: str
    indicator: int | None = None
    funding: str | None = None

    def as_dict(self) -> dict[str, str | int | None]:
        """Return a JSON-ready dict."""
        return {
            "code": self.code,
            "severity": self.severity,
            "message": str(self.message),
            "indicator": self.indicator,
            "funding": self.funding,
        }


def _standard_category_weights() -> dict[str, Decimal]:
    return {"产出指标": Decimal(50), "效益指标": Decimal(30), "满意度指标": Decimal(10)}


def _standard_rate_caps() -> tuple[tuple[Decimal, Decimal], ...]:
    # (rate below, cap): the first bound the rate is below gives the cap.
    return (
        (Decimal("0.5"), Decimal(59)),
        (Decimal("0.6"), Decimal(69)),
        (Decimal("0.7"), Decimal(79)),
        (Decimal("0.8"), Decimal(89)),
    )


# How a missed "less is better" target (≤: a cost, a time limit) is scored, as a share of
# its weight. National guidance: target / actual. Other systems: 1 − (actual − target) /
# target, which reaches 0 at twice the target.
LESS_RATIO = "ratio"
LESS_LINEAR = "linear"
LESS_IS_BETTER_FORMULAS = (LESS_RATIO, LESS_LINEAR)


def _standard_bands() -> tuple[Decimal, Decimal]:
    # Lower bounds of "achieved" and "partly achieved": 80–100%, 60–80%, 0–60% of the weight.
    return (Decimal("0.8"), Decimal("0.6"))


@dataclass(frozen=True)
class ScoringRules:
    """One rule set: national defaults plus the switchable local rules (off by default).

    Stored, versioned rule sets (evaluations/rulesets.py) are this dataclass as data; the
    scoring takes it as an argument and never looks anything up.
    """

    over_achievement_deduction: bool = False
    over_achievement_threshold: Decimal = Decimal("0.30")
    over_achievement_points: Decimal = Decimal(2)
    execution_rate_cap: bool = False
    execution_rate_caps: tuple[tuple[Decimal, Decimal], ...] = field(
        default_factory=_standard_rate_caps
    )
    category_weights: dict[str, Decimal] = field(default_factory=_standard_category_weights)
    execution_weight: Decimal = Decimal(10)
    total_weight: Decimal = Decimal(100)
    tolerance: Decimal = Decimal("0.01")
    less_is_better: str = LESS_RATIO
    qualitative_bands: tuple[Decimal, Decimal] = field(default_factory=_standard_bands)
    # The category lists (一级/二级指标) of new forms: a key of core/categories.TEMPLATES.
    template: str = DEFAULT_TEMPLATE

    def rate_cap(self, rate: Decimal | None) -> Decimal | None:
        """Highest total allowed for this execution rate, or None when not capped."""
        if not self.execution_rate_cap or rate is None:
            return None
        for bound, cap in self.execution_rate_caps:
            if rate < bound:
                return cap
        return None

    def qualitative_range(self, weight: Decimal, grade: str) -> tuple[Decimal, Decimal]:
        """(lowest, highest) score of a qualitative indicator graded ``grade`` (rule 4)."""
        achieved, partly = self.qualitative_bands
        low, high = {
            ACHIEVED: (achieved, _ONE),
            PARTLY_ACHIEVED: (partly, achieved),
            NOT_ACHIEVED: (_ZERO, partly),
        }[grade]
        return quantize2(weight * low), quantize2(weight * high)


# The three grades of a qualitative indicator (rule 4).
ACHIEVED = "achieved"
PARTLY_ACHIEVED = "partly"
NOT_ACHIEVED = "not"


@dataclass
class IndicatorResult:
    """What the rules say about one indicator row."""

    index: int
    target: ParsedValue
    actual: ParsedValue
    quantitative: bool  # the target is a number or a date
    suggested_score: Decimal | None  # None: qualitative, or not comparable, or late date
    achievement: Decimal | None = None  # ratio, >= 1 means met (target/actual for <=)
    over_achieved: bool = False
    comparable: bool = False  # target and actual could be compared automatically
    met: bool | None = None
    more_is_better: bool | None = None
    category: str = ""  # normalised 一级指标, inherited from the row above when blank
    deduction: Decimal = _ZERO  # points the local over-achievement rule takes off the total
    effective_score: Decimal = _ZERO  # stated score (blank = 0) minus deduction


@dataclass
class ScoreResult:
    """Everything evaluate() computes for one form."""

    execution_rate: Decimal | None  # fraction, 4 decimals (0.8221)
    execution_score: Decimal | None  # rule 2, 2 decimals
    indicators: list[IndicatorResult]
    indicator_score_sum: Decimal  # stated indicator scores, blank = 0
    indicator_weight_sum: Decimal
    weight_sum: Decimal  # execution weight + indicator weights
    computed_total: Decimal
    findings: list[Finding]
    annual_budget: Decimal | None = None  # total row, or sum of sources when it is missing
    executed: Decimal | None = None
    deductions: Decimal = _ZERO
    total_cap: Decimal | None = None  # cap applied by the local execution-rate rule

    @property
    def execution_rate_display(self) -> str:
        """Execution rate as shown on the form ("82.21%")."""
        return format_percent(self.execution_rate)

    @property
    def errors(self) -> list[Finding]:
        """Findings that block submission."""
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        """Findings that need an explanation but do not block."""
        return [f for f in self.findings if f.severity == WARNING]

    @property
    def has_errors(self) -> bool:
        """True when the form may not be submitted."""
        return any(f.severity == ERROR for f in self.findings)

    @property
    def codes(self) -> list[str]:
        """Finding codes in order (handy for tests and logs)."""
        return [f.code for f in self.findings]

    def findings_for_indicator(self, index: int) -> list[Finding]:
        """Findings located on one indicator row."""
        return [f for f in self.findings if f.indicator == index]

    def findings_for_funding(self, kind: str = FUNDING_TOTAL) -> list[Finding]:
        """Findings located on a funding row."""
        return [f for f in self.findings if f.funding == kind]

    def form_findings(self) -> list[Finding]:
        """Findings about the form as a whole."""
        return [f for f in self.findings if f.indicator is None and f.funding is None]


def evaluate(
    form_data: FormData, rules: ScoringRules | None = None, *, unreadable: Collection[str] = ()
) -> ScoreResult:
    """Apply the scoring rules to a form and list what does not hold.

    ``unreadable`` names values typed but not read (``header_path`` and friends): they count
    as blank in the figures, but no finding is drawn from them or from sums they are part of.
    """
    rules = rules or ScoringRules()
    if form_data.approved_targets is not None:
        # The due list decides what was approved, whatever the rows carry.
        form_data = with_approved_targets(form_data, form_data.approved_targets)
    unknown = frozenset(unreadable)
    budget, executed = funding_totals(form_data, unreadable=unknown)
    exact_rate = execution_rate(budget, executed)
    exec_weight_known = header_path("execution_weight") not in unknown
    exec_weight = form_data.execution_weight or _ZERO
    exec_score = execution_score(exec_weight, exact_rate) if exec_weight_known else None

    results = _indicator_results(form_data, rules)
    indicator_score_sum = sum((ind.score or _ZERO for ind in form_data.indicators), _ZERO)
    indicator_weight_sum = sum((ind.weight or _ZERO for ind in form_data.indicators), _ZERO)
    weight_sum = exec_weight + indicator_weight_sum
    deductions = sum((r.deduction for r in results), _ZERO)

    # Without a computable rate the department's own execution score is the best figure
    # available; using 0 would turn every such form into a TOTAL_MISMATCH.
    exec_part = exec_score if exec_score is not None else (form_data.execution_score or _ZERO)
    total = exec_part + indicator_score_sum - deductions
    cap = rules.rate_cap(exact_rate)
    if cap is not None and total > cap:
        total = cap
    else:
        cap = None
    computed_total = quantize2(total)

    weights_known = exec_weight_known and not any(
        indicator_path(i, "weight") in unknown for i in range(len(form_data.indicators))
    )
    findings: list[Finding] = []
    if weights_known:
        findings += _form_findings(
            form_data, rules, results, weight_sum, exec_weight, indicator_weight_sum
        )
    findings += _total_findings(
        form_data, rules, computed_total, exec_part, indicator_score_sum, deductions, cap
    )
    findings += _funding_findings(
        form_data, rules, budget, executed, exact_rate, exec_score, unknown
    )
    for ind, result in zip(form_data.indicators, results, strict=True):
        row_unknown = {
            name
            for name in ("target", "weight", "score", "deviation")
            if indicator_path(result.index, name) in unknown
        }
        findings += _category_missing(ind, result.index)
        findings += _indicator_findings(ind, result, rules, row_unknown)
        findings += _approved_findings(ind, result.index, row_unknown)
    findings += _missing_target_findings(form_data)
    if form_data.due is False:
        findings.append(Finding(NOT_IN_DUE_LIST, WARNING, _("此项目不在本年度应评项目清单中。")))
    findings += _recheck_findings(form_data, results, exact_rate)

    return ScoreResult(
        execution_rate=_quantize4(exact_rate) if exact_rate is not None else None,
        execution_score=exec_score,
        indicators=results,
        indicator_score_sum=indicator_score_sum,
        indicator_weight_sum=indicator_weight_sum,
        weight_sum=weight_sum,
        computed_total=computed_total,
        findings=findings,
        annual_budget=budget,
        executed=executed,
        deductions=deductions,
        total_cap=cap,
    )


# --- rule 2: budget execution ------------------------------------------------------------


def funding_totals(
    form_data: FormData, *, unreadable: Collection[str] = ()
) -> tuple[Decimal | None, Decimal | None]:
    """(全年预算数, 全年执行数) of the total row, or the sums of the source rows without one.

    A value in ``unreadable`` is unknown: it gives None, and so does a sum it is part of.
    """
    total = form_data.funding_row(FUNDING_TOTAL)
    unread = {
        c for c in ("annual_budget", "executed") if funding_path(FUNDING_TOTAL, c) in unreadable
    }
    if unread or (
        total is not None and (total.annual_budget is not None or total.executed is not None)
    ):
        if total is None:
            return None, None
        return (
            None if "annual_budget" in unread else total.annual_budget,
            None if "executed" in unread else total.executed,
        )
    sources = _source_rows(form_data)
    kinds = _source_kinds(form_data, unreadable)

    def column_sum(column: str) -> Decimal | None:
        if any(funding_path(kind, column) in unreadable for kind in kinds):
            return None
        return _sum_or_none(getattr(row, column) for row in sources)

    return column_sum("annual_budget"), column_sum("executed")


def _source_rows(form_data: FormData) -> list[FundingData]:
    """The rows the total is the sum of: every source, a part of another present one aside."""
    kinds = {row.kind for row in form_data.funding}
    return [
        row
        for row in form_data.funding
        if row.kind != FUNDING_TOTAL and FUNDING_PART_OF.get(row.kind) not in kinds
    ]


def _source_kinds(form_data: FormData, unreadable: Collection[str]) -> set[str]:
    """Kinds of the source rows, also of those left out because nothing in them was read."""
    kinds = {row.kind for row in form_data.funding if row.kind != FUNDING_TOTAL}
    for path in unreadable:
        parts = path.split(".")
        if len(parts) == 3 and parts[0] == "funding" and parts[1] != FUNDING_TOTAL:
            kinds.add(parts[1])
    return kinds


def execution_rate(budget: Decimal | None, executed: Decimal | None) -> Decimal | None:
    """Unrounded 全年执行数 / 全年预算数; None when the budget is blank or not positive."""
    if budget is None or executed is None or budget <= 0:
        return None
    return executed / budget


def execution_score(weight: Decimal, rate: Decimal | None) -> Decimal | None:
    """Rule 2: weight × min(rate, 100%), two decimals."""
    if rate is None:
        return None
    # Computed from the unrounded rate, like a spreadsheet would; the ±0.01 tolerance
    # absorbs the difference to a score computed from the rounded percentage.
    return quantize2(_clamp(weight * min(rate, _ONE), weight))


def _sum_or_none(values: Iterable[Decimal | None]) -> Decimal | None:
    present = [v for v in values if v is not None]
    return sum(present, _ZERO) if present else None


# --- rule 3: indicators ------------------------------------------------------------------


def _indicator_results(form_data: FormData, rules: ScoringRules) -> list[IndicatorResult]:
    results = []
    category = ""
    for index, ind in enumerate(form_data.indicators):
        # Rows that omit a repeated 一级指标 label belong to the category above them.
        category = _category(ind.level1, rules) or category
        results.append(evaluate_indicator(index, ind, rules, category=category))
    return results


def evaluate_indicator(
    index: int, ind: IndicatorData, rules: ScoringRules | None = None, *, category: str = ""
) -> IndicatorResult:
    """Compare one indicator's actual with its target and suggest a score by rule 3."""
    rules = rules or ScoringRules()
    target, actual = parse_value(ind.target), parse_value(ind.actual)
    category = category or _category(ind.level1, rules)
    result = IndicatorResult(
        index=index,
        target=target,
        actual=actual,
        quantitative=target.is_quantitative,
        suggested_score=None,
        category=category,
        effective_score=ind.score or _ZERO,
    )
    weight = ind.weight
    if target.is_number and actual.is_number:
        _compare_numbers(result, ind, rules)
    elif target.is_date and actual.is_date:
        _compare_dates(result)

    if result.comparable and result.met and weight is not None:
        result.suggested_score = quantize2(_clamp(weight, weight))
        if result.over_achieved and rules.over_achievement_deduction:
            cap = _clamp(weight - rules.over_achievement_points, weight)
            result.suggested_score = quantize2(cap)
            # Cap rather than subtract, so a department that already deducted is not
            # deducted twice.
            stated = ind.score or _ZERO
            result.effective_score = min(stated, cap)
            result.deduction = stated - result.effective_score
    return result


def _compare_numbers(result: IndicatorResult, ind: IndicatorData, rules: ScoringRules) -> None:
    target, actual = result.target, result.actual
    assert target.number is not None and actual.number is not None
    factor = unit_factor(target.unit, actual.unit)
    if factor is None:
        return
    t, a = target.number, actual.number * factor
    more = _more_is_better(target.comparator, ind, result.category)
    result.comparable = True
    result.more_is_better = more
    if more:
        result.met = a >= t
        ratio = a / t if t != 0 else None
        raw = None if result.met else (a / t if t > 0 else _ZERO)
        result.over_achieved = t > 0 and a >= t * (_ONE + rules.over_achievement_threshold)
    else:
        result.met = a <= t
        ratio = t / a if a != 0 else None
        raw = None if result.met else less_is_better_share(t, a, rules)
    result.achievement = _quantize4(ratio) if ratio is not None else None
    if raw is not None and ind.weight is not None:
        result.suggested_score = quantize2(_clamp(ind.weight * raw, ind.weight))


def less_is_better_share(target: Decimal, actual: Decimal, rules: ScoringRules) -> Decimal:
    """Share of the weight a missed ≤ target earns (actual > target), before clamping."""
    if rules.less_is_better == LESS_LINEAR:
        return _ONE - (actual - target) / target if target > 0 else _ZERO
    return target / actual if actual > 0 else _ZERO


def _compare_dates(result: IndicatorResult) -> None:
    target, actual = result.target, result.actual
    assert target.date_value is not None and actual.date_value is not None
    order = compare_dates(actual.date_value, target.date_value)
    if order is None:
        return
    result.comparable = True
    # A date target is a deadline unless it explicitly says "on or after".
    if target.comparator in (">=", ">"):
        result.more_is_better = True
        result.met = order >= 0
    else:
        result.more_is_better = False
        result.met = order <= 0
    # A missed deadline has no formula in the rules: no suggestion, the department grades it
    # and DEVIATION_MISSING asks for the reason.


def _more_is_better(comparator: str, ind: IndicatorData, category: str) -> bool:
    if comparator in LESS_IS_BETTER:
        return False
    if comparator:
        return True
    # No comparator written: a cost is a ceiling, anything else a floor.
    return not (COST_CATEGORY in _norm(ind.level2) or category == COST_CATEGORY)


def _clamp(value: Decimal, weight: Decimal) -> Decimal:
    upper = max(weight, _ZERO)
    return min(max(value, _ZERO), upper)


def _norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text or "").split())


def _category(level1: str, rules: ScoringRules) -> str:
    """Map a 一级指标 label to a standard category name ("产出" -> "产出指标")."""
    label = _norm(level1)
    if not label:
        return ""
    for name in (*rules.category_weights, COST_CATEGORY):
        if label == name or label.startswith(name.removesuffix("指标")):
            return name
    return label


# --- findings ----------------------------------------------------------------------------


def _form_findings(
    form_data: FormData,
    rules: ScoringRules,
    results: list[IndicatorResult],
    weight_sum: Decimal,
    exec_weight: Decimal,
    indicator_weight_sum: Decimal,
) -> list[Finding]:
    findings = []
    if abs(weight_sum - rules.total_weight) > rules.tolerance:
        findings.append(
            Finding(
                WEIGHTS_NOT_100,
                ERROR,
                _(
                    "分值合计为 %(sum)s，应为 %(expected)s（预算执行 %(execution)s，绩效指标 %(indicators)s）"
                )
                % {
                    "sum": _fmt(weight_sum),
                    "expected": _fmt_plain(rules.total_weight),
                    "execution": _fmt(exec_weight),
                    "indicators": _fmt(indicator_weight_sum),
                },
            )
        )
    if indicator_weight_sum > 0:
        finding = _category_finding(form_data, rules, results)
        if finding is not None:
            findings.append(finding)
    return findings


def _category_finding(
    form_data: FormData, rules: ScoringRules, results: list[IndicatorResult]
) -> Finding | None:
    sums: dict[str, Decimal] = {}
    for ind, result in zip(form_data.indicators, results, strict=True):
        category = result.category
        # Newer templates list 成本指标 as a first-level category; it was carved out of
        # 产出指标, so it is compared together with it instead of flagging every such form.
        if category == COST_CATEGORY and COST_CATEGORY not in rules.category_weights:
            category = OUTPUT_CATEGORY
        if ind.weight:
            sums[category] = sums.get(category, _ZERO) + ind.weight
    standard = rules.category_weights
    differs = any(abs(sums.get(name, _ZERO) - w) > rules.tolerance for name, w in standard.items())
    differs = differs or any(name not in standard for name in sums)
    if not differs:
        return None
    found_names = list(standard) + [name for name in sums if name not in standard]
    unnamed = _("未分类")
    found = "、".join(f"{name or unnamed} {_fmt(sums.get(name, _ZERO))}" for name in found_names)
    expected = "、".join(f"{name} {_fmt_plain(w)}" for name, w in standard.items())
    return Finding(
        CATEGORY_WEIGHTS_NOT_STANDARD,
        WARNING,
        _("一级指标分值为 %(found)s，标准为 %(expected)s") % {"found": found, "expected": expected},
    )


def _total_findings(
    form_data: FormData,
    rules: ScoringRules,
    computed_total: Decimal,
    exec_part: Decimal,
    indicator_score_sum: Decimal,
    deductions: Decimal,
    cap: Decimal | None,
) -> list[Finding]:
    if form_data.stated_total is None:
        return [
            Finding(
                TOTAL_MISSING,
                ERROR,
                _("未填写总分，按规则应为 %(computed)s") % {"computed": _fmt(computed_total)},
            )
        ]
    if abs(form_data.stated_total - computed_total) <= rules.tolerance:
        return []
    message = _(
        "总分填写 %(stated)s，按规则应为 %(computed)s（预算执行 %(execution)s + 指标得分 %(indicators)s）"
    ) % {
        "stated": _fmt(form_data.stated_total),
        "computed": _fmt(computed_total),
        "execution": _fmt(exec_part),
        "indicators": _fmt(indicator_score_sum),
    }
    if deductions:
        message += _("，超额完成扣 %(points)s 分") % {"points": _fmt(deductions)}
    if cap is not None:
        message += _("，按执行率封顶 %(cap)s 分") % {"cap": _fmt_plain(cap)}
    return [Finding(TOTAL_MISMATCH, ERROR, message)]


_FUNDING_COLUMNS = (
    ("initial_budget", gettext_noop("年初预算数")),
    ("annual_budget", gettext_noop("全年预算数")),
    ("executed", gettext_noop("全年执行数")),
)


def _funding_findings(
    form_data: FormData,
    rules: ScoringRules,
    budget: Decimal | None,
    executed: Decimal | None,
    rate: Decimal | None,
    exec_score: Decimal | None,
    unknown: frozenset[str] = frozenset(),
) -> list[Finding]:
    findings = _funds_not_summed(form_data, rules, unknown)
    if budget is not None and executed is not None and executed > budget:
        findings.append(
            Finding(
                EXECUTION_OVER_100,
                WARNING,
                _("全年执行数 %(executed)s 超过全年预算数 %(budget)s（执行率 %(rate)s）")
                % {
                    "executed": _fmt(executed),
                    "budget": _fmt(budget),
                    "rate": format_percent(rate),
                },
                funding=FUNDING_TOTAL,
            )
        )
    if (
        form_data.execution_score is not None
        and exec_score is not None
        and abs(form_data.execution_score - exec_score) > rules.tolerance
    ):
        findings.append(
            Finding(
                FUNDING_SCORE_MISMATCH,
                ERROR,
                _("执行率 %(rate)s，按规则得分应为 %(computed)s，表中填写 %(stated)s")
                % {
                    "rate": format_percent(rate),
                    "computed": _fmt(exec_score),
                    "stated": _fmt(form_data.execution_score),
                },
                funding=FUNDING_TOTAL,
            )
        )
    # The form has no deviation cell for funding, so rule 5 cannot be checked cell by cell
    # as for indicators (DEVIATION_MISSING): any explanation on the form counts, and its
    # absence is a warning to explain at submission, not an error that blocks it.
    # A deviation text that was refused (too long) may well explain it.
    explained = any(_has_text(i.deviation) for i in form_data.indicators) or any(
        indicator_path(n, "deviation") in unknown for n in range(len(form_data.indicators))
    )
    if rate is not None and rate < _ONE and not explained:
        findings.append(
            Finding(
                EXECUTION_UNEXPLAINED,
                WARNING,
                _(
                    "执行率 %(rate)s 低于 100%%，表中没有说明原因：请在偏差原因分析及改进措施中说明，"
                    "或在提交时说明"
                )
                % {"rate": format_percent(rate)},
                funding=FUNDING_TOTAL,
            )
        )
    return findings


def _funds_not_summed(
    form_data: FormData, rules: ScoringRules, unknown: frozenset[str] = frozenset()
) -> list[Finding]:
    total = form_data.funding_row(FUNDING_TOTAL)
    sources = _source_rows(form_data)
    if total is None or not sources:
        return []
    kinds = {FUNDING_TOTAL, *_source_kinds(form_data, unknown)}
    parts = []
    for attr, label in _FUNDING_COLUMNS:
        if any(funding_path(kind, attr) in unknown for kind in kinds):
            continue
        stated = getattr(total, attr)
        summed = _sum_or_none(getattr(row, attr) for row in sources)
        if stated is None or summed is None or abs(stated - summed) <= rules.tolerance:
            continue
        parts.append(
            _("%(column)s %(total)s ≠ %(sum)s")
            % {"column": _(label), "total": _fmt(stated), "sum": _fmt(summed)}
        )
    if not parts:
        return []
    # One finding for the row, not one per column: acknowledgements are keyed by code and place.
    return [
        Finding(
            FUNDS_NOT_SUMMED,
            WARNING,
            _("年度资金总额不等于各资金来源合计：%(columns)s") % {"columns": "；".join(parts)},
            funding=FUNDING_TOTAL,
        )
    ]


def _category_missing(ind: IndicatorData, index: int) -> list[Finding]:
    """CATEGORY_MISSING: a row with content but a blank 一级 or 二级指标 (an empty printed cell).

    Files continue a blank label from the row above (merged cells); the importer fills it in,
    so a stored row with a blank label is blank on the page it was typed in.
    """
    if not _has_content(ind):
        return []
    missing = [
        label
        for value, label in ((ind.level1, _("一级指标")), (ind.level2, _("二级指标")))
        if not _norm(value)
    ]
    if not missing:
        return []
    return [
        Finding(
            CATEGORY_MISSING,
            ERROR,
            _("未选择%(labels)s，请选择后再提交。") % {"labels": "、".join(missing)},
            indicator=index,
        )
    ]


def _has_content(ind: IndicatorData) -> bool:
    """True when a row says anything besides its categories."""
    texts = (ind.name, ind.target, ind.actual, ind.deviation)
    return any(_norm(t) for t in texts) or ind.weight is not None or ind.score is not None


def _indicator_findings(
    ind: IndicatorData,
    result: IndicatorResult,
    rules: ScoringRules,
    unknown: Collection[str] = (),
) -> list[Finding]:
    findings: list[Finding] = []
    index = result.index
    weight = ind.weight or _ZERO
    score = ind.score
    # A weight or score typed but not read is unknown: comparing it would mislead
    # ("得分 15.00 超出范围 0–0.00"); the field's own message says what to fix.
    if "weight" in unknown or "score" in unknown:
        return _over_achievement(result, rules)
    if score is not None and (score > weight or score < 0):
        findings.append(
            Finding(
                SCORE_EXCEEDS_WEIGHT,
                ERROR,
                _("得分 %(score)s 超出范围 0–%(weight)s（分值）")
                % {"score": _fmt(score), "weight": _fmt(weight)},
                indicator=index,
            )
        )
    # A blank score counts as 0, as it does in the total.
    explained = _has_text(ind.deviation) or "deviation" in unknown
    if (score or _ZERO) < weight and not explained:
        findings.append(
            Finding(
                DEVIATION_MISSING,
                ERROR,
                _("得分 %(score)s 低于分值 %(weight)s，请填写偏差原因分析及改进措施")
                % {"score": _fmt(score or _ZERO), "weight": _fmt(weight)},
                indicator=index,
            )
        )
    suggested = result.suggested_score
    if suggested is not None and score is not None and abs(score - suggested) > rules.tolerance:
        findings.append(
            Finding(
                SCORE_DIFFERS_FROM_RULE,
                WARNING,
                _(
                    "按规则得分应为 %(suggested)s，表中填写 %(score)s（指标值 %(target)s，实际完成值 %(actual)s）"
                )
                % {
                    "suggested": _fmt(suggested),
                    "score": _fmt(score),
                    "target": result.target.text,
                    "actual": result.actual.text,
                },
                indicator=index,
            )
        )
    return findings + _over_achievement(result, rules)


def _over_achievement(result: IndicatorResult, rules: ScoringRules) -> list[Finding]:
    """OVER_ACHIEVEMENT: it compares target and actual only, not weight or score."""
    findings = []
    index = result.index
    if result.over_achieved:
        message = _(
            "实际完成值 %(actual)s 超出指标值 %(target)s 的 %(threshold)s 以上（完成率 %(ratio)s），请核实指标值是否设定偏低"
        ) % {
            "actual": result.actual.text,
            "target": result.target.text,
            "threshold": format_percent(rules.over_achievement_threshold),
            "ratio": format_percent(result.achievement),
        }
        if rules.over_achievement_deduction:
            message += _("；按本地规则扣 %(points)s 分") % {
                "points": _fmt(rules.over_achievement_points)
            }
        findings.append(Finding(OVER_ACHIEVEMENT, WARNING, message, indicator=index))
    return findings


def _approved_findings(
    ind: IndicatorData, index: int, unknown: Collection[str] = ()
) -> list[Finding]:
    """TARGET_CHANGED when a row's target or weight differs from the approved one."""
    changes = []
    if (
        ind.approved_target
        and "target" not in unknown
        and _norm(ind.approved_target) != _norm(ind.target)
    ):
        changes.append(
            _("年度指标值与批复目标不同：批复 %(old)s，现为 %(new)s")
            % {"old": ind.approved_target.strip(), "new": ind.target.strip() or _("（空）")}
        )
    if (
        ind.approved_weight is not None
        and "weight" not in unknown
        and ind.approved_weight != ind.weight
    ):
        changes.append(
            _("分值与批复分值不同：批复 %(old)s，现为 %(new)s")
            % {
                "old": formats.format_points(ind.approved_weight),
                "new": formats.format_points(ind.weight) or _("（空）"),
            }
        )
    if not changes:
        return []
    message = _("第%(row)d行“%(name)s”的%(changes)s，提交时请说明调整原因。") % {
        "row": index + 1,
        "name": ind.name.strip(),
        "changes": "；".join(changes),
    }
    return [Finding(TARGET_CHANGED, WARNING, message, indicator=index)]


def _missing_target_findings(form_data: FormData) -> list[Finding]:
    """TARGET_MISSING: approved targets that no row reports against (deleted or renamed)."""
    missing = missing_targets(form_data)
    if not missing:
        return []
    rows = "；".join(
        _("“%(name)s”（%(level1)s/%(level2)s，批复 %(target)s，分值 %(weight)s）")
        % {
            "name": t.name.strip(),
            "level1": t.level1.strip() or "—",
            "level2": t.level2.strip() or "—",
            "target": t.target.strip() or _("（空）"),
            "weight": formats.format_points(t.weight) or _("（空）"),
        }
        for t in missing
    )
    message = _("批复绩效目标中有 %(n)d 项不在表中：%(rows)s。提交时请说明删除或改动的原因。") % {
        "n": len(missing),
        "rows": rows,
    }
    return [Finding(TARGET_MISSING, WARNING, message)]


def _recheck_findings(
    form_data: FormData, results: list[IndicatorResult], rate: Decimal | None
) -> list[Finding]:
    """The checkable re-check rules (core/recheck_checks.py) as findings."""
    context = form_data.recheck or RecheckContext()
    checks = recheck_checks(form_data, [r.category for r in results], rate)
    return [
        Finding(
            c.code,
            ERROR if c.rule in context.blocking else HINT if c.code in HINTS else WARNING,
            c.message,
            indicator=c.indicator,
        )
        for c in checks
    ]


def _has_text(text: str) -> bool:
    return _norm(text) not in _BLANK_DEVIATIONS


def with_computed_totals(
    form_data: FormData, rules: ScoringRules | None = None, *, unreadable: Collection[str] = ()
) -> FormData:
    """Set the form's stated execution score and total to what the rules compute.

    Used for forms filled in on the web, where these figures are never typed: the form says
    so (``totals_computed``), so no list shows them as a total the department stated.
    """
    result = evaluate(form_data, rules, unreadable=unreadable)
    form_data.execution_score = result.execution_score
    form_data.stated_total = result.computed_total
    form_data.totals_computed = True
    return form_data
