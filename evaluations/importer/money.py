"""The money block (项目资金) of an imported form: its unit, its columns by name, its rows.

Unit. The form stores 万元. The unit is read from the block's label (``项目资金（元）``), a
column heading (``全年预算数（万元）``), a unit line above the table (``单位：元``,
``金额单位：万元``) or an amount written with its unit (``12,000.00元``). Amounts in 元 are
converted to 万元 by dividing by 10,000 and rounding half up to four decimals, the places
``FundingRow`` keeps (0.0001 万元 = 1 元): 387,664.62 元 is stored as 38.7665 万元, within half
a yuan of what was written. A problem says that the form was converted. Every unit said
in one block (label, headings, unit line, amounts) must agree. A stated execution
rate (执行率, on the total row or any other) is checked against its row's amounts after
conversion: a problem when they differ by more than one unit of the rate's last digit.

Unit not said. 万元 is assumed, as the national template prints it, unless an amount is
``YUAN_SUSPECT`` (10,000) or more. Read as 万元 that is 1亿元 or more for one project of one
department, far above the project budgets of a county or prefecture department (the
largest amount of the sample forms in sample_data/ is 300 万元); read as 元 it is 1万元 or
more, the size of nearly every project. So a form published in 元 without saying so
(387,664.62) is caught, and a real project of 1亿元 or more only has to write （万元） in its
label. Below the threshold an amount in 元 cannot be told from one in 万元: a project of
less than 1万元 in 元 would be read as 万元, which is why a stated unit is always preferred.

Columns are found by their headings (年初预算数 / 全年预算数(A) / 调整后预算数 / 全年执行数(B) /
预算执行数 / 执行率(B/A) / 分值 / 权重 / 得分 / 原因), never by position: a row under no
heading is not read.

What is not read with certainty is never imported: the form is skipped, with a problem
for each doubt (its line or cell and what was expected) and one that says the form was
not imported. A doubt is: a unit not said with an amount of ``YUAN_SUSPECT`` or more,
units that contradict each other, an amount that is not a number, funding rows without a
heading, a number under a heading that is not a money column, a funding row of a kind the
form cannot hold, a repeated funding row. Skipped rather than imported with a blocking
finding because the dashboards, exports and sums read the amounts of every stored form
whatever its findings: a figure 10,000 times too large must not reach them, and the
stored version of a re-imported form stays as it was until the file is corrected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Context, Decimal

from common.translation import _
from evaluations.core.evaluation_data import FormData, FundingData
from evaluations.core.fields import FUNDING, FundingKind
from evaluations.importer.cells import (
    _PLACEHOLDERS,
    Cell,
    Row,
    label_key,
    parse_number,
    snippet,
)
from evaluations.importer.results import Problem

YUAN = "元"
WAN = "万元"
YUAN_SUSPECT = Decimal(10000)
_YUAN_PER_WAN = Decimal(10000)
_STORED_PLACES = Decimal("0.0001")  # FundingRow's decimal places: one yuan
_WIDE = Context(prec=100)  # quantizing an absurd amount must not raise
_AMOUNTS = ("initial_budget", "annual_budget", "executed")

_UNIT_IN_LABEL = re.compile(r"\((万元|元)\)")  # label_key turns （） into ()
_UNIT_LINE = re.compile(r"^(?:金额|资金)?单位:(万元|元)$")
# What a heading may carry beside its name: (A), (B/A), (万元), (%).
_HEADING_TAGS = re.compile(r"\((?:[A-Za-z]+(?:/[A-Za-z]+)?|万元|元|%)\)")
_COLUMNS = {
    "年初预算数": "initial_budget",
    "年初预算": "initial_budget",
    "全年预算数": "annual_budget",
    "全年预算": "annual_budget",
    "调整后预算数": "annual_budget",
    "调整后预算": "annual_budget",
    "全年执行数": "executed",
    "执行数": "executed",
    "实际执行数": "executed",
    "预算执行数": "executed",
    "分值": "weight",
    "权重": "weight",
    "执行率": "rate",
    "预算执行率": "rate",
    "得分": "score",
}
_LABEL_ONLY = re.compile(r"^(?:项目资金)?(?:\((?:万元|元)\))?$")
_RATE_LABELS = frozenset({"执行率", "预算执行率"})
_AMOUNT_UNIT = re.compile(r"^(.*?)(万元|万|元)$")
_PERCENT = re.compile(r"^(\d+)(?:\.(\d+))?%$")
_NUMBER = re.compile(r"^(\d+)(?:\.(\d+))?$")


def unit_of(norm: str) -> str | None:
    """The unit a label or heading names in brackets (项目资金(元) → 元), if any."""
    found = _UNIT_IN_LABEL.search(norm)
    return found.group(1) if found else None


def column_of(norm: str) -> str | None:
    """The money field a heading names (全年预算数(A) → annual_budget), if any."""
    name = _HEADING_TAGS.sub("", norm)
    if name in _COLUMNS:
        return _COLUMNS[name]
    if "原因" in name and len(name) <= 12:
        return "reason"
    return None


def is_money_header(norms: list[str]) -> bool:
    """Whether the row heads the money block: it names two of its amount columns."""
    return sum(1 for n in norms if column_of(n) in _AMOUNTS) >= 2


def read_amount(text: str) -> tuple[Decimal | None, str | None, bool]:
    """An amount as written: (value, its own unit or None, readable); blank is (None, None, True)."""
    norm = label_key(text)
    unit = None
    written = _AMOUNT_UNIT.match(norm)
    if written:
        if not written.group(1):
            return None, None, True  # the unit alone: a blank cell
        norm, unit = written.group(1), YUAN if written.group(2) == YUAN else WAN
    value, ok = parse_number(norm)
    if not ok:
        return None, None, False
    return value, unit if value is not None else None, True


def _stated_rate(text: str) -> tuple[Decimal, int] | None:
    """A stated rate as a percentage and its decimal places ("82.21%" → 82.21, 2)."""
    norm = label_key(text)
    found = _PERCENT.match(norm)
    if found:
        return Decimal(norm[:-1]), len(found.group(2) or "")
    found = _NUMBER.match(norm)
    if found:
        value, places = Decimal(norm), len(found.group(2) or "")
        # A bare fraction (0.8221) or a percentage without its sign (82.21).
        return (value * 100, max(places - 2, 0)) if value <= 1 else (value, places)
    return None


def _kind_label(kind: str) -> str:
    return str(FundingKind(kind).label).removeprefix(_("其中："))


@dataclass
class _StatedRate:
    kind: str
    percent: Decimal
    places: int
    text: str
    line: int


@dataclass
class MoneyBlock:
    """What the importer learnt of one form's money block while reading it."""

    units: list[tuple[str, int, str]] = field(default_factory=list)  # unit, line, where
    columns: list[str | None] | None = None  # the field of each heading, first name on
    headings: list[str] = field(default_factory=list)
    rates: list[_StatedRate] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)  # said, the form is imported
    doubts: list[Problem] = field(default_factory=list)  # the form is not imported
    headless_reported: bool = False

    def note_unit(self, unit: str, line: int, where: str) -> None:
        self.units.append((unit, line, where))

    def doubt(self, line: int | None, message: str) -> None:
        self.doubts.append(Problem(line=line, message=message))

    def note(self, line: int | None, message: str) -> None:
        self.notes.append(Problem(line=line, message=message))


def unit_lines(row: Row, norms: list[str]) -> tuple[list[tuple[str, int, str]], Row, list[str]]:
    """The unit lines of a row (单位：元) and the row without them."""
    found = [(i, _UNIT_LINE.match(norm)) for i, norm in enumerate(norms) if _UNIT_LINE.match(norm)]
    if not found:
        return [], row, norms
    at = {i for i, _match in found}
    units = [
        (match.group(1), row.cells[i].line, snippet(row.cells[i].text))
        for i, match in found
        if match
    ]
    cells = [Cell(text="", line=c.line) if i in at else c for i, c in enumerate(row.cells)]
    return (
        units,
        Row(cells=cells, line=row.line),
        ["" if i in at else n for i, n in enumerate(norms)],
    )


def read_header(block: MoneyBlock, row: Row, norms: list[str]) -> None:
    """Take the block's columns from their headings, and any unit they name."""
    start = next(i for i, n in enumerate(norms) if column_of(n) is not None)
    block.columns = [column_of(n) for n in norms[start:]]
    block.headings = [snippet(c.text) for c in row.cells[start:]]
    for cell, norm in zip(row.cells, norms, strict=True):
        unit = unit_of(norm)
        if unit:
            block.note_unit(unit, cell.line, snippet(cell.text))


def read_row(block: MoneyBlock, form: FormData, row: Row, label_at: int, kind: str) -> None:
    """Read one funding row by the block's headings into ``form``."""
    cells = row.cells
    label = _kind_label(kind)
    if form.funding_row(kind) is not None:
        block.doubt(
            row.line,
            _("资金行“%(label)s”重复出现，无法确定哪一行是准确的。")
            % {"label": snippet(cells[label_at].text)},
        )
        return
    for cell in cells[: label_at + 1]:
        unit = unit_of(label_key(cell.text))
        if unit:
            block.note_unit(unit, cell.line, snippet(cell.text))
    if block.columns is None:
        if not block.headless_reported:
            block.headless_reported = True
            block.doubt(
                row.line,
                _(
                    "资金行“%(label)s”上方没有表头（年初预算数、全年预算数、全年执行数……），"
                    "无法确定各栏金额是什么。"
                )
                % {"label": snippet(cells[label_at].text)},
            )
        return
    funding = FundingData(kind=kind, line=row.line)
    values = cells[label_at + 1 :]
    for column, heading, cell in zip(block.columns, block.headings, values, strict=False):
        norm = label_key(cell.text)
        if column is None:
            if parse_number(norm)[0] is not None or read_amount(cell.text)[0] is not None:
                block.doubt(
                    cell.line,
                    _(
                        "资金行“%(row)s”在“%(heading)s”栏的“%(text)s”不属于任何资金栏"
                        "（应为年初预算数、全年预算数、全年执行数、分值、执行率或得分）。"
                    )
                    % {"row": label, "heading": heading, "text": snippet(cell.text)},
                )
            continue
        if column == "reason":
            if norm not in _PLACEHOLDERS:
                block.note(
                    cell.line,
                    _("资金行“%(row)s”的“%(heading)s”未导入（自评表没有对应的栏目）：%(text)s")
                    % {"row": label, "heading": heading, "text": snippet(cell.text)},
                )
            continue
        if column == "rate":
            _read_rate(block, kind, cell)
            continue
        if column in ("weight", "score"):
            if kind == FundingKind.TOTAL:
                value, ok = parse_number(cell.text)
                if not ok:
                    block.note(
                        cell.line,
                        _("无法识别的数字“%(text)s”，按空白处理。") % {"text": snippet(cell.text)},
                    )
                if column == "weight":
                    form.execution_weight = value
                else:
                    form.execution_score = value
            continue  # only the total row carries the execution weight and score
        value, unit, ok = read_amount(cell.text)
        if not ok:
            block.doubt(
                cell.line,
                _(
                    "资金行“%(row)s”的“%(heading)s”“%(text)s”不是金额（应为数字，可带“元”或“万元”）。"
                )
                % {"row": label, "heading": heading, "text": snippet(cell.text)},
            )
            continue
        if unit:
            block.note_unit(unit, cell.line, snippet(cell.text))
        setattr(funding, column, value)
    form.funding.append(funding)


def _read_rate(block: MoneyBlock, kind: str, cell: Cell) -> None:
    if label_key(cell.text) in _PLACEHOLDERS:
        return
    stated = _stated_rate(cell.text)
    if stated is None:
        block.note(
            cell.line,
            _("资金行“%(row)s”的执行率“%(text)s”不是百分数，未核对。")
            % {"row": _kind_label(kind), "text": snippet(cell.text)},
        )
        return
    block.rates.append(_StatedRate(kind, stated[0], stated[1], snippet(cell.text), cell.line))


def read_label_row(block: MoneyBlock, row: Row, norms: list[str]) -> bool:
    """A row holding only the block's label (项目资金 / （元）) above its heading."""
    cells = [(cell, n) for cell, n in zip(row.cells, norms, strict=True) if n]
    if not cells or not all(_LABEL_ONLY.match(n) for _cell, n in cells):
        return False
    for cell, norm in cells:
        unit = unit_of(norm)
        if unit:
            block.note_unit(unit, cell.line, snippet(cell.text))
    return True


def read_other_row(block: MoneyBlock, row: Row, norms: list[str]) -> bool:
    """A row of the money block that is not a funding row; False when it holds no figure.

    执行率 written on a row of its own under the total is the total's stated rate; any other
    row with a figure is a kind of funds the form cannot hold.
    """
    labelled = [(i, n) for i, n in enumerate(norms) if n]
    if not labelled:
        return False
    at, first = labelled[0]
    figures = [row.cells[i] for i, n in labelled[1:] if read_amount(n)[0] is not None]
    if _HEADING_TAGS.sub("", first) in _RATE_LABELS:
        rate = next((row.cells[i] for i, n in labelled[1:] if n not in _PLACEHOLDERS), None)
        if rate is not None:
            _read_rate(block, FundingKind.TOTAL, rate)
            return True
        return False
    if not figures:
        return False
    block.doubt(
        row.cells[at].line,
        _(
            "资金表中的“%(label)s”不是可识别的资金行（应为年度资金总额、财政资金、当年财政拨款、"
            "上年结转资金、财政专户管理资金、单位资金或其他资金），其金额无法导入。"
        )
        % {"label": snippet(row.cells[at].text)},
    )
    return True


def finish(block: MoneyBlock, form: FormData) -> tuple[list[Problem], bool]:
    """Settle the block's unit and check its rates: (problems, whether the form may be imported)."""
    problems = list(block.notes)
    doubts = list(block.doubts)
    units = {unit for unit, _line, _where in block.units}
    if len(units) > 1:
        said = "、".join(f"“{where}”（{unit}）" for unit, _line, where in block.units)
        doubts.append(
            Problem(
                block.units[0][1],
                _("资金的金额单位前后矛盾：%(said)s，无法确定金额是元还是万元。") % {"said": said},
            )
        )
    elif units == {YUAN}:
        for funding in form.funding:
            for column in _AMOUNTS:
                value = getattr(funding, column)
                if value is not None:
                    setattr(funding, column, to_wan(value))
        _unit, line, where = block.units[0]
        problems.append(
            Problem(
                line,
                _(
                    "资金金额以元填写（“%(where)s”），已换算为万元：各金额除以10000，"
                    "四舍五入保留4位小数（精确到1元）。"
                )
                % {"where": where},
            )
        )
    elif not units:
        doubts += _unit_doubts(form)
    if not doubts:
        problems += _rate_problems(block, form)
    return problems + doubts, not doubts


def to_wan(yuan: Decimal) -> Decimal:
    """元 → 万元 as FundingRow stores it: four decimals (one yuan), half up."""
    return (yuan / _YUAN_PER_WAN).quantize(_STORED_PLACES, rounding=ROUND_HALF_UP, context=_WIDE)


def _unit_doubts(form: FormData) -> list[Problem]:
    """A unit not said, and an amount that only makes sense in 元."""
    for funding in form.funding:
        for column in _AMOUNTS:
            value = getattr(funding, column)
            if value is not None and value >= YUAN_SUSPECT:
                return [
                    Problem(
                        funding.line,
                        _(
                            "资金表没有注明金额单位，按万元读取时“%(row)s”的“%(column)s”为 "
                            "%(value)s 万元，更像是以元填写：请在“项目资金”处注明（元）或（万元）。"
                        )
                        % {
                            "row": _kind_label(funding.kind),
                            "column": FUNDING[column].label,
                            "value": value,
                        },
                    )
                ]
    return []


def _rate_problems(block: MoneyBlock, form: FormData) -> list[Problem]:
    """A stated rate that its row's amounts (in 万元, after any conversion) do not give."""
    problems = []
    for stated in block.rates:
        funding = form.funding_row(stated.kind)
        if funding is None or funding.annual_budget is None or funding.executed is None:
            continue
        if funding.annual_budget <= 0:
            continue
        computed = funding.executed / funding.annual_budget * 100
        if abs(computed - stated.percent) <= Decimal(1).scaleb(-stated.places):
            continue
        problems.append(
            Problem(
                stated.line,
                _(
                    "资金行“%(row)s”填写的执行率 %(stated)s 与金额不符：全年执行数 %(executed)s ÷ "
                    "全年预算数 %(budget)s = %(computed)s%%（万元）。"
                )
                % {
                    "row": _kind_label(stated.kind),
                    "stated": stated.text,
                    "executed": funding.executed,
                    "budget": funding.annual_budget,
                    "computed": computed.quantize(
                        Decimal("0.01"), rounding=ROUND_HALF_UP, context=_WIDE
                    ),
                },
            )
        )
    return problems


def not_imported(form: FormData) -> Problem:
    """The problem that closes a form skipped for its money."""
    return Problem(
        form.line,
        _("自评表“%(name)s”的资金未能准确读取（见上），该表未导入：请改正文件后重新导入。")
        % {"name": snippet(form.project_name)},
    )
