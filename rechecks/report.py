"""The re-check report: each deduction with the rule it cites, and deductions counted by rule."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count
from django.utils.translation import gettext as _
from openpyxl import Workbook

from common.xlsx import set_text, workbook_bytes, write_headers
from rechecks.models import Recheck, RecheckRow, RecheckStatus, RuleEffect
from rechecks.scoring import RecheckFigures
from rechecks.selectors import recheck_compute, rechecks_for_year


@dataclass(frozen=True)
class Deduction:
    """One row finance scored below the department, in a completed re-check."""

    department: str
    project: str
    number: int
    indicator: str
    weight: Decimal | None
    own: Decimal | None
    recheck: Decimal | None
    difference: Decimal
    percent: Decimal | None
    rule_code: str  # "" when the score was typed, citing no rule
    rule_label: str
    reason: str


def deductions_of(recheck: Recheck, figures: RecheckFigures) -> list[Deduction]:
    """The deductions of one completed re-check (none before it is done)."""
    if recheck.status != RecheckStatus.DONE:
        return []
    return [
        Deduction(
            department=recheck.evaluation.department.name,
            project=recheck.evaluation.project_name,
            number=row.number,
            indicator=row.name,
            weight=row.weight,
            own=row.own,
            recheck=row.recheck,
            difference=row.difference,
            percent=row.deduction_percent,
            rule_code=row.rule.code if row.rule is not None else "",
            rule_label=row.rule.label if row.rule is not None else _("未引用复核口径"),
            reason=row.opinion,
        )
        for row in figures.rows
        if row.deducted
    ]


def year_deductions(year: int) -> list[Deduction]:
    """Every deduction of the year's completed re-checks, by department and project."""
    rechecks = rechecks_for_year(year).filter(status=RecheckStatus.DONE)
    out: list[Deduction] = []
    for rc in rechecks.prefetch_related("rows__rule"):
        out += deductions_of(rc, recheck_compute(rc))
    return out


@dataclass(frozen=True)
class RuleCount:
    """How often a rule was cited in deductions: in one department and in the whole year."""

    rule_code: str
    label: str
    department: int
    year: int


def _rule_order(code: str) -> tuple[int, int, str]:
    # Rules by number (2 before 10); deductions citing no rule last.
    return (0, int(code), "") if code.isdigit() else (1 if code else 2, 0, code)


def counts_by_rule(deductions: list[Deduction], department: str | None = None) -> list[RuleCount]:
    """Deductions counted by rule, for ``department`` (or every department) and the year."""
    year = Counter(d.rule_code for d in deductions)
    mine = Counter(d.rule_code for d in deductions if department in (None, d.department))
    labels = {
        d.rule_code: (_("第%(code)s条") % {"code": d.rule_code}) if d.rule_code else d.rule_label
        for d in deductions
    }
    return [
        RuleCount(rule_code=code, label=labels[code], department=mine[code], year=year[code])
        for code in sorted(year, key=_rule_order)
    ]


def counts_by_department(deductions: list[Deduction]) -> dict[str, Counter]:
    """Per department, its deductions counted by rule code ("" for none cited)."""
    table: dict[str, Counter] = {}
    for d in deductions:
        table.setdefault(d.department, Counter())[d.rule_code] += 1
    return table


def report_xlsx(year: int) -> bytes:
    """The year's deductions (one sheet) and their counts by rule per department (another)."""
    deductions = year_deductions(year)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("扣分明细")
    write_headers(
        sheet,
        [
            _("主管部门"),
            _("项目名称"),
            _("序号"),
            _("三级指标"),
            _("分值"),
            _("自评得分"),
            _("复核得分"),
            _("扣分"),
            _("扣分比例（%）"),
            _("复核口径"),
            _("扣分理由"),
        ],
        [28, 30, 6, 30, 8, 10, 10, 8, 12, 26, 40],
    )
    for r, d in enumerate(deductions, start=2):
        values = [d.department, d.project, d.number, d.indicator, d.weight, d.own, d.recheck]
        values += [d.difference, d.percent, d.rule_label, d.reason]
        for c, value in enumerate(values, start=1):
            cell = sheet.cell(row=r, column=c)
            if isinstance(value, str):
                set_text(cell, value)
            else:
                cell.value = value
    counts = workbook.create_sheet(_("按口径统计"))
    codes = [c.rule_code for c in counts_by_rule(deductions)]
    labels = {c.rule_code: c.label for c in counts_by_rule(deductions)}
    write_headers(
        counts,
        [_("主管部门"), *[labels[c] for c in codes], _("合计")],
        [28, *[12 for _c in codes], 8],
    )
    table = counts_by_department(deductions)
    rows = [(name, table[name]) for name in sorted(table)]
    rows.append((_("全年合计"), Counter(d.rule_code for d in deductions)))
    for r, (name, counter) in enumerate(rows, start=2):
        set_text(counts.cell(row=r, column=1), name)
        for c, code in enumerate(codes, start=2):
            counts.cell(row=r, column=c).value = counter[code]
        counts.cell(row=r, column=len(codes) + 2).value = sum(counter.values())
    return workbook_bytes(workbook)


@dataclass(frozen=True)
class RuleBroken:
    """A rule the department's forms were deducted by, and how often (every year so far)."""

    code: str
    wording: str
    count: int


def rules_broken_most(department_id: int, *, limit: int = 5) -> list[RuleBroken]:
    """The rules the department's re-checked forms were deducted by most, most first.

    Rows of completed re-checks that cite a rule which deducts (not 不扣分), every year.
    """
    rows = (
        RecheckRow.objects.filter(
            recheck__evaluation__department_id=department_id,
            recheck__status=RecheckStatus.DONE,
            rule__isnull=False,
        )
        .exclude(rule__effect=RuleEffect.NONE)
        .values("rule__code", "rule__wording")
        .annotate(count=Count("pk"))
        .order_by("-count", "rule__code")
    )
    return [
        RuleBroken(code=r["rule__code"], wording=r["rule__wording"], count=r["count"])
        for r in rows[:limit]
    ]
