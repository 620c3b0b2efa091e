"""The checkable re-check rules (复核口径), run on a form before the bureau re-checks it.

Each check anticipates one rule of the published set a re-check scores by (rule 1: no
evidence scores 0; rule 9: an indicator set twice counts once; …): it finds on the form what
the re-checker would deduct for, so the department fixes it first. Pure: the form and a
``RecheckContext`` (evidence, the year's other forms, the rule set) in, ``Check`` hits out;
``scoring.evaluate`` turns them into findings (warnings; errors where the rule set says the
rule blocks; the hollow target only a hint). A rule switched off in the set runs no check.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from evaluations.core.evaluation_data import FormData, IndicatorData, RecheckContext
from evaluations.core.values import parse_value

RECHECK_NO_EVIDENCE = "RECHECK_NO_EVIDENCE"
RECHECK_SURVEY_MISSING = "RECHECK_SURVEY_MISSING"
RECHECK_DUPLICATE_INDICATOR = "RECHECK_DUPLICATE_INDICATOR"
RECHECK_PAYMENT_AS_QUANTITY = "RECHECK_PAYMENT_AS_QUANTITY"
RECHECK_COST_MORE_IS_BETTER = "RECHECK_COST_MORE_IS_BETTER"
RECHECK_HOLLOW_TARGET = "RECHECK_HOLLOW_TARGET"
RECHECK_FULL_MARKS = "RECHECK_FULL_MARKS"
RECHECK_COPIED_INDICATOR = "RECHECK_COPIED_INDICATOR"

# The rule (code in the rule set) each check anticipates. Rules 1, 4, 9 and 10 are named by
# the national set; a cost target that rewards spending more does not fit its 二级 (10);
# full marks the execution or a deviation contradicts cannot be verified (3); a row copied
# from another department's form is not this project's (2).
RULE_OF = {
    RECHECK_NO_EVIDENCE: "1",
    RECHECK_SURVEY_MISSING: "4",
    RECHECK_DUPLICATE_INDICATOR: "9",
    RECHECK_PAYMENT_AS_QUANTITY: "10",
    RECHECK_COST_MORE_IS_BETTER: "10",
    RECHECK_HOLLOW_TARGET: "3",
    RECHECK_FULL_MARKS: "3",
    RECHECK_COPIED_INDICATOR: "2",
}
# Only hints (no acknowledgement at submission), being judgements: whether a target is
# hollow; and a row worded as another department's may come from the province's common
# indicator library (共性指标库), which departments are meant to use.
HINTS = frozenset({RECHECK_HOLLOW_TARGET, RECHECK_COPIED_INDICATOR})

_OUTPUT = "产出指标"
_EFFECT = "效益指标"
_SATISFACTION = "满意度"
_QUANTITY = "数量指标"
_COST = "成本指标"
# A payment or budget-execution indicator: a verb of paying or spending, about money.
_PAYMENT = re.compile(r"(支付|拨付|兑付|到位|执行|支出|使用率|付款)")
_MONEY = re.compile(r"(资金|预算|经费|款|财政)")
# Units that count things (people, households, times), not money: "资金发放户数".
_COUNT_UNITS = ("人", "户", "次", "个", "家", "所", "项", "份", "场", "套", "台", "辆", "间")
# Names that say what a percentage measures.
# (稳定, 可用, 正常运行: an availability measured over time, as a website's uptime.)
_RATE_WORDS = re.compile(
    r"(率|比例|比重|占比|满意|覆盖|%|％|百分|度|进度|合格|达标|指数|稳定|可用|正常运行)"
)
_CHANGE_WORDS = re.compile(r"(提升|提高|增加|增长|改善|减少|降低|下降)")
# Names too short or too common to say a row was copied ("群众满意度" is on every form).
_COPY_MIN_LENGTH = 8
_MIN_NAME_LENGTH = 3
# A deviation that admits a shortfall; "仍需加强" is an improvement measure, not a shortfall.
_SHORTFALL = re.compile(
    r"(未完成|没有完成|未达到|未达标|未能|滞后|延迟|推迟|未按期|未按时|低于|差距)"
)


@dataclass(frozen=True)
class Check:
    """One hit: the check's code, its message, and the indicator row (None: the form)."""

    code: str
    message: str
    indicator: int | None = None

    @property
    def rule(self) -> str:
        return RULE_OF[self.code]


def norm(text: str) -> str:
    """NFKC, no whitespace: how two texts are compared."""
    return "".join(unicodedata.normalize("NFKC", text or "").split())


def _anticipates(code: str) -> str:
    return _("（复核时可能按复核口径第%(rule)s条扣分）") % {"rule": RULE_OF[code]}


def recheck_checks(
    form_data: FormData, categories: list[str], execution_rate: Decimal | None
) -> list[Check]:
    """Every check that applies; ``categories`` is each row's 一级指标 as scoring read it."""
    context = form_data.recheck or RecheckContext()
    rows = list(zip(form_data.indicators, categories, strict=True))
    hits: list[Check] = []
    hits += _evidence(rows, context)
    hits += _duplicates(rows)
    for index, (ind, category) in enumerate(rows):
        hits += _payment_as_quantity(index, ind)
        hits += _cost_more_is_better(index, ind, category)
        # A satisfaction percentage measures itself; a name of one or two characters
        # ("指标") is a placeholder, which says nothing about what is measured.
        if not _is_satisfaction(ind, category) and len(norm(ind.name)) >= _MIN_NAME_LENGTH:
            hits += _hollow_target(index, ind)
        hits += _copied(index, ind, category, context)
    hits += _full_marks(form_data, execution_rate, context)
    return [h for h in hits if h.rule not in context.inactive]


def _named(ind: IndicatorData) -> bool:
    return bool(norm(ind.name))


def _evidence(rows: list[tuple[IndicatorData, str]], context: RecheckContext) -> list[Check]:
    """Rule 1, and rule 4 (a survey for 满意度), where the rule set asks for evidence."""
    if form_is_new(rows):
        return []
    hits = []
    if context.requires_evidence and not context.form_evidence:
        hits.append(
            Check(
                RECHECK_NO_EVIDENCE,
                _("本表没有上传佐证材料：每个绩效指标都应有佐证材料")
                + _anticipates(RECHECK_NO_EVIDENCE),
            )
        )
    for index, (ind, category) in enumerate(rows):
        if not _named(ind) or not ind.key:
            continue
        satisfaction = _is_satisfaction(ind, category)
        # A 满意度 row answers to rule 4, which asks for more (a survey): one finding, not two.
        if context.requires_evidence and context.form_evidence and not satisfaction:
            if ind.key not in context.evidence_rows:
                hits.append(
                    Check(
                        RECHECK_NO_EVIDENCE,
                        _("“%(name)s”没有佐证材料") % {"name": ind.name.strip()}
                        + _anticipates(RECHECK_NO_EVIDENCE),
                        index,
                    )
                )
        # Where the rule set asks for no evidence, files are not expected: no survey either.
        survey = context.requires_evidence and ind.key not in context.survey_rows
        if satisfaction and survey:
            hits.append(
                Check(
                    RECHECK_SURVEY_MISSING,
                    _(
                        "满意度指标“%(name)s”没有满意度调查问卷等佐证材料（上传时在说明中注明“问卷”或“调查”）"
                    )
                    % {"name": ind.name.strip()}
                    + _anticipates(RECHECK_SURVEY_MISSING),
                    index,
                )
            )
    return hits


def form_is_new(rows: list[tuple[IndicatorData, str]]) -> bool:
    """Rows not stored yet (an import, a new form) have no evidence to look at."""
    return not any(ind.key for ind, _category in rows)


def _is_satisfaction(ind: IndicatorData, category: str) -> bool:
    return _SATISFACTION in category or _SATISFACTION in norm(ind.level2)


def _duplicates(rows: list[tuple[IndicatorData, str]]) -> list[Check]:
    """Rule 9: the same 三级指标 under 产出 and under 效益; the 效益 row is the one to go."""
    outputs: dict[str, int] = {}
    for index, (ind, category) in enumerate(rows):
        # A name of one or two characters ("指标") is a placeholder, not an indicator.
        if category in (_OUTPUT, _COST) and len(norm(ind.name)) >= _MIN_NAME_LENGTH:
            outputs.setdefault(norm(ind.name), index)
    hits = []
    for index, (ind, category) in enumerate(rows):
        first = outputs.get(norm(ind.name))
        if category == _EFFECT and first is not None:
            hits.append(
                Check(
                    RECHECK_DUPLICATE_INDICATOR,
                    _("“%(name)s”在产出指标（第%(row)d行）和效益指标中重复设置，只计一次")
                    % {"name": ind.name.strip(), "row": first + 1}
                    + _anticipates(RECHECK_DUPLICATE_INDICATOR),
                    index,
                )
            )
    return hits


def _payment_as_quantity(index: int, ind: IndicatorData) -> list[Check]:
    """Rule 10: a payment or budget-execution indicator set as a 数量指标."""
    name = norm(ind.name)
    if _QUANTITY not in norm(ind.level2) or not (_PAYMENT.search(name) and _MONEY.search(name)):
        return []
    unit = parse_value(ind.target).unit
    if unit and unit.startswith(_COUNT_UNITS):
        return []
    return [
        Check(
            RECHECK_PAYMENT_AS_QUANTITY,
            _("“%(name)s”是资金支付或预算执行类指标，不应设在数量指标下")
            % {"name": ind.name.strip()}
            + _anticipates(RECHECK_PAYMENT_AS_QUANTITY),
            index,
        )
    ]


def _cost_more_is_better(index: int, ind: IndicatorData, category: str) -> list[Check]:
    """A 成本指标 whose target rewards spending more (≥): a cost is a ceiling."""
    if not (_COST in norm(ind.level2) or category == _COST):
        return []
    target = parse_value(ind.target)
    if target.number is None or target.comparator not in (">=", ">"):
        return []
    return [
        Check(
            RECHECK_COST_MORE_IS_BETTER,
            _("成本指标“%(name)s”的指标值 %(target)s 是“越多越好”，成本指标应为上限（≤）")
            % {"name": ind.name.strip(), "target": ind.target.strip()}
            + _anticipates(RECHECK_COST_MORE_IS_BETTER),
            index,
        )
    ]


def _hollow_target(index: int, ind: IndicatorData) -> list[Check]:
    """Rule 3, a hint: a percentage target whose 三级指标 names no rate, or "提升" with a unit."""
    name = norm(ind.name)
    target_text = norm(ind.target)
    target = parse_value(ind.target)
    percent = target.number is not None and target.unit in ("%", "％")
    if percent and target.comparator in (">=", ">", "") and not _RATE_WORDS.search(name):
        why = _("指标值 %(target)s 是百分比，但三级指标没有说明是什么的比率")
    elif (
        _CHANGE_WORDS.search(target_text)
        and target.number is None
        and ("%" in target_text or _has_unit(target_text))
    ):
        why = _("指标值“%(target)s”只说提升、改善，没有可衡量的数值")
    else:
        return []
    return [
        Check(
            RECHECK_HOLLOW_TARGET,
            (why % {"target": ind.target.strip()})
            + _("，无法核实")
            + _anticipates(RECHECK_HOLLOW_TARGET),
            index,
        )
    ]


def _has_unit(text: str) -> bool:
    return bool(re.search(r"(万元|元|人次|人|户|次|个|吨|公里|平方米|亩)$", text))


def _copied(index: int, ind: IndicatorData, category: str, context: RecheckContext) -> list[Check]:
    """A row word for word (三级指标 and 年度指标值) on another department's form of the year."""
    name = norm(ind.name)
    if len(name) < _COPY_MIN_LENGTH or _is_satisfaction(ind, category):
        return []
    if (name, norm(ind.target)) not in context.peer_rows:
        return []
    return [
        Check(
            RECHECK_COPIED_INDICATOR,
            _(
                "“%(name)s”（%(target)s）与其他部门本年度自评表中的指标逐字相同，请核实是否与本项目相关"
            )
            % {"name": ind.name.strip(), "target": ind.target.strip()}
            + _anticipates(RECHECK_COPIED_INDICATOR),
            index,
        )
    ]


def _full_marks(form_data: FormData, rate: Decimal | None, context: RecheckContext) -> list[Check]:
    """Every indicator at full marks while the money says otherwise, or a deviation is written."""
    weighted = [i for i in form_data.indicators if i.weight]
    if not weighted or any(i.score != i.weight for i in weighted):
        return []
    low = rate is not None and rate < context.execution_threshold
    deviations = [i for i in weighted if _SHORTFALL.search(norm(i.deviation))]
    if low:
        why = _("执行率 %(rate)s 低于 %(threshold)s，但所有绩效指标均为满分") % {
            "rate": f"{(rate * 100).quantize(Decimal('0.01'))}%",
            "threshold": f"{(context.execution_threshold * 100).normalize():f}%",
        }
    elif deviations:
        why = _("所有绩效指标均为满分，但“%(name)s”的偏差原因写有未完成的情况") % {
            "name": deviations[0].name.strip()
        }
    else:
        return []
    return [
        Check(
            RECHECK_FULL_MARKS,
            why + _("：请核实得分或说明理由") + _anticipates(RECHECK_FULL_MARKS),
        )
    ]
