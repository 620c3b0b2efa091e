"""Reading the body of a form: funding, goal, indicator and total rows into its FormData."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from common.translation import _
from evaluations.core.evaluation_data import FormData, IndicatorData
from evaluations.core.grades import is_grade_text
from evaluations.importer.cells import (
    _PLACEHOLDERS,
    Cell,
    Row,
    category_label,
    clean_cell,
    label_key,
    parse_number,
    snippet,
)
from evaluations.importer.indicator_columns import (
    combined_target,
    hint_problem,
    is_ellipsis_row,
    split_level1_weight,
    split_target_header,
)
from evaluations.importer.money import MoneyBlock, read_row
from evaluations.importer.results import Problem
from evaluations.importer.sections import (
    _DEFAULT_INDICATOR_WIDTH,
    _DEFAULT_INDICATORS,
    indicator_column,
)


@dataclass
class _FormState:
    """A form being read, with what the parser needs to know about its layout."""

    form: FormData
    section: str = "header"  # header, funding, goal, indicators, done
    has_title: bool = True
    money: MoneyBlock = field(default_factory=MoneyBlock)
    goal_columns: tuple[int | None, int | None, int] | None = None
    indicator_columns: dict[str, int] | None = None
    indicator_width: int = _DEFAULT_INDICATOR_WIDTH
    indicator_header_norms: list[str] = field(default_factory=list)
    # First levels whose label states a weight ("产出指标(70分)"): label -> (weight, line).
    level1_weights: dict[str, tuple[Decimal, int | None]] = field(default_factory=dict)
    indicator_data_seen: bool = False
    level1: str = ""
    level2: str = ""
    has_total: bool = False
    default_layout_reported: set[str] = field(default_factory=set)


class _BodyReader:
    """Fills the open form from its body rows; the parser decides which row is which."""

    problems: list[Problem]

    def problem(self, line: int | None, message: str) -> None:
        self.problems.append(Problem(line=line, message=message))

    # -- funding

    def funding_row(self, state: _FormState, row: Row, label_at: int, kind: str) -> None:
        read_row(state.money, state.form, row, label_at, kind)

    def number(self, cell: Cell) -> Decimal | None:
        value, ok = parse_number(cell.text)
        if not ok:
            self.problem(
                cell.line,
                _("无法识别的数字“%(text)s”，按空白处理。") % {"text": snippet(cell.text)},
            )
        return value

    # -- goal

    def goal_header(self, state: _FormState, row: Row, norms: list[str]) -> None:
        target_at = next((i for i, n in enumerate(norms) if n == "预期目标"), None)
        actual_at = next((i for i, n in enumerate(norms) if n.startswith("实际完成情况")), None)
        state.goal_columns = (target_at, actual_at, len(norms))
        if target_at is None and actual_at is None:
            # Older layout: 年度总体目标 | <goal text> in one row.
            texts = [
                clean_cell(c.text)
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
            target = clean_cell(row.cells[columns[0]].text)
            actual = clean_cell(row.cells[columns[1]].text)
            if target:
                form.goal_target = f"{form.goal_target}\n{target}" if form.goal_target else target
            if actual:
                form.goal_actual = f"{form.goal_actual}\n{actual}" if form.goal_actual else actual
            return
        texts = [
            clean_cell(c.text)
            for c, n in zip(row.cells, norms, strict=True)
            if n and n != "年度总体目标"
        ]
        self.add_goal_texts(form, texts)

    @staticmethod
    def add_goal_texts(form_data: FormData, texts: list[str]) -> None:
        for text in texts:
            # Cells come in reading order: the goal first, then what was achieved.
            if not form_data.goal_target and not form_data.goal_actual:
                form_data.goal_target = text
            elif not form_data.goal_actual:
                form_data.goal_actual = text
            else:
                form_data.goal_actual = f"{form_data.goal_actual}\n{text}"

    # -- indicators

    def start_indicators(
        self,
        state: _FormState,
        columns: dict[str, int] | None,
        width: int,
        line: int | None = None,
        header_norms: list[str] | None = None,
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
        state.indicator_header_norms = header_norms or []

    @staticmethod
    def is_header_continuation(state: _FormState, norms: list[str]) -> bool:
        """Second header row (年度 / 指标值 split over two rows): fill missing columns, skip."""
        split = split_target_header(
            state.indicator_columns, state.indicator_header_norms, norms, state.indicator_width
        )
        if split is not None:
            state.indicator_columns, state.indicator_width = split
            return True
        found = [(i, indicator_column(n)) for i, n in enumerate(norms) if n]
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
                # A second header row may place a column beyond the table's width.
                if c in columns and columns[c] < len(candidate)
            ):
                return candidate
        return pad + cells

    def indicator_row(self, state: _FormState, row: Row) -> None:
        norms = [label_key(c.text) for c in row.cells]
        if is_ellipsis_row(norms):
            return
        columns = state.indicator_columns or _DEFAULT_INDICATORS
        cells = self.aligned(state, row)

        def cell(column: str) -> Cell | None:
            at = columns.get(column)
            return cells[at] if at is not None and at < len(cells) else None

        def text(column: str) -> str:
            found = cell(column)
            return found.text if found else ""

        level1, stated_weight = split_level1_weight(category_label(text("level1")))
        level2 = category_label(text("level2"))
        if stated_weight is not None:
            state.level1_weights.setdefault(level1, (stated_weight, row.line))
        if level1:
            if level1 != state.level1:
                state.level2 = ""  # a new first level does not inherit the old second level
            state.level1 = level1
        if level2:
            state.level2 = level2
        hint = hint_problem(row, norms)
        if hint is not None:
            # Its 一级/二级 labels still head the rows below; the row itself is not read.
            self.problems.append(hint)
            return

        # "指标1：" before a name stays: the samples store it so, and a re-import must match.
        name = clean_cell(text("name"))
        weight_cell, score_cell = cell("weight"), cell("score")
        weight = self.number(weight_cell) if weight_cell else None
        score = self.number(score_cell) if score_cell else None
        if label_key(name) in _PLACEHOLDERS:
            if weight is None and score is None:
                return  # a second level with no indicator under it: nothing to import
            self.problem(row.line, _("有分值或得分的指标没有三级指标名称。"))
            name = ""
        state.indicator_data_seen = True
        if not state.level1:
            self.problem(row.line, _("指标“%(name)s”没有一级指标。") % {"name": snippet(name)})
        deviation = clean_cell(text("deviation"))
        target = clean_cell(text("target"))
        if "comparator" in columns or "unit" in columns:
            target, nature = combined_target(text("comparator"), text("target"), text("unit"))
            if nature is not None:
                self.problem(
                    row.line,
                    _("指标性质“%(nature)s”无法识别，按原文写在指标值前。") % {"nature": nature},
                )
        state.form.indicators.append(
            IndicatorData(
                level1=state.level1,
                level2=state.level2,
                name=name,
                target=target,
                actual=clean_cell(text("actual")),
                weight=weight,
                score=score,
                deviation="" if label_key(deviation) in _PLACEHOLDERS else deviation,
                line=row.line,
            )
        )

    # -- total

    @staticmethod
    def _followed_by_blank(row: Row, value: Cell) -> bool:
        """True when the cell right after ``value`` is there and blank (an empty 得分)."""
        position = next((i for i, cell in enumerate(row.cells) if cell is value), None)
        return (
            position is not None
            and position + 1 < len(row.cells)
            and not row.cells[position + 1].text.strip()
        )

    def total_row(self, state: _FormState, row: Row, norms: list[str]) -> None:
        if state.has_total:
            self.problem(row.line, _("重复的总分行，未读取。"))
            return
        state.has_total = True
        state.section = "done"
        values: list[Cell] = []
        graded = False  # the grade cell that only this application's own files print
        for cell, norm in zip(row.cells, norms, strict=True):
            if not norm:
                continue
            if norm.startswith("总分"):
                rest = norm[2:].lstrip(":")
                if rest:
                    values.append(Cell(text=rest, line=cell.line))
                continue
            if is_grade_text(cell.text):
                graded = True
                continue  # the grade our own exports print beside the total: computed, not read
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
                if label_key(extra.text) not in _PLACEHOLDERS:
                    self.problem(
                        extra.line,
                        _("总分行中多余的内容未读取：%(text)s") % {"text": snippet(extra.text)},
                    )
        elif len(values) == 1:
            value = self.number(values[0])
            if value == 100 and (graded or self._followed_by_blank(row, values[0])):
                # The printed layout (总分 | 100 | stated total | grade) with the stated total
                # blank: the 100 is the full mark. Known by the grade only this application
                # prints, or by the empty 得分 cell after it (an .xlsx keeps it).
                state.form.stated_total = None
            elif value == 100:
                self.problem(
                    values[0].line,
                    _("总分行只有一个数字100，无法确定是满分还是自评总分，按未填写自评总分处理。"),
                )
            else:
                state.form.stated_total = value
