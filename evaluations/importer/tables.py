"""Recognise 项目支出绩效自评表 forms in a sequence of table rows, whatever the source format."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import AppRegistryNotReady, ImproperlyConfigured
from django.utils.translation import gettext

from evaluations.formdata import FormData, FundingData, IndicatorData


@dataclass
class Cell:
    """One table cell and the 1-based source line where it starts."""

    text: str
    line: int


@dataclass
class Row:
    """One table row; a paragraph outside a table is a row of one cell."""

    cells: list[Cell]
    line: int


@dataclass
class Problem:
    """Something the importer could not read, with its source line where known."""

    line: int | None
    message: str


@dataclass
class ParseResult:
    """Forms read from one file and the problems met while reading it."""

    forms: list[FormData] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


class UnreadableFile(Exception):
    """The file is not text the importer can decode (binary data, a .docx, ...)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _(message: str) -> str:
    """Translate a user-facing message (named `_` so makemessages finds the strings)."""
    try:
        return gettext(message)
    except (ImproperlyConfigured, AppRegistryNotReady):
        # The parser is pure and may run from a script without Django set up:
        # the Chinese source text is then the message.
        return message


# ---------------------------------------------------------------- text helpers

_WHITESPACE = re.compile(r"\s+")
# Cells that mean "nothing here" on these forms.
_PLACEHOLDERS = frozenset({"", "-", "--", "—", "——", "–", "/", "\\", "无数据", "〃", "同上"})
_NUMBER = re.compile(r"^([+-]?\d+(?:\.\d+)?)(?:分|万元|万|元)?$")
_UNIT_ONLY = frozenset({"分", "万元", "万", "元"})
_YEAR_CELL = re.compile(r"^(?:\((\d{4})年度?\)|(\d{4})年度)$")
_YEAR_ANYWHERE = re.compile(r"(\d{4})年")
_TITLE = re.compile(r"绩效自评表(?:\(\d{4}年度?\))?$")
_ATTACHMENT = re.compile(r"^附(?:件|表)\d*[:]?$")
_MAX_LABEL = 40
_HEADER_LABELS = (
    ("项目名称", "project_name"),
    ("主管部门", "department"),
    ("实施单位", "implementing_unit"),
)  # a label cell is short; longer cells are prose that may quote a label


def _norm(text: str) -> str:
    """Return text in the form used to recognise labels: NFKC, no whitespace at all."""
    return _WHITESPACE.sub("", unicodedata.normalize("NFKC", text))


def _clean(text: str) -> str:
    """Return a value as written, without the surrounding (also full-width) spaces."""
    return text.replace("\x07", "").replace("\x0b", "\n").strip()


def _label(text: str) -> str:
    """Return a category label without inner breaks (社会效益 / 指标 → 社会效益指标)."""
    label = _WHITESPACE.sub("", text.replace("\x07", ""))
    return "" if _norm(label) in _PLACEHOLDERS else label


def _snippet(text: str, size: int = 30) -> str:
    """Return a short single-line excerpt of a cell for a message."""
    flat = _WHITESPACE.sub(" ", text).strip()
    return flat if len(flat) <= size else flat[:size] + "…"


def parse_number(text: str) -> tuple[Decimal | None, bool]:
    """Read a decimal as written ("10.00分", "13万", " 8.22 "); blanks give (None, True).

    The second item is False when the text is neither blank nor a number.
    """
    value = _norm(text).replace(",", "")
    if value in _PLACEHOLDERS or value in _UNIT_ONLY:
        return None, True
    match = _NUMBER.match(value)
    if not match:
        return None, False
    try:
        return Decimal(match.group(1)), True
    except InvalidOperation:  # pragma: no cover - the regex only lets decimals through
        return None, False


# ---------------------------------------------------------------- column maps

_FUNDING_COLUMNS = {
    "年初预算数": "initial_budget",
    "年初预算": "initial_budget",
    "全年预算数": "annual_budget",
    "全年预算": "annual_budget",
    "调整后预算数": "annual_budget",
    "全年执行数": "executed",
    "执行数": "executed",
    "实际执行数": "executed",
    "分值": "weight",
    "执行率": "rate",
    "得分": "score",
}
_DEFAULT_FUNDING = ["initial_budget", "annual_budget", "executed", "weight", "rate", "score"]

_INDICATOR_COLUMNS = {
    "一级指标": "level1",
    "二级指标": "level2",
    "三级指标": "name",
    "年度指标值": "target",
    "年度": "target",
    "指标值": "target",
    "年度目标值": "target",
    "目标值": "target",
    "实际完成值": "actual",
    "实际": "actual",
    "完成值": "actual",
    "实际值": "actual",
    "分值": "weight",
    "权重": "weight",
    "得分": "score",
    "自评得分": "score",
}
# The printed layout: a merged label column, then the nine columns of the table.
_DEFAULT_INDICATORS = {
    "level1": 1,
    "level2": 2,
    "name": 3,
    "target": 4,
    "actual": 5,
    "weight": 6,
    "score": 7,
    "deviation": 8,
}
_DEFAULT_INDICATOR_WIDTH = 9
# First and second levels of the 2020-2021 templates and of the newer 成本指标 one,
# used only to recognise indicator rows when their header is missing.
_CATEGORY_LABELS = frozenset(
    {
        "产出指标",
        "效益指标",
        "满意度指标",
        "成本指标",
        "数量指标",
        "质量指标",
        "时效指标",
        "经济效益指标",
        "社会效益指标",
        "生态效益指标",
        "可持续影响指标",
        "服务对象满意度指标",
        "经济成本指标",
        "社会成本指标",
        "生态环境成本指标",
    }
)


def _indicator_column(norm: str) -> str | None:
    """Return the indicator field a header cell names, if any."""
    if norm in _INDICATOR_COLUMNS:
        return _INDICATOR_COLUMNS[norm]
    if "偏差" in norm or "原因分析" in norm:
        return "deviation"
    return None


def _funding_kind(norm: str) -> str | None:
    """Return the funding row kind a label cell names, if any."""
    if len(norm) > 15:
        return None
    if "资金总额" in norm or norm in ("合计", "总计"):
        return "total"
    if "财政拨款" in norm:
        return "current_year"
    if "上年结转" in norm or "结转资金" in norm:
        return "carryover"
    if "其他资金" in norm:
        return "other"
    return None


# ---------------------------------------------------------------- the parser


@dataclass
class _FormState:
    """A form being read, with what the parser needs to know about its layout."""

    form: FormData
    section: str = "header"  # header, funding, goal, indicators, done
    has_title: bool = True
    funding_columns: list[str | None] | None = None
    goal_columns: tuple[int | None, int | None, int] | None = None
    indicator_columns: dict[str, int] | None = None
    indicator_width: int = _DEFAULT_INDICATOR_WIDTH
    indicator_data_seen: bool = False
    level1: str = ""
    level2: str = ""
    has_total: bool = False
    default_layout_reported: set[str] = field(default_factory=set)


class _Parser:
    """Walks the rows once, keeping one form open at a time."""

    def __init__(self) -> None:
        self.forms: list[FormData] = []
        self.problems: list[Problem] = []
        self.state: _FormState | None = None
        self.orphans_reported = False
        self.skipping_other_form = False
        self.reported_forms = 0  # forms dropped or skipped, each with its own problem

    def problem(self, line: int | None, message: str) -> None:
        self.problems.append(Problem(line=line, message=message))

    # -- form boundaries

    def open_form(self, line: int, *, has_title: bool) -> _FormState:
        self.close_form()
        self.skipping_other_form = False
        self.state = _FormState(
            form=FormData(line=line, execution_weight=None), has_title=has_title
        )
        return self.state

    def close_form(self) -> None:
        state, self.state = self.state, None
        if state is None:
            return
        form = state.form
        line = form.line
        name = form.project_name
        if not state.has_title:
            self.problem(line, _("此处开始的自评表没有标题“项目支出绩效自评表”，按新表读取。"))
        if not name or form.year is None:
            missing = []
            if not name:
                missing.append(_("项目名称"))
            if form.year is None:
                missing.append(_("年度"))
            self.problem(
                line,
                _("此处开始的自评表缺少%(missing)s，未导入。") % {"missing": "、".join(missing)},
            )
            self.reported_forms += 1
            return
        missing = []
        if not form.department:
            missing.append(_("主管部门"))
        if not form.implementing_unit:
            missing.append(_("实施单位"))
        if form.funding_row("total") is None:
            missing.append(_("资金表（年度资金总额行）"))
        if not form.indicators:
            missing.append(_("绩效指标"))
        if not state.has_total:
            missing.append(_("总分行"))
        if missing:
            self.problem(
                line,
                _("自评表“%(name)s”缺少%(missing)s。")
                % {"name": name, "missing": "、".join(missing)},
            )
        self.forms.append(form)

    # -- the walk

    def run(self, rows: list[Row]) -> None:
        for row in rows:
            self.row(row)
        self.close_form()
        if not self.forms and not self.reported_forms:
            first = rows[0].line if rows else 1
            self.problem(
                first, _("没有找到项目支出绩效自评表：文件内容不是自评表，或缺少标题和项目名称。")
            )

    def row(self, row: Row) -> None:
        cells = row.cells
        norms = [_norm(c.text) for c in cells]
        if not any(norms):
            return
        title_at = self.find_title(norms)
        if title_at is not None:
            self.title(row, title_at, norms)
            return
        if self.skipping_other_form:
            return
        state = self.state
        section = state.section if state else None

        if section == "indicators":
            if self.header_tokens(row, norms, strict=True):
                return
            self.indicator_section_row(row, norms)
            return
        if section == "done":
            if self.header_tokens(row, norms, strict=True):
                return
            if self.looks_like_form_content(norms):
                self.problem(
                    row.line,
                    _("总分行之后的表格内容不属于任何自评表，未读取：%(text)s")
                    % {"text": self.row_snippet(cells)},
                )
            return
        if self.header_tokens(row, norms, strict=False):
            return
        if state is None:
            if self.looks_like_form_content(norms) and not self.orphans_reported:
                self.orphans_reported = True
                self.problem(row.line, _("表格内容出现在自评表标题和项目名称之前，未读取。"))
            return
        self.body_row(state, row, norms)

    @staticmethod
    def find_title(norms: list[str]) -> int | None:
        """Return the index of the title cell, if the row is a title row.

        The title leads its row (after 附件1：) and the row holds little else, so an
        indicator named like "报送绩效自评表" is not taken for the start of a form.
        """
        if sum(1 for n in norms if n) > 4:
            return None
        for i, norm in enumerate(norms):
            if not norm or _ATTACHMENT.match(norm):
                continue
            if len(norm) <= _MAX_LABEL and _TITLE.search(norm):
                return i
            return None
        return None

    def title(self, row: Row, at: int, norms: list[str]) -> None:
        norm = norms[at]
        if "部门整体" in norm:
            self.close_form()
            self.skipping_other_form = True
            self.reported_forms += 1
            self.problem(
                row.cells[at].line,
                _("“%(title)s”不是项目支出绩效自评表，已跳过。")
                % {"title": _snippet(row.cells[at].text)},
            )
            return
        line = row.cells[at].line
        state = self.state
        if (
            state
            and not state.has_title
            and state.section == "header"
            and not state.form.project_name
        ):
            # The year row came before the title: both belong to the same form.
            state.has_title = True
            state.form.line = line
        else:
            state = self.open_form(line, has_title=True)
        year = _YEAR_ANYWHERE.search(norm)
        if year:
            self.set_year(state, int(year.group(1)), row.cells[at].line)
        rest = Row(cells=row.cells[at + 1 :], line=row.line)
        self.header_tokens(rest, norms[at + 1 :], strict=False, same_form=True)

    def set_year(self, state: _FormState, year: int, line: int) -> None:
        if not 2000 <= year <= 2100:
            self.problem(line, _("年度“%(year)s”不在合理范围内，未读取。") % {"year": year})
            return
        state.form.year = year

    # -- header: title, year, 项目名称, 主管部门, 实施单位

    def header_tokens(
        self, row: Row, norms: list[str], *, strict: bool, same_form: bool = False
    ) -> bool:
        """Read the header cells of a row; return whether the row was a header row.

        strict: only a year alone in its row or an exact 项目名称 label counts, since
        inside the indicator table a target such as "2021年度" must stay data.
        same_form: the cells follow the title in its row, so they never start a new form.
        """
        cells = row.cells
        nonempty = [i for i, n in enumerate(norms) if n]
        has_name = any(n == "项目名称" or n.startswith("项目名称:") for n in norms)
        year_cells = [i for i in nonempty if _YEAR_CELL.match(norms[i])]
        has_dept = any(
            n in ("主管部门", "实施单位") or n.startswith(("主管部门:", "实施单位:")) for n in norms
        )
        if strict:
            alone_year = len(nonempty) == 1 and year_cells
            if not (has_name or alone_year):
                return False
        elif not (has_name or year_cells or has_dept):
            return False
        if all(_ATTACHMENT.match(norms[i]) for i in nonempty):
            return True

        state = self.state
        # A repeated header field means the previous form ended without a new title.
        if not same_form and (
            state is None
            or state.section != "header"
            or (has_name and state.form.project_name)
            or (year_cells and state.form.year is not None)
        ):
            if not (has_name or year_cells):
                self.problem(row.line, _("主管部门/实施单位行不在自评表表头中，未读取。"))
                return True
            state = self.open_form(row.line, has_title=False)

        i = 0
        while i < len(cells):
            norm = norms[i]
            if not norm or _ATTACHMENT.match(norm):
                i += 1
                continue
            year = _YEAR_CELL.match(norm)
            attr = next(
                (
                    attr
                    for label, attr in _HEADER_LABELS
                    if norm == label or norm.startswith(label + ":")
                ),
                None,
            )
            if year:
                self.set_year(state, int(year.group(1) or year.group(2)), cells[i].line)
            elif attr:
                parts = re.split(r"[:：︰]", cells[i].text, maxsplit=1)
                value = _clean(parts[1]) if ":" in norm and len(parts) > 1 else ""
                if not value:
                    i, value = self.next_value(cells, norms, i)
                if value:
                    setattr(state.form, attr, value)
            else:
                self.problem(
                    cells[i].line,
                    _("表头中无法识别的内容：%(text)s") % {"text": _snippet(cells[i].text)},
                )
            i += 1
        return True

    @staticmethod
    def next_value(cells: list[Cell], norms: list[str], i: int) -> tuple[int, str]:
        """Return the index and text of the value cell after the label at i."""
        for j in range(i + 1, len(cells)):
            if not norms[j]:
                continue
            if any(
                norms[j].startswith(label) for label, _attr in _HEADER_LABELS
            ) or _YEAR_CELL.match(norms[j]):
                return j - 1, ""
            return j, _clean(cells[j].text)
        return len(cells), ""

    # -- body: funding, goals, indicators, total

    def body_row(self, state: _FormState, row: Row, norms: list[str]) -> None:
        cells = row.cells
        if (
            sum(
                1
                for n in norms
                if n in _FUNDING_COLUMNS
                and _FUNDING_COLUMNS[n] in ("initial_budget", "annual_budget", "executed")
            )
            >= 2
        ):
            state.section = "funding"
            state.funding_columns = self.funding_header(norms)
            return
        for i, norm in enumerate(norms[:3]):
            kind = _funding_kind(norm)
            if kind:
                state.section = "funding"
                self.funding_row(state, row, i, kind)
                return
        if self.is_goal_header(norms):
            state.section = "goal"
            self.goal_header(state, row, norms)
            return
        columns = self.indicator_header(norms)
        if columns is not None:
            self.start_indicators(state, columns, len(cells))
            return
        if self.is_total(norms):
            self.total_row(state, row, norms)
            return
        if self.looks_like_indicator(norms):
            # The indicator header is missing: read the row with the printed layout.
            self.start_indicators(state, None, len(cells), line=row.line)
            self.indicator_row(state, row)
            return
        if state.section == "goal":
            self.goal_text(state, row, norms)
            return
        self.problem(row.line, _("无法识别的行：%(text)s") % {"text": self.row_snippet(cells)})

    @staticmethod
    def row_snippet(cells: list[Cell]) -> str:
        return _snippet(" | ".join(_clean(c.text) for c in cells if c.text.strip()), 40)

    @staticmethod
    def looks_like_form_content(norms: list[str]) -> bool:
        return any(
            _funding_kind(n)
            or n in ("一级指标", "二级指标", "总分", "年度总体目标")
            or n.endswith(("产出指标", "效益指标", "满意度指标"))
            for n in norms
            if n
        )

    @staticmethod
    def looks_like_indicator(norms: list[str]) -> bool:
        """Whether a row without an indicator header above it still reads as an indicator."""
        return len(norms) >= 5 and any(n in _CATEGORY_LABELS for n in norms[:4])

    @staticmethod
    def funding_header(norms: list[str]) -> list[str | None]:
        start = next(i for i, n in enumerate(norms) if n in _FUNDING_COLUMNS)
        return [_FUNDING_COLUMNS.get(n) for n in norms[start:]]

    def funding_row(self, state: _FormState, row: Row, label_at: int, kind: str) -> None:
        form = state.form
        if form.funding_row(kind) is not None:
            self.problem(
                row.line,
                _("重复的资金行“%(label)s”，未读取。")
                % {"label": _snippet(row.cells[label_at].text)},
            )
            return
        columns = state.funding_columns
        if columns is None:
            columns = _DEFAULT_FUNDING
            if "funding" not in state.default_layout_reported:
                state.default_layout_reported.add("funding")
                self.problem(
                    row.line, _("资金表缺少表头（年初预算数、全年预算数……），按标准列序读取。")
                )
        funding = FundingData(kind=kind, line=row.line)
        for column, cell in zip(columns, row.cells[label_at + 1 :], strict=False):
            if column is None or column == "rate":
                continue
            if column in ("weight", "score") and kind != "total":
                continue  # only the total row carries the execution weight and score
            value = self.number(cell)
            if column == "weight":
                form.execution_weight = value
            elif column == "score":
                form.execution_score = value
            else:
                setattr(funding, column, value)
        form.funding.append(funding)

    def number(self, cell: Cell) -> Decimal | None:
        value, ok = parse_number(cell.text)
        if not ok:
            self.problem(
                cell.line,
                _("无法识别的数字“%(text)s”，按空白处理。") % {"text": _snippet(cell.text)},
            )
        return value

    @staticmethod
    def is_goal_header(norms: list[str]) -> bool:
        return any(n in ("年度总体目标", "总体目标") for n in norms) or (
            "预期目标" in norms and any(n.startswith("实际完成情况") for n in norms)
        )

    def goal_header(self, state: _FormState, row: Row, norms: list[str]) -> None:
        target_at = next((i for i, n in enumerate(norms) if n == "预期目标"), None)
        actual_at = next((i for i, n in enumerate(norms) if n.startswith("实际完成情况")), None)
        state.goal_columns = (target_at, actual_at, len(norms))
        if target_at is None and actual_at is None:
            # Older layout: 年度总体目标 | <goal text> in one row.
            texts = [
                _clean(c.text)
                for c, n in zip(row.cells, norms, strict=True)
                if n and n not in ("年度总体目标", "总体目标")
            ]
            self.add_goal_texts(state.form, texts)

    def goal_text(self, state: _FormState, row: Row, norms: list[str]) -> None:
        form = state.form
        columns = state.goal_columns
        if (
            columns
            and columns[0] is not None
            and columns[1] is not None
            and len(norms) == columns[2]
        ):
            target = _clean(row.cells[columns[0]].text)
            actual = _clean(row.cells[columns[1]].text)
            if target:
                form.goal_target = f"{form.goal_target}\n{target}" if form.goal_target else target
            if actual:
                form.goal_actual = f"{form.goal_actual}\n{actual}" if form.goal_actual else actual
            return
        texts = [
            _clean(c.text)
            for c, n in zip(row.cells, norms, strict=True)
            if n and n != "年度总体目标"
        ]
        self.add_goal_texts(form, texts)

    @staticmethod
    def add_goal_texts(form: FormData, texts: list[str]) -> None:
        for text in texts:
            # Cells come in reading order: the goal first, then what was achieved.
            if not form.goal_target and not form.goal_actual:
                form.goal_target = text
            elif not form.goal_actual:
                form.goal_actual = text
            else:
                form.goal_actual = f"{form.goal_actual}\n{text}"

    @staticmethod
    def indicator_header(norms: list[str]) -> dict[str, int] | None:
        if "一级指标" not in norms or not ("二级指标" in norms or "三级指标" in norms):
            return None
        columns: dict[str, int] = {}
        for i, norm in enumerate(norms):
            column = _indicator_column(norm)
            if column and column not in columns:
                columns[column] = i
        return columns

    def start_indicators(
        self, state: _FormState, columns: dict[str, int] | None, width: int, line: int | None = None
    ) -> None:
        state.section = "indicators"
        if columns is None:
            if state.indicator_columns is None:
                self.problem(
                    line, _("绩效指标表缺少表头（一级指标、二级指标……），按标准列序读取。")
                )
                state.indicator_columns = dict(_DEFAULT_INDICATORS)
                state.indicator_width = _DEFAULT_INDICATOR_WIDTH
            return
        if state.indicator_data_seen:
            # A header repeated after a page break: keep the layout read first.
            return
        state.indicator_columns = columns
        state.indicator_width = max(width, max(columns.values()) + 1)

    def indicator_section_row(self, row: Row, norms: list[str]) -> None:
        state = self.state
        if state is None:  # pragma: no cover - only called with a form open
            return
        if self.is_total(norms):
            self.total_row(state, row, norms)
            return
        columns = self.indicator_header(norms)
        if columns is not None:
            self.start_indicators(state, columns, len(row.cells))
            return
        if not state.indicator_data_seen and self.is_header_continuation(state, norms):
            return
        if any(_funding_kind(n) for n in norms[:3]) or self.is_goal_header(norms):
            self.problem(
                row.line,
                _("绩效指标表中出现了资金或目标行，未读取：%(text)s")
                % {"text": self.row_snippet(row.cells)},
            )
            return
        self.indicator_row(state, row)

    @staticmethod
    def is_header_continuation(state: _FormState, norms: list[str]) -> bool:
        """Second header row (年度 / 指标值 split over two rows): fill missing columns, skip."""
        found = [(i, _indicator_column(n)) for i, n in enumerate(norms) if n]
        if not found or any(column is None for _i, column in found):
            return False
        columns = state.indicator_columns
        if columns is not None:
            for i, column in found:
                columns.setdefault(column, i)
        return True

    def aligned(self, state: _FormState, row: Row) -> list[Cell]:
        """Return the row's cells lined up with the header, whatever merges dropped."""
        width = state.indicator_width
        cells = list(row.cells)
        while len(cells) > width and not cells[-1].text.strip():
            cells.pop()
        while len(cells) > width and not cells[0].text.strip():
            cells.pop(0)
        if len(cells) >= width:
            if len(cells) > width:
                self.problem(row.line, _("本行的单元格比表头多，多出的部分未读取。"))
            return cells[:width]
        # Merged cells that disappeared are usually the repeated labels on the left;
        # if that does not give numbers where the weights are, try the right side.
        pad = [Cell(text="", line=row.line)] * (width - len(cells))
        columns = state.indicator_columns or _DEFAULT_INDICATORS
        for candidate in (pad + cells, cells + pad):
            if all(
                parse_number(candidate[columns[c]].text)[1]
                for c in ("weight", "score")
                if c in columns
            ):
                return candidate
        return pad + cells

    def indicator_row(self, state: _FormState, row: Row) -> None:
        columns = state.indicator_columns or _DEFAULT_INDICATORS
        cells = self.aligned(state, row)

        def cell(column: str) -> Cell | None:
            at = columns.get(column)
            return cells[at] if at is not None and at < len(cells) else None

        def text(column: str) -> str:
            found = cell(column)
            return found.text if found else ""

        level1 = _label(text("level1"))
        level2 = _label(text("level2"))
        if level1:
            if level1 != state.level1:
                state.level2 = ""  # a new first level does not inherit the old second level
            state.level1 = level1
        if level2:
            state.level2 = level2

        name = _clean(text("name"))
        weight_cell, score_cell = cell("weight"), cell("score")
        weight = self.number(weight_cell) if weight_cell else None
        score = self.number(score_cell) if score_cell else None
        if _norm(name) in _PLACEHOLDERS:
            if weight is None and score is None:
                return  # a second level with no indicator under it: nothing to import
            self.problem(row.line, _("有分值或得分的指标没有三级指标名称。"))
            name = ""
        state.indicator_data_seen = True
        if not state.level1:
            self.problem(row.line, _("指标“%(name)s”没有一级指标。") % {"name": _snippet(name)})
        deviation = _clean(text("deviation"))
        state.form.indicators.append(
            IndicatorData(
                level1=state.level1,
                level2=state.level2,
                name=name,
                target=_clean(text("target")),
                actual=_clean(text("actual")),
                weight=weight,
                score=score,
                deviation="" if _norm(deviation) in _PLACEHOLDERS else deviation,
                line=row.line,
            )
        )

    @staticmethod
    def is_total(norms: list[str]) -> bool:
        first = next((n for n in norms if n), "")
        return first == "总分" or (first.startswith("总分:") and len(first) <= 20)

    def total_row(self, state: _FormState, row: Row, norms: list[str]) -> None:
        if state.has_total:
            self.problem(row.line, _("重复的总分行，未读取。"))
            return
        state.has_total = True
        state.section = "done"
        values: list[Cell] = []
        for cell, norm in zip(row.cells, norms, strict=True):
            if not norm:
                continue
            if norm.startswith("总分"):
                rest = norm[2:].lstrip(":")
                if rest:
                    values.append(Cell(text=rest, line=cell.line))
                continue
            values.append(cell)
        # Printed layout: 总分 | 100 (the maximum) | stated total | ...
        if len(values) >= 2:
            maximum = self.number(values[0])
            state.form.stated_total = self.number(values[1])
            if maximum is not None and maximum != 100:
                self.problem(
                    values[0].line, _("总分行的满分是%(value)s，不是100。") % {"value": maximum}
                )
            for extra in values[2:]:
                if _norm(extra.text) not in _PLACEHOLDERS:
                    self.problem(
                        extra.line,
                        _("总分行中多余的内容未读取：%(text)s") % {"text": _snippet(extra.text)},
                    )
        elif len(values) == 1:
            value = self.number(values[0])
            if value == 100:
                self.problem(
                    values[0].line,
                    _("总分行只有一个数字100，无法确定是满分还是自评总分，按未填写自评总分处理。"),
                )
            else:
                state.form.stated_total = value


def parse_rows(rows: list[Row]) -> tuple[list[FormData], list[Problem]]:
    """Read every 项目支出绩效自评表 in the rows; never raises, problems say what was not read.

    A form is returned when it has at least a project name and a year; what else
    it lacks is listed in the problems. Values are kept as written: nothing is
    checked against the scoring rules here.
    """
    parser = _Parser()
    try:
        parser.run(rows)
    except Exception as error:  # noqa: BLE001 - a bug must become a reported problem, not a crash
        parser.problems.append(
            Problem(
                None,
                _("读取时发生内部错误（%(error)s），结果可能不完整。")
                % {"error": type(error).__name__},
            )
        )
    return parser.forms, parser.problems
