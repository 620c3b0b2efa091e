"""The official layout of the form: one model of the printed table that every rendering uses.

``form_layout`` turns a ``FormData`` and its ``ScoreResult`` into the rows of the printed
项目支出绩效自评表 on its nine-column grid: every cell with its position, spans, display
text (already formatted), raw value, kind and the field key it shows. The detail and review
pages, the PDF and the Excel sheet draw these cells as they are; the entry form takes its
labels and the order of its rows from them. Pure: no database.

Decisions that hold for every rendering:

- 一级/二级指标 merge down over equal labels. A blank label continues the group above it
  (the seed files omit repeated labels); a 二级 group never spans a change of 一级.
- Cells show what the department stated. Where the rules compute another figure (execution
  score, an indicator's score, the total) and it differs by more than 0.01, or nothing was
  stated, the cell carries the note "计算值：…".
- The total row shows the full mark 100 under 分值 (as printed); a weight sum other than
  100 is a note "分值合计：…" on that cell. The total sits under 得分 and the grade of the
  computed total (``core.grades``: 等级：优/良/中/差) beside it in the last column, for a
  form handed in (without the grade the total spans both columns).
- An indicator whose target (or weight) differs from the approved one carries the note
  "批复：…" on that cell, so a reviewer sees the old value beside the new.
- With a ``Signature`` the table ends with the paper form's signature block: on the left
  填报单位（盖章） beside an empty cell (room for the stamp), on the right 单位负责人,
  填报人, 联系电话 and 填报日期; an approved form adds 审核单位, 审核人 and 审核日期.
"""

from __future__ import annotations

import datetime
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from evaluations.core import fields
from evaluations.core.evaluation_data import FormData, FundingData
from evaluations.core.fields import FUNDING_ORDER, FUNDING_STANDARD, FundingKind
from evaluations.core.formats import format_money, format_percent, format_points
from evaluations.core.grades import grade
from evaluations.core.scoring import Finding, ScoreResult

COLUMNS = 9
FULL_MARK = Decimal(100)
TOLERANCE = Decimal("0.01")

# Kinds of cell.
HEAD = "head"  # a printed label of the form
TEXT = "text"  # what the department wrote
MONEY = "money"  # 万元
POINTS = "points"  # weights and scores
PERCENT = "percent"  # the execution rate
DASH = "dash"  # a cell the form leaves empty on purpose ("—")
NUMBER_KINDS = (MONEY, POINTS, PERCENT)

# Sections of the table, top to bottom.
HEADER = "header"
FUNDING = "funding"
GOALS = "goals"
INDICATORS = "indicators"
TOTAL = "total"
SECTIONS = (HEADER, FUNDING, GOALS, INDICATORS, TOTAL)
SIGNATURE = "signature"  # below the table, only when the caller gives a Signature

# Printed headings that are not fields of the form.
TITLE = gettext_lazy("项目支出绩效自评表")
FUNDING_BLOCK = (gettext_lazy("项目资金"), gettext_lazy("（万元）"))  # printed on two lines
GOALS_BLOCK = gettext_lazy("年度总体目标")
GOAL_TARGET = gettext_lazy("预期目标")
GOAL_ACTUAL = gettext_lazy("实际完成情况")
INDICATORS_BLOCK = gettext_lazy("年度绩效指标完成情况")
EXECUTION_RATE = gettext_lazy("执行率")
NO_INDICATORS = gettext_lazy("（无绩效指标）")
DASH_TEXT = "—"
GRADE_FIELD = "grade"  # the total row's grade cell (not a form value: computed)
# The signature block (docs/domain.md: the paper form's signature block).
STAMP_LABEL = gettext_lazy("填报单位（盖章）")
SUBMITTED_ON = gettext_lazy("填报日期")
REVIEW_UNIT = gettext_lazy("审核单位")
APPROVER = gettext_lazy("审核人")
APPROVED_ON = gettext_lazy("审核日期")
# The indicator fields printed as columns of the table (the approved values are notes).
TABLE_INDICATOR_FIELDS = tuple(
    f for f in fields.INDICATOR_FIELDS if f.key not in ("approved_target", "approved_weight")
)
# Grid columns (1-based) of the typed values: the edit page names each box by its row's
# and its column's heading (aria-labelledby), so the forms need to know where they stand.
INDICATOR_COLUMNS = {f.key: col for col, f in enumerate(TABLE_INDICATOR_FIELDS, start=2)}
FUNDING_COLUMNS = {"initial_budget": 4, "annual_budget": 5, "executed": 6, "execution_weight": 7}

# Texts that read left-aligned (the PDF and Excel align them so; the rest is centred).
_LEFT_FIELDS = frozenset(
    {"project_name", "department", "implementing_unit", "goal_target", "goal_actual"}
)
_LEFT_INDICATOR_FIELDS = frozenset({"name", "deviation"})
LONG_TEXT_FIELDS = frozenset({"goal_target", "goal_actual", "deviation"})


def grade_text(label: str | None) -> str:
    """The grade cell of the total row: 等级：优 ("" without a computed total)."""
    return _("等级：%(grade)s") % {"grade": label} if label else ""


def year_line(year: int | None) -> str:
    """The line under the title: （2021年度）."""
    return _("（%(year)s年度）") % {"year": year if year is not None else ""}


def funding_label(kind: str) -> str:
    """The printed label of a funding row (the kind itself if it is not a known one)."""
    return str(FundingKind(kind).label) if kind in FundingKind.values else kind


def funding_block_label() -> str:
    """项目资金（万元） as printed, on two lines."""
    return "\n".join(str(part) for part in FUNDING_BLOCK)


def funding_headings() -> list[str]:
    """Column headings of the funding rows: 年初预算数 … 得分."""
    return [str(f.label) for f in fields.FUNDING_FIELDS] + [
        str(fields.INDICATOR["weight"].label),
        str(EXECUTION_RATE),
        str(fields.INDICATOR["score"].label),
    ]


def indicator_headings() -> list[str]:
    """Column headings of the indicator rows: 一级指标 … 偏差原因分析及改进措施."""
    return [str(f.label) for f in TABLE_INDICATOR_FIELDS]


def header_label(key: str) -> str:
    """The printed label of a header field (项目名称, 主管部门, 实施单位, 总分)."""
    return str(fields.HEADER[key].label)


def computed_note(stated: Decimal | None, computed: Decimal | None) -> str:
    """The note beside a stated figure the rules compute otherwise ("" when they agree)."""
    if computed is None:
        return ""
    if stated is not None and abs(stated - computed) <= TOLERANCE:
        return ""
    return _("计算值：%(value)s") % {"value": format_points(computed)}


def weight_sum_note(weight_sum: Decimal | None) -> str:
    """The note beside the full mark when the weights do not add up to 100."""
    if weight_sum is None or abs(weight_sum - FULL_MARK) <= TOLERANCE:
        return ""
    return _("分值合计：%(value)s") % {"value": format_points(weight_sum)}


def same_text(a: str, b: str) -> bool:
    """Two texts equal once width variants (NFKC) and spaces are set aside."""

    def norm(text: str) -> str:
        return "".join(unicodedata.normalize("NFKC", text or "").split())

    return norm(a) == norm(b)


def approved_note(approved: str, current: str) -> str:
    """The note beside a target or weight that differs from the approved one ("" if same)."""
    if not approved or same_text(approved, current):
        return ""
    return _("批复：%(value)s") % {"value": approved}


def date_text(value: datetime.date | None) -> str:
    """A date as printed on the form: 2022年3月1日 ("" for none)."""
    if value is None:
        return ""
    return _("%(year)d年%(month)d月%(day)d日") % {
        "year": value.year,
        "month": value.month,
        "day": value.day,
    }


@dataclass(frozen=True)
class Signature:
    """What the signature block shows besides the form's own fields (given by the caller)."""

    submitted_on: datetime.date | None = None  # 填报日期: blank before submission
    approved: bool = False  # adds 审核单位, 审核人, 审核日期
    review_unit: str = ""  # the bureau (settings.PDF_AUTHOR)
    approver: str = ""
    approved_on: datetime.date | None = None


@dataclass
class Cell:
    """One (possibly merged) cell of the table; row and col are 1-based grid positions."""

    row: int
    col: int
    text: str  # as displayed, already formatted
    kind: str = TEXT
    value: Any = None  # the raw value (Decimal, str or None); the text for headings
    field: str = ""  # key of the form value shown ("indicators.3.weight"); "" for headings
    rowspan: int = 1
    colspan: int = 1
    note: str = ""  # e.g. "计算值：8.22"
    label_for: str = ""  # heading cells: the field key of the value they label

    @property
    def is_head(self) -> bool:
        return self.kind == HEAD

    @property
    def is_number(self) -> bool:
        return self.kind in NUMBER_KINDS

    @property
    def name(self) -> str:
        """The field's own name without its row ("weight" of "indicators.3.weight")."""
        return self.field.rsplit(".", 1)[-1]

    @property
    def align(self) -> str:
        """left, right or center, as the printed form aligns the cell."""
        if self.kind == MONEY:
            return "right"
        if self.kind == TEXT and (
            self.field in _LEFT_FIELDS
            or (self.field.startswith("indicators.") and self.name in _LEFT_INDICATOR_FIELDS)
        ):
            return "left"
        return "center"

    @property
    def is_long_text(self) -> bool:
        return self.kind == TEXT and self.name in LONG_TEXT_FIELDS


@dataclass
class Row:
    """One row of the table with the findings (and review comment) that concern it."""

    section: str
    kind: str  # heading, project, units, funding, goal, indicator, empty, total
    number: int  # row on the grid, 1-based
    cells: list[Cell] = field(default_factory=list)
    position: int | None = None  # indicator rows: 1-based position in the form
    funding_kind: str = ""  # funding rows
    findings: list[Finding] = field(default_factory=list)
    comment: Any = None

    @property
    def severity(self) -> str:
        """The severity of the row's first finding ("" without findings)."""
        return self.findings[0].severity if self.findings else ""

    @property
    def name(self) -> str:
        """An indicator row's 三级指标 (how messages name the row)."""
        return next((c.text for c in self.cells if c.name == "name" and c.field), "")

    @property
    def commentable(self) -> bool:
        """Rows a reviewer may comment on: funding and indicator rows."""
        return self.kind in ("funding", "indicator")


@dataclass
class Section:
    name: str
    rows: list[Row] = field(default_factory=list)


@dataclass
class Layout:
    """The official form as rows of cells, grouped in sections."""

    title: str
    year: int | None
    year_line: str
    sections: list[Section]
    form_findings: list[Finding] = field(default_factory=list)
    status: str = ""

    @property
    def rows(self) -> list[Row]:
        return [row for section in self.sections for row in section.rows]

    def cells(self) -> Iterator[Cell]:
        for row in self.rows:
            yield from row.cells

    def section(self, name: str) -> Section:
        return next(s for s in self.sections if s.name == name)

    @property
    def parts(self) -> dict[str, Section]:
        """The sections by name, for templates (``layout.parts.funding.rows``)."""
        return {s.name: s for s in self.sections}

    def cell(self, key: str) -> Cell | None:
        """The cell showing the form value ``key`` (a field key), if any."""
        return next((c for c in self.cells() if c.field == key), None)

    @property
    def row_count(self) -> int:
        return len(self.rows)

    @property
    def has_notes(self) -> bool:
        return any(cell.note for cell in self.cells())

    @property
    def indicator_rows(self) -> list[Row]:
        return [row for row in self.section(INDICATORS).rows if row.kind == "indicator"]

    @property
    def funding_rows(self) -> list[Row]:
        return [row for row in self.section(FUNDING).rows if row.kind == "funding"]


def heading_text(heading: Row, cell: Cell) -> str:
    """The text of ``heading``'s cells in ``cell``'s column: the label a phone card gives it."""
    return "".join(h.text for h in heading.cells if h.col == cell.col)


def level_cells(section: Section, row: Row) -> list[Cell]:
    """The 一级/二级指标 cells of ``section`` that cover ``row`` (merged ones cover several)."""
    return [
        cell
        for other in section.rows
        for cell in other.cells
        if cell.name in ("level1", "level2") and cell.row <= row.number < cell.row + cell.rowspan
    ]


@dataclass
class _Groups:
    """Rowspans of the 一级 and 二级指标 columns and the label each row shows."""

    level1: list[str]
    level1_spans: list[int]
    level2: list[str]
    level2_spans: list[int]


def indicator_groups(levels: list[tuple[str, str]]) -> _Groups:
    """Merge 一级/二级指标 labels as the printed form does; a span of 0 is merged above.

    A blank label continues the group above it; a 二级 group never spans a change of 一级.
    """
    groups = _Groups([], [], [], [])
    head1 = head2 = -1
    for index, (raw1, raw2) in enumerate(levels):
        label1 = raw1.strip() or (groups.level1[-1] if index else "")
        same1 = index > 0 and label1 == groups.level1[-1]
        label2 = raw2.strip() or (groups.level2[-1] if same1 else "")
        groups.level1.append(label1)
        groups.level2.append(label2)
        groups.level1_spans.append(1)
        groups.level2_spans.append(1)
        if same1:
            groups.level1_spans[head1] += 1
            groups.level1_spans[index] = 0
            if label2 == groups.level2[-2]:
                groups.level2_spans[head2] += 1
                groups.level2_spans[index] = 0
                continue
        else:
            head1 = index
        head2 = index
    return groups


class _Builder:
    def __init__(self) -> None:
        self.sections: list[Section] = []
        self.number = 0

    def section(self, name: str) -> Section:
        section = Section(name)
        self.sections.append(section)
        return section

    def row(self, section: Section, kind: str, **extra: Any) -> Row:
        self.number += 1
        row = Row(section.name, kind, self.number, **extra)
        section.rows.append(row)
        return row


def _put(row: Row, col: int, text: str, kind: str = TEXT, **extra: Any) -> Cell:
    cell = Cell(row.number, col, text, kind, **extra)
    if kind == HEAD and "value" not in extra:
        cell.value = text
    row.cells.append(cell)
    return cell


def _money(row: Row, col: int, value: Decimal | None, key: str) -> None:
    _put(row, col, format_money(value), MONEY, value=value, field=key)


def _points(row: Row, col: int, value: Decimal | None, key: str, **extra: Any) -> None:
    _put(row, col, format_points(value), POINTS, value=value, field=key, **extra)


def _text(row: Row, col: int, value: str, key: str, **extra: Any) -> None:
    _put(row, col, value or "", TEXT, value=value, field=key, **extra)


def _funding_rows(form_data: FormData, every_kind: bool) -> list[FundingData]:
    rows = list(form_data.funding)
    if every_kind:
        known = {row.kind for row in rows}
        rows += [FundingData(kind) for kind in FUNDING_STANDARD if kind not in known]
        order = {kind: i for i, kind in enumerate(FUNDING_ORDER)}
        rows.sort(key=lambda row: order.get(row.kind, len(order)))
    elif not any(row.kind == FundingKind.TOTAL for row in rows):
        # The execution weight, rate and score belong to the total row: print it even blank.
        rows.insert(0, FundingData(FundingKind.TOTAL))
    return rows


def form_layout(
    form_data: FormData,
    result: ScoreResult | None = None,
    *,
    indicator_comments: Mapping[int, Any] | None = None,
    funding_comments: Mapping[str, Any] | None = None,
    status: str = "",
    every_funding_kind: bool = False,
    signature: Signature | None = None,
    with_grade: bool = True,
) -> Layout:
    """The official form of ``form`` as rows of cells on the nine-column grid.

    ``result`` adds the execution rate, the computed notes and the findings per row;
    the comments (per 1-based indicator position, per funding kind) are hung on their
    rows as given. ``every_funding_kind`` lists the four standard funding rows (the entry
    form) beside the rows the form has, instead of only those. ``signature`` adds the signature block below the
    table (section SIGNATURE). ``with_grade`` (default) narrows the total to column 8 and
    puts the computed total's grade (等级：优) in column 9; the entry form, which scores while
    typing, and a form not handed in (a draft, 部门审核, 已退回: no result yet) leave it out.
    """
    indicator_comments = indicator_comments or {}
    funding_comments = funding_comments or {}
    b = _Builder()

    # --- header
    header = b.section(HEADER)
    row = b.row(header, "project")
    _put(row, 1, header_label("project_name"), HEAD, label_for="project_name")
    _text(row, 2, form_data.project_name, "project_name", colspan=8)
    row = b.row(header, "units")
    _put(row, 1, header_label("department"), HEAD, label_for="department")
    _text(row, 2, form_data.department, "department", colspan=3)
    _put(row, 5, header_label("implementing_unit"), HEAD, label_for="implementing_unit")
    _text(row, 6, form_data.implementing_unit, "implementing_unit", colspan=4)

    # --- funding
    funding = b.section(FUNDING)
    funding_data = _funding_rows(form_data, every_funding_kind)
    row = b.row(funding, "heading")
    _put(row, 1, funding_block_label(), HEAD, rowspan=len(funding_data) + 1)
    _put(row, 2, "", HEAD, colspan=2)
    for col, label in enumerate(funding_headings(), start=4):
        _put(row, col, label, HEAD)
    for data in funding_data:
        kind = data.kind
        row = b.row(
            funding,
            "funding",
            funding_kind=kind,
            findings=result.findings_for_funding(kind) if result is not None else [],
            comment=funding_comments.get(kind),
        )
        _put(row, 2, funding_label(kind), HEAD, colspan=2)
        for name in ("initial_budget", "annual_budget", "executed"):
            _money(row, FUNDING_COLUMNS[name], getattr(data, name), f"funding.{kind}.{name}")
        if kind == FundingKind.TOTAL:
            _points(
                row,
                FUNDING_COLUMNS["execution_weight"],
                form_data.execution_weight,
                "execution_weight",
            )
            rate = result.execution_rate if result is not None else None
            _put(
                row, 8, format_percent(rate, blank=""), PERCENT, value=rate, field="execution_rate"
            )
            computed = result.execution_score if result is not None else None
            note = computed_note(form_data.execution_score, computed) if result is not None else ""
            _points(row, 9, form_data.execution_score, "execution_score", note=note)
        else:
            for col in (7, 8, 9):
                _put(row, col, DASH_TEXT, DASH)

    # --- goals
    goals = b.section(GOALS)
    row = b.row(goals, "heading")
    _put(row, 1, str(GOALS_BLOCK), HEAD, rowspan=2)
    _put(row, 2, str(GOAL_TARGET), HEAD, colspan=4, label_for="goal_target")
    _put(row, 6, str(GOAL_ACTUAL), HEAD, colspan=4, label_for="goal_actual")
    row = b.row(goals, "goal")
    _text(row, 2, form_data.goal_target, "goal_target", colspan=4)
    _text(row, 6, form_data.goal_actual, "goal_actual", colspan=4)

    # --- indicators
    indicators = b.section(INDICATORS)
    row = b.row(indicators, "heading")
    _put(row, 1, str(INDICATORS_BLOCK), HEAD, rowspan=max(len(form_data.indicators), 1) + 1)
    for f in TABLE_INDICATOR_FIELDS:
        _put(row, INDICATOR_COLUMNS[f.key], str(f.label), HEAD)
    groups = indicator_groups([(ind.level1, ind.level2) for ind in form_data.indicators])
    for index, ind in enumerate(form_data.indicators):
        position = index + 1
        key = f"indicators.{position}"
        row = b.row(
            indicators,
            "indicator",
            position=position,
            findings=result.findings_for_indicator(index) if result is not None else [],
            comment=indicator_comments.get(position),
        )
        if groups.level1_spans[index]:
            _text(row, 2, groups.level1[index], f"{key}.level1", rowspan=groups.level1_spans[index])
            row.cells[-1].value = ind.level1
        if groups.level2_spans[index]:
            _text(row, 3, groups.level2[index], f"{key}.level2", rowspan=groups.level2_spans[index])
            row.cells[-1].value = ind.level2
        _text(row, 4, ind.name, f"{key}.name")
        _text(
            row, 5, ind.target, f"{key}.target", note=approved_note(ind.approved_target, ind.target)
        )
        _text(row, 6, ind.actual, f"{key}.actual")
        weight_note = ""
        if ind.approved_weight is not None and ind.approved_weight != ind.weight:
            weight_note = approved_note(
                format_points(ind.approved_weight), format_points(ind.weight)
            )
        _points(row, 7, ind.weight, f"{key}.weight", note=weight_note)
        suggested = None
        if result is not None and index < len(result.indicators):
            suggested = result.indicators[index].suggested_score
        _points(row, 8, ind.score, f"{key}.score", note=computed_note(ind.score, suggested))
        _text(row, 9, ind.deviation, f"{key}.deviation")
    if not form_data.indicators:
        row = b.row(indicators, "empty")
        _put(row, 2, str(NO_INDICATORS), DASH, colspan=8)

    # --- total
    total = b.section(TOTAL)
    row = b.row(total, "total")
    _put(row, 1, header_label("stated_total"), HEAD, colspan=6)
    weight_note = weight_sum_note(result.weight_sum) if result is not None else ""
    _put(row, 7, format_points(FULL_MARK), POINTS, value=FULL_MARK, note=weight_note)
    computed = result.computed_total if result is not None else None
    _points(
        row,
        8,
        form_data.stated_total,
        "stated_total",
        colspan=1 if with_grade else 2,
        note=computed_note(form_data.stated_total, computed),
    )
    if with_grade:
        # The grade of the computed total (core.grades), beside the total in every rendering.
        label = grade(computed)
        _put(row, 9, grade_text(label), TEXT, value=label, field=GRADE_FIELD)

    if signature is not None:
        _signature_rows(b, form_data, signature)

    return Layout(
        title=str(TITLE),
        year=form_data.year,
        year_line=year_line(form_data.year),
        sections=b.sections,
        form_findings=result.form_findings() if result is not None else [],
        status=status,
    )


def _signature_rows(b: _Builder, form_data: FormData, signature: Signature) -> None:
    """The block below the table: labels on the left and in column 6, values beside them."""
    section = b.section(SIGNATURE)
    right = [
        (header_label("unit_head"), form_data.unit_head, "unit_head"),
        (header_label("filler_name"), form_data.filler_name, "filler_name"),
        (header_label("filler_phone"), form_data.filler_phone, "filler_phone"),
        (str(SUBMITTED_ON), date_text(signature.submitted_on), "submitted_on"),
    ]
    left = [(str(STAMP_LABEL), "", "stamp", len(right))]
    if signature.approved:
        left.append((str(REVIEW_UNIT), signature.review_unit, "review_unit", 2))
        right += [
            (str(APPROVER), signature.approver, "approver"),
            (str(APPROVED_ON), date_text(signature.approved_on), "approved_on"),
        ]
    starts = {}
    first = 0
    for label, value, key, span in left:
        starts[first] = (label, value, key, span)
        first += span
    for index, (label, value, key) in enumerate(right):
        row = b.row(section, "signature")
        if index in starts:
            head, text, name, span = starts[index]
            _put(row, 1, head, HEAD, colspan=2, rowspan=span, label_for=name)
            # The stamp's cell stays empty: room for the unit's seal.
            _put(row, 3, text, TEXT, value=text, field=f"signature.{name}", colspan=3, rowspan=span)
        _put(row, 6, label, HEAD, label_for=key)
        if key in fields.HEADER:
            _text(row, 7, value, key, colspan=3)
        else:
            _put(row, 7, value, TEXT, value=value, field=f"signature.{key}", colspan=3)


def finding_json(finding: Finding, row_numbers: list[int] | None = None) -> dict[str, Any]:
    """A finding for the entry page's script; ``row`` is the formset row it concerns."""
    data = finding.as_dict()
    row = None
    if finding.indicator is not None and row_numbers is not None:
        if 0 <= finding.indicator < len(row_numbers):
            row = row_numbers[finding.indicator]
    data["row"] = row
    return data
