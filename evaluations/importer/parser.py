"""The walk over a file's rows: one form open at a time, each row read as the part it is."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.conf import settings

from common.translation import _
from evaluations.core.evaluation_data import FormData
from evaluations.importer import money
from evaluations.importer.around import around_items, header_item, read_around
from evaluations.importer.body import _BodyReader, _FormState
from evaluations.importer.cells import Row, clean_cell, label_key, row_snippet, snippet
from evaluations.importer.indicator_columns import level1_weight_problems
from evaluations.importer.results import Problem
from evaluations.importer.sections import (
    _ATTACHMENT,
    _HEADER_LABELS,
    _YEAR_ANYWHERE,
    _YEAR_CELL,
    find_title,
    funding_kind_of,
    indicator_header,
    is_department_wide,
    is_goal_header,
    is_total,
    looks_like_form_content,
    looks_like_indicator,
    next_value,
)


def too_many_forms() -> Problem:
    """The problem of a file with more forms than IMPORT_MAX_FORMS_PER_FILE."""
    return Problem(
        None,
        _("文件中的自评表超过 %(limit)s 张（上限），本文件未导入：请拆分成多个文件后再导入。")
        % {"limit": settings.IMPORT_MAX_FORMS_PER_FILE},
    )


def department_wide(title: str | None) -> str:
    """Why a 部门整体支出绩效自评表 is not imported (``title``: as the file writes it)."""
    if title is None:
        return _(
            "这是部门整体支出绩效自评表（有“年度目标1”这样带分值的年度目标），不是项目支出"
            "绩效自评表：本系统只收项目支出绩效自评表，未导入。"
        )
    return _(
        "“%(title)s”是部门整体支出绩效自评表，不是项目支出绩效自评表：本系统只收项目支出"
        "绩效自评表，已跳过。"
    ) % {"title": snippet(title)}


class _TooManyForms(Exception):
    """More forms begin in the file than IMPORT_MAX_FORMS_PER_FILE: reading stops."""


class _Parser(_BodyReader):
    """Walks the rows once, keeping one form open at a time."""

    def __init__(self) -> None:
        self.forms: list[FormData] = []
        self.problems: list[Problem] = []
        self.state: _FormState | None = None
        self.orphans_reported = False
        self.skipping_other_form = False
        self.reported_forms = 0  # forms dropped or skipped, each with its own problem
        self.started_forms = 0
        self.department_wide_line: int | None = None  # a row only department-wide forms have
        self.max_forms = settings.IMPORT_MAX_FORMS_PER_FILE
        self.pending_units: list[tuple[str, int, str]] = []  # 单位：元 above the next form

    # -- form boundaries

    def open_form(self, line: int, *, has_title: bool) -> _FormState:
        self.close_form()
        self.started_forms += 1
        if self.started_forms > self.max_forms:
            raise _TooManyForms
        self.skipping_other_form = False
        self.state = _FormState(
            form=FormData(line=line, execution_weight=None), has_title=has_title
        )
        self.state.money.units += self.pending_units
        self.pending_units = []
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
        money_problems, money_read = money.finish(state.money, form)
        self.problems += money_problems
        if not money_read:
            self.problems.append(money.not_imported(form))
            self.reported_forms += 1
            return
        self.problems.extend(level1_weight_problems(state.level1_weights, form.indicators))
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

    def run(self, rows: Iterable[Row]) -> None:
        """Read the rows in order; they may come one at a time (text.iter_rows)."""
        first: int | None = None
        try:
            for row in rows:
                if first is None:
                    first = row.line
                self.row(row)
        except _TooManyForms:
            # Nothing of such a file is imported: a real department never comes near.
            self.state = None
            self.forms = []
            self.problems = [too_many_forms()]
            return
        self.close_form()
        if not self.forms and not self.reported_forms and self.department_wide_line:
            # No title, but goals weighted like 年度目标1:(80分): a department-wide form.
            self.problem(self.department_wide_line, department_wide(None))
            return
        if not self.forms and not self.reported_forms:
            self.problem(
                first or 1,
                _("没有找到项目支出绩效自评表：文件内容不是自评表，或缺少标题和项目名称。"),
            )

    def row(self, row: Row) -> None:
        cells = row.cells
        norms = [label_key(c.text) for c in cells]
        if not any(norms):
            return
        title_at = find_title(norms)
        if title_at is not None:
            self.title(row, title_at, norms)
            return
        if self.skipping_other_form:
            return
        state = self.state
        if state is None and self.department_wide_line is None:
            if any(is_department_wide(n, title=False) for n in norms):
                self.department_wide_line = row.line
        around = around_items(row, norms)
        if around is not None:
            self.problems.extend(
                read_around(
                    around,
                    state.form if state else None,
                    below_table=state is not None and state.section == "done",
                )
            )
            return
        section = state.section if state else None
        if section != "indicators":
            units, row, norms = money.unit_lines(row, norms)
            if units:
                # 单位：元 between the title and the table, or above the title of the next form.
                if state is None or section == "done":
                    self.pending_units += units
                else:
                    state.money.units += units
                if not any(norms):
                    return
            cells = row.cells

        if section == "indicators":
            if self.header_tokens(row, norms, strict=True):
                return
            self.indicator_section_row(row, norms)
            return
        if section == "done":
            if self.header_tokens(row, norms, strict=True):
                return
            if looks_like_form_content(norms):
                self.problem(
                    row.line,
                    _("总分行之后的表格内容不属于任何自评表，未读取：%(text)s")
                    % {"text": row_snippet(cells)},
                )
            return
        if self.header_tokens(row, norms, strict=False):
            return
        if state is None:
            if looks_like_form_content(norms) and not self.orphans_reported:
                self.orphans_reported = True
                self.problem(row.line, _("表格内容出现在自评表标题和项目名称之前，未读取。"))
            return
        self.body_row(state, row, norms)

    def title(self, row: Row, at: int, norms: list[str]) -> None:
        norm = norms[at]
        if is_department_wide(norm, title=True):
            self.close_form()
            self.skipping_other_form = True
            self.reported_forms += 1
            self.problem(row.cells[at].line, department_wide(row.cells[at].text))
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
                value = clean_cell(parts[1]) if ":" in norm and len(parts) > 1 else ""
                if not value:
                    i, value = next_value(cells, norms, i)
                if value:
                    setattr(state.form, attr, value)
            elif (item := header_item(cells[i])) is not None:
                # 项目负责人及电话 beside 项目名称: said not read, with its value, once.
                if not item.value:
                    i, item.value = next_value(cells, norms, i)
                self.problems.extend(read_around([item], state.form))
            else:
                self.problem(
                    cells[i].line,
                    _("表头中无法识别的内容：%(text)s") % {"text": snippet(cells[i].text)},
                )
            i += 1
        return True

    # -- body: funding, goals, indicators, total

    def body_row(self, state: _FormState, row: Row, norms: list[str]) -> None:
        cells = row.cells
        if money.is_money_header(norms):
            state.section = "funding"
            money.read_header(state.money, row, norms)
            return
        for i, norm in enumerate(norms[:3]):
            kind = funding_kind_of(norm)
            if kind:
                state.section = "funding"
                self.funding_row(state, row, i, kind)
                return
        if is_goal_header(norms):
            state.section = "goal"
            self.goal_header(state, row, norms)
            return
        columns = indicator_header(norms)
        if columns is not None:
            self.start_indicators(state, columns, len(cells), header_norms=norms)
            return
        if is_total(norms):
            self.total_row(state, row, norms)
            return
        if looks_like_indicator(norms):
            # The indicator header is missing: read the row with the printed layout.
            self.start_indicators(state, None, len(cells), line=row.line)
            self.indicator_row(state, row)
            return
        if state.section == "goal":
            self.goal_text(state, row, norms)
            return
        if state.section in ("header", "funding") and money.read_label_row(state.money, row, norms):
            return
        if state.section == "funding" and money.read_other_row(state.money, row, norms):
            return
        self.problem(row.line, _("无法识别的行：%(text)s") % {"text": row_snippet(cells)})

    def indicator_section_row(self, row: Row, norms: list[str]) -> None:
        state = self.state
        if state is None:  # pragma: no cover - only called with a form open
            return
        if is_total(norms):
            self.total_row(state, row, norms)
            return
        columns = indicator_header(norms)
        if columns is not None:
            self.start_indicators(state, columns, len(row.cells), header_norms=norms)
            return
        if not state.indicator_data_seen and self.is_header_continuation(state, norms):
            return
        if any(funding_kind_of(n) for n in norms[:3]) or is_goal_header(norms):
            self.problem(
                row.line,
                _("绩效指标表中出现了资金或目标行，未读取：%(text)s")
                % {"text": row_snippet(row.cells)},
            )
            return
        self.indicator_row(state, row)
